"""Budgets: spend is reserved with one conditional UPDATE, so concurrent requests cannot overspend.

`UPDATE … SET month_spent = month_spent + x WHERE id = … AND month_spent + x <= budget` is atomic on
PostgreSQL (the row lock re-checks the condition) and on SQLite (one writer at a time).
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Model, Q

from orchestration.models import Agent, Department


def month_start(now: dt.datetime) -> dt.date:
    return now.date().replace(day=1)


def spent_this_month(holder: Agent | Department, now: dt.datetime) -> Decimal:
    return holder.month_spent if holder.spend_month == month_start(now) else Decimal("0")


def _reserve(model: type[Model], pk: int, amount: Decimal, month: dt.date) -> bool:
    same_month = Q(spend_month=month, month_spent__lte=F("monthly_budget") - amount)
    new_month = ~Q(spend_month=month) | Q(spend_month__isnull=True)
    updated = model.objects.filter(pk=pk).filter(same_month).update(month_spent=F("month_spent") + amount)
    if not updated:
        updated = (
            model.objects.filter(pk=pk)
            .filter(new_month, monthly_budget__gte=amount)
            .update(month_spent=amount, spend_month=month)
        )
    return bool(updated)


def reserve_spend(agent: Agent, amount: Decimal, now: dt.datetime) -> str | None:
    """Reserve the amount against the agent's and its department's month; return why not, or None.

    Call inside the decision's transaction: a later rollback releases the reservation with it.
    """
    month = month_start(now)
    try:
        with transaction.atomic():  # a savepoint: the agent's share is released if the department says no
            if not _reserve(Agent, agent.pk, amount, month):
                raise _OverBudget(f"Agent {agent.slug} has not enough budget left this month for {amount}.")
            if not _reserve(Department, agent.department_id, amount, month):
                raise _OverBudget(
                    f"Department {agent.department.name} has not enough budget left this month for {amount}."
                )
    except _OverBudget as exc:
        return str(exc)
    return None


class _OverBudget(Exception):
    pass


def release_spend(agent_id: int, department_id: int, amount: Decimal, reserved_at: dt.datetime) -> None:
    """Give back a reservation whose action did not happen (only while still in the same month)."""
    month = month_start(reserved_at)
    for model, pk in ((Agent, agent_id), (Department, department_id)):
        model.objects.filter(pk=pk, spend_month=month).update(month_spent=F("month_spent") - amount)
