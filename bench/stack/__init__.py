"""A private, production-like Regent stack for load and fault scripts: its own PostgreSQL cluster and Redis on
loopback, and Regent's processes as the Procfile runs them, each of which can be killed or restarted."""
