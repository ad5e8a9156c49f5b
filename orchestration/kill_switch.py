"""The kill switch and its milder forms: pause, resume and kill an agent or a whole department."""

from django.db import transaction

from audit import chain
from orchestration import signals
from orchestration.models import Agent, Department, Status


def change_agent_status(agent: Agent, status: Status, *, by=None) -> bool:
    """Pause, resume or kill an agent; return whether anything changed."""
    return _change_status(agent, status, by=by, agent_ids=lambda: [agent.pk])


def change_department_status(department: Department, status: Status, *, by=None) -> bool:
    """Pause, resume or kill a whole department: its agents may not act while it is not active."""
    return _change_status(
        department, status, by=by, agent_ids=lambda: list(department.agents.values_list("pk", flat=True))
    )


@transaction.atomic(durable=True)  # a kill commits on its own, at once, never with another change
def _change_status(holder: Agent | Department, status: Status, *, by, agent_ids) -> bool:
    """The kill switch and its milder forms: audited, and a kill stops the work under way at once."""
    model = type(holder)
    current = model.objects.select_for_update().get(pk=holder.pk)
    holder.status = status
    if current.status == status:
        return False
    model.objects.filter(pk=holder.pk).update(status=status)
    kind = model._meta.model_name
    chain.record(
        f"{kind}.status_changed",
        subject_type=kind,
        subject_id=holder.pk,
        actor=by,
        department_id=current.pk if isinstance(current, Department) else current.department_id,
        before={"status": current.status},
        after={"status": status},
    )
    if status == Status.KILLED:
        label = current.slug if isinstance(current, Agent) else current.name
        signals.agents_stopped.send(model, agent_ids=agent_ids(), reason=f"{kind} {label} was killed")
    signals.registry_changed.send(model)  # a revived agent is routable at once in this process
    transaction.on_commit(lambda: signals.registry_changed.send(model))  # rankings cached meanwhile saw the old status
    return True


def status_changes_for(user, agent: Agent) -> list[Status]:
    """The statuses this person may set the agent to now (its department scope is the caller's check).

    Pausing and resuming need pause_agent; killing, or reviving a killed agent, needs kill_agent too.
    """
    if not user.has_perm("orchestration.pause_agent"):
        return []
    may_kill = user.has_perm("orchestration.kill_agent")
    if agent.status == Status.KILLED:
        return [Status.ACTIVE] if may_kill else []
    changes = [Status.PAUSED if agent.status == Status.ACTIVE else Status.ACTIVE]
    return [*changes, Status.KILLED] if may_kill else changes
