"""Budgets: spend is reserved with one conditional UPDATE per holder, so concurrent requests cannot overspend.

`UPDATE … SET month_spent = month_spent + x WHERE id = … AND month_spent + x <= budget` (fastpath.writes) is
atomic on PostgreSQL (the row lock re-checks the condition) and on SQLite (one writer at a time).
"""

import datetime as dt
from decimal import Decimal

from django.db.models import F

from fastpath import writes
from orchestration.models import Agent, Department


def month_start(now: dt.datetime) -> dt.date:
    return now.date().replace(day=1)


def spent_this_month(holder: Agent | Department, now: dt.datetime) -> Decimal:
    return holder.month_spent if holder.spend_month == month_start(now) else Decimal("0")


def reserve_spend(agent: Agent, amount: Decimal, now: dt.datetime) -> str | None:
    """Reserve the amount against the agent's and its department's month; return why not, or None.

    Call inside the decision's transaction: a later rollback releases the reservation with it. The agent's row is
    written first, then the department's (the lock order orchestration.kill_switch documents).
    """
    month = month_start(now)
    if not writes.add_within_budget(Agent, agent.pk, amount, month):
        return f"Agent {agent.slug} has not enough budget left this month for {amount}."
    if not writes.add_within_budget(Department, agent.department_id, amount, month):
        Agent.objects.filter(pk=agent.pk).update(month_spent=F("month_spent") - amount)  # its share, given back
        return f"Department {agent.department.name} has not enough budget left this month for {amount}."
    return None


def release_spend(agent_id: int, department_id: int, amount: Decimal, reserved_at: dt.datetime) -> None:
    """Give back a reservation whose action did not happen (only while still in the same month)."""
    month = month_start(reserved_at)
    for model, pk in ((Agent, agent_id), (Department, department_id)):
        model.objects.filter(pk=pk, spend_month=month).update(month_spent=F("month_spent") - amount)
