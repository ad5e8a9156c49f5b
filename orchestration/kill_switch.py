"""The kill switch and its milder forms: pause, resume and kill an agent or a whole department.

One lock order, which every transaction that changes an agent's work follows, so that a kill and the work it
stops can wait for each other but never in a cycle (PostgreSQL would break the cycle by failing one of them:
a kill or a result lost to a person who asked for neither):

1. the kill-switch locks of the agent and its department (`_LOCK_CLASSES`, advisory): exclusive for a status
   change, shared (`hold_off_kills`) for everything done for an agent: a decision (governance.evaluation), a
   workflow step's routing, its result and a delegation from it (workflows.runtime), a person's ruling on a request
   (governance.approvals.decide_approval) or its expiry (escalate_overdue). Taken first, before any row, so
   a kill and a step of the same agent or department take turns as a whole;
2. the progress locks of the workflow runs whose steps it locks (workflows.step_reads.serialize_progress,
   advisory, in run order): failing a step stops its run's other steps, whichever agent holds them, so a kill,
   a cancel, and a step of another agent routed, failed or ruled on at the same moment take turns per run. A
   ruling takes it through `governance.approvals.approval_deciding`, before it locks the request;
3. rows: workflow steps, then approvals, then the agent's and department's rows (status, spend). A status
   change writes its own agent's or department's row right after its exclusive lock: nothing else writes that
   row without holding 1;
4. the audit chain head, last (inline sequencing): service functions append their events at the end of the
   transaction (`audit.chain.batch`).

Routing takes 1 for the agent it chose before locking the step it routes, so it reads the step without a lock
first and checks it is unchanged once locked. Proven with real threads on PostgreSQL in
tests/orchestration/test_kill_races.py and test_kill_lock_order.py.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction

from audit import chain
from audit.models import AuditEvent
from orchestration import signals
from orchestration.models import Agent, Department, Status

# PostgreSQL advisory lock classes, (class, id): the lock manager queues a kill (exclusive) ahead of
# decisions that arrive after it (shared), where row locks would let a stream of shared lockers starve it.
_LOCK_CLASSES = {Agent: 7_204_120, Department: 7_204_121}


def why_it_may_not_act(agent: Agent) -> str | None:
    """Why a paused or killed agent, or an agent of a paused or killed department, may not act; None when it may.

    The one reading of status that deciding an action and approving a held one both apply."""
    if agent.status != Status.ACTIVE:
        return f"Agent {agent.slug} is {agent.status}: it may not act."
    if agent.department.status != Status.ACTIVE:
        return f"Department {agent.department.name} is {agent.department.status}: its agents may not act."
    return None


def hold_off_kills(agent_id: int, department_id: int | None) -> None:
    """Until commit, a kill of this agent or its department waits for this transaction; and this waits for a
    kill already under way, so what it reads next has the status that holds when it commits. A department
    not known yet (None) is held off by a second call once it is."""
    department = (_LOCK_CLASSES[Department], department_id) if department_id is not None else None
    _lock(_LOCK_CLASSES[Agent], agent_id, exclusive=False, also=department)


def _lock(lock_class: int, pk: int, *, exclusive: bool, also: tuple[int, int] | None = None) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite has one writer at a time: a kill and a decision never overlap
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    keys = [(lock_class, pk), *([also] if also else [])]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(f"{function}(%s, %s)" for _ in keys),
            [value for cls, key in keys for value in (cls, key % 2_147_483_647)],
        )


def change_agent_status(agent: Agent, status: Status, *, by=None, reason: str = "") -> bool:
    """Pause, resume or kill an agent; return whether anything changed. The reason goes into the audit chain."""
    return _change_status(agent, status, by=by, reason=reason, agent_ids=lambda: [agent.pk])


def change_department_status(department: Department, status: Status, *, by=None, reason: str = "") -> bool:
    """Pause, resume or kill a whole department: its agents may not act while it is not active."""
    return _change_status(
        department,
        status,
        by=by,
        reason=reason,
        agent_ids=lambda: list(department.agents.values_list("pk", flat=True)),
    )


@transaction.atomic(durable=True)  # a kill commits on its own, at once, never with another change
@chain.batch()
def _change_status(holder: Agent | Department, status: Status, *, by, reason: str, agent_ids) -> bool:
    """The kill switch and its milder forms: audited, and a kill stops the work under way at once.

    Its events join the chain at the end, after the steps it stops are locked: recording a step's result locks
    the step and then (inline sequencing) the chain head, so a kill holding the head while it waited for a step
    would deadlock with it; and (queued) an event written before that wait would be chained ahead of the result
    the kill waited for (tests/orchestration/test_kill_lock_order.py).
    """
    model = type(holder)
    _lock(_LOCK_CLASSES[model], holder.pk, exclusive=True)
    current = model.objects.get(pk=holder.pk)
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
        after={"status": status, **({"reason": reason.strip()} if reason.strip() else {})},
    )
    if status == Status.KILLED:
        label = current.slug if isinstance(current, Agent) else current.name
        signals.agents_stopped.send(model, agent_ids=agent_ids(), reason=f"{kind} {label} was killed")
    signals.registry_changed.send(model)  # a revived agent is routable at once in this process
    transaction.on_commit(lambda: signals.registry_changed.send(model))  # rankings cached meanwhile saw the old status
    return True


def status_changes_for(user, holder: Agent | Department) -> list[Status]:
    """The statuses this person may set an agent or a department to now (department scope is the caller's check).

    Pausing and resuming need pause_agent; killing an agent, or reviving a killed agent or department, needs
    kill_agent too. A department is killed in the admin only: from its page it is paused or resumed.
    """
    if not user.has_perm("orchestration.pause_agent"):
        return []
    may_kill = user.has_perm("orchestration.kill_agent")
    if holder.status == Status.KILLED:
        return [Status.ACTIVE] if may_kill else []
    changes = [Status.PAUSED if holder.status == Status.ACTIVE else Status.ACTIVE]
    return [*changes, Status.KILLED] if may_kill and isinstance(holder, Agent) else changes


@dataclass(frozen=True)
class StatusChange:
    """One line of an agent's or a department's status history, as the audit chain recorded it."""

    at: dt.datetime
    by: str
    before: str
    after: str
    reason: str

    @property
    def summary(self) -> str:
        """The change in words, like "Active → Paused"."""
        return " → ".join(
            Status(value).label if value in Status.values else value for value in (self.before, self.after)
        )


def status_history(holder: Agent | Department, limit: int = 20) -> list[StatusChange]:
    """Who paused, resumed or killed it, when and why: newest first, from the audit chain."""
    kind = holder._meta.model_name
    events = (
        AuditEvent.objects.filter(subject_type=kind, subject_id=str(holder.pk), kind=f"{kind}.status_changed")
        .select_related("actor")
        .order_by("-seq")[:limit]
    )
    return [
        StatusChange(
            at=event.occurred_at,
            by=_person(event),
            before=(event.before or {}).get("status", ""),
            after=(event.after or {}).get("status", ""),
            reason=(event.after or {}).get("reason", ""),
        )
        for event in events
    ]


def _person(event: AuditEvent) -> str:
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    return "Regent" if event.actor_label == "system" else event.actor_label.removeprefix("user:")
