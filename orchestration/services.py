"""State changes to the registry. Views, admin actions and tasks call these, never the ORM directly."""

from django.db import transaction

from orchestration.models import Agent, Status


@transaction.atomic
def change_agent_status(agent: Agent, status: Status, *, by=None) -> bool:
    """Pause, resume or kill an agent; return whether anything changed."""
    updated = Agent.objects.filter(pk=agent.pk).exclude(status=status).update(status=status)
    agent.status = status
    return bool(updated)
