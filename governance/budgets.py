"""Budgets: spend is reserved with one conditional UPDATE per holder, so concurrent requests cannot overspend.

Budgets are kept in the organisation's currency (settings.ORG_CURRENCY). An amount in another currency is charged at
its configured rate (settings.EXCHANGE_RATES) and refused when there is none, never added as if it were the same.

`UPDATE … SET month_spent = month_spent + x WHERE id = … AND month_spent + x <= budget` (fastpath.writes) is
atomic on PostgreSQL (the row lock re-checks the condition) and on SQLite (one writer at a time).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import F

from fastpath import writes
from orchestration.models import Agent, Department

CENT = Decimal("0.01")  # budgets' precision (orchestration's month_spent)


def month_start(now: dt.datetime) -> dt.date:
    return now.date().replace(day=1)


def spent_this_month(holder: Agent | Department, now: dt.datetime) -> Decimal:
    return holder.month_spent if holder.spend_month == month_start(now) else Decimal("0")


def charge(amount: Decimal, currency: str) -> Decimal | None:
    """The amount in the budgets' currency: as given in it (or with none named), else at its configured rate;
    None when no rate is configured for it."""
    code = (currency or settings.ORG_CURRENCY).upper()
    if code == settings.ORG_CURRENCY:
        return amount
    rate = settings.EXCHANGE_RATES.get(code)
    return None if rate is None else (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def reserve_spend(agent: Agent, amount: Decimal, currency: str, now: dt.datetime) -> str | None:
    """Reserve the amount against the agent's and its department's month; return why not, or None.

    Call inside the decision's transaction: a later rollback releases the reservation with it. The agent's row is
    written first, then the department's (the lock order orchestration.kill_switch documents).
    """
    charged = charge(amount, currency)
    if charged is None:
        return (
            f"Budgets are kept in {settings.ORG_CURRENCY} and no exchange rate for {currency.upper()} is configured "
            f"(EXCHANGE_RATES): {amount} {currency.upper()} cannot be checked against them."
        )
    month = month_start(now)
    if not writes.add_within_budget(Agent, agent.pk, charged, month):
        return f"Agent {agent.slug} has not enough budget left this month for {charged} {settings.ORG_CURRENCY}."
    if not writes.add_within_budget(Department, agent.department_id, charged, month):
        Agent.objects.filter(pk=agent.pk).update(month_spent=F("month_spent") - charged)  # its share, given back
        return (
            f"Department {agent.department.name} has not enough budget left this month for "
            f"{charged} {settings.ORG_CURRENCY}."
        )
    return None


def release_spend(agent_id: int, department_id: int, amount: Decimal, reserved_at: dt.datetime) -> None:
    """Give back a reservation whose action did not happen (only while still in the same month)."""
    month = month_start(reserved_at)
    for model, pk in ((Agent, agent_id), (Department, department_id)):
        model.objects.filter(pk=pk, spend_month=month).update(month_spent=F("month_spent") - amount)
