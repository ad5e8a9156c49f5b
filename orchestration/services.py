"""State changes to the registry. Views, admin actions and tasks call these, never the ORM directly."""

from django.db import transaction

from governance import audit
from orchestration import keys, routing, workflows
from orchestration.models import Agent, Department, Status, Strategy


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
    if status == Status.KILLED:
        workflows.stop_agent_work([agent.pk], f"agent {current.slug} was killed")
    _forget_rankings_now_and_on_commit()  # a revived agent is routable at once in this process
    return True


@transaction.atomic
def change_department_status(department: Department, status: Status, *, by=None) -> bool:
    """Pause, resume or kill a whole department: its agents may not act while it is not active."""
    current = Department.objects.select_for_update().get(pk=department.pk)
    department.status = status
    if current.status == status:
        return False
    Department.objects.filter(pk=department.pk).update(status=status)
    audit.record(
        "department.status_changed",
        subject_type="department",
        subject_id=department.pk,
        actor=by,
        department_id=department.pk,
        before={"status": current.status},
        after={"status": status},
    )
    if status == Status.KILLED:
        agent_ids = list(department.agents.values_list("pk", flat=True))
        workflows.stop_agent_work(agent_ids, f"department {current.name} was killed")
    _forget_rankings_now_and_on_commit()
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


def _forget_rankings_now_and_on_commit() -> None:
    routing.forget_rankings()
    transaction.on_commit(routing.forget_rankings)  # a ranking cached before the commit saw the old status
