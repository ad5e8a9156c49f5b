"""State changes to the registry. Views, admin actions and tasks call these, never the ORM directly."""

from django.db import transaction

from governance import audit
from orchestration import keys, routing, workflows
from orchestration.models import Agent, Department, Status, Strategy


def change_agent_status(agent: Agent, status: Status, *, by=None) -> bool:
    """Pause, resume or kill an agent; return whether anything changed."""
    return _change_status(agent, status, by=by, agent_ids=lambda: [agent.pk])


def change_department_status(department: Department, status: Status, *, by=None) -> bool:
    """Pause, resume or kill a whole department: its agents may not act while it is not active."""
    return _change_status(
        department, status, by=by, agent_ids=lambda: list(department.agents.values_list("pk", flat=True))
    )


@transaction.atomic
def _change_status(holder: Agent | Department, status: Status, *, by, agent_ids) -> bool:
    """The kill switch and its milder forms: audited, and a kill stops the work under way at once."""
    model = type(holder)
    current = model.objects.select_for_update().get(pk=holder.pk)
    holder.status = status
    if current.status == status:
        return False
    model.objects.filter(pk=holder.pk).update(status=status)
    kind = model._meta.model_name
    audit.record(
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
        workflows.stop_agent_work(agent_ids(), f"{kind} {label} was killed")
    routing.forget_rankings()  # a revived agent is routable at once in this process
    transaction.on_commit(routing.forget_rankings)  # a ranking cached before the commit saw the old status
    return True


@transaction.atomic
def issue_agent_key(agent: Agent, *, by=None) -> str:
    """Issue one more key for the agent (its other keys stay valid, for a rollover without downtime)."""
    raw_key = keys.issue_key(agent, by=by)
    _audit_keys("agent.key_issued", agent, by, {"prefix": raw_key[: keys.PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def rotate_agent_key(agent: Agent, *, by=None) -> str:
    """Revoke the agent's keys and issue a new one; the secret is returned once and never stored."""
    raw_key = keys.rotate_keys(agent, by=by)
    _audit_keys("agent.key_rotated", agent, by, {"prefix": raw_key[: keys.PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def revoke_agent_keys(agent: Agent, *, by=None) -> int:
    revoked = keys.revoke_keys(agent)
    if revoked:
        _audit_keys("agent.keys_revoked", agent, by, {"revoked": revoked})
    return revoked


def _audit_keys(kind: str, agent: Agent, by, after: dict) -> None:
    """Key events name the key by its prefix only: the secret never reaches the audit log."""
    audit.record(
        kind, subject_type="agent", subject_id=agent.pk, actor=by, department_id=agent.department_id, after=after
    )


@transaction.atomic
def set_strategy(
    *, cost: int, risk: int, customer_satisfaction: int, resilience: int, note: str = "", by=None
) -> Strategy:
    """Make these priorities the active ones; the previous strategy is kept as history."""
    previous = Strategy.objects.select_for_update().filter(is_active=True).first()
    Strategy.objects.filter(is_active=True).update(is_active=False)
    transaction.on_commit(routing.forget_rankings)
    strategy = Strategy.objects.create(
        cost=cost, risk=risk, customer_satisfaction=customer_satisfaction, resilience=resilience,
        note=note, created_by=by, is_active=True,
    )  # fmt: skip
    audit.record(
        "strategy.changed",
        subject_type="strategy",
        subject_id=strategy.pk,
        actor=by,
        before=_weights(previous) if previous else None,
        after={**_weights(strategy), "note": note},
    )
    return strategy


def _weights(strategy: Strategy) -> dict:
    return {"cost": strategy.cost, "risk": strategy.risk, "customer_satisfaction": strategy.customer_satisfaction,
            "resilience": strategy.resilience}  # fmt: skip


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
