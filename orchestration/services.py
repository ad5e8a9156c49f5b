"""State changes to the registry. Views, admin actions and tasks call these, never the ORM directly."""

from django.db import transaction

from governance import audit
from orchestration import keys
from orchestration.models import Agent, Status


@transaction.atomic
def change_agent_status(agent: Agent, status: Status, *, by=None) -> bool:
    """Pause, resume or kill an agent; return whether anything changed."""
    current = Agent.objects.select_for_update().get(pk=agent.pk)
    agent.status = status
    if current.status == status:
        return False
    Agent.objects.filter(pk=agent.pk).update(status=status)
    audit.record(
        "agent.status_changed",
        subject_type="agent",
        subject_id=agent.pk,
        actor=by,
        department_id=current.department_id,
        before={"status": current.status},
        after={"status": status},
    )
    return True


@transaction.atomic
def rotate_agent_key(agent: Agent, *, by=None) -> str:
    """Revoke the agent's keys and issue a new one; the secret is returned once and never stored."""
    raw_key = keys.rotate_keys(agent, by=by)
    audit.record(
        "agent.key_rotated",
        subject_type="agent",
        subject_id=agent.pk,
        actor=by,
        department_id=agent.department_id,
        after={"prefix": raw_key[: keys.PREFIX_LENGTH]},
    )
    return raw_key


@transaction.atomic
def revoke_agent_keys(agent: Agent, *, by=None) -> int:
    revoked = keys.revoke_keys(agent)
    if revoked:
        audit.record(
            "agent.keys_revoked",
            subject_type="agent",
            subject_id=agent.pk,
            actor=by,
            department_id=agent.department_id,
            after={"revoked": revoked},
        )
    return revoked
