"""What the registry announces to the layers above it, which it must not import.

The workflow runtime listens: a killed agent's unfinished steps fail at once, inside the kill's own
transaction, and a changed registry drops the cached routing rankings.
"""

from django.dispatch import Signal

agents_stopped = Signal()  # agent_ids: list[int], reason: str; sent inside the kill's transaction
registry_changed = Signal()  # an agent's status, a capability or a provider changed
