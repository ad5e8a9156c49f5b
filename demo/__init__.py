"""A simulated company for the demo: its organisation, its policies, its history and its live agents."""
