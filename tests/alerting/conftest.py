"""Alert rules and rollup buckets written as the fold would leave them, at the governance fixtures' clock."""

import datetime as dt
from collections.abc import Callable

import pytest

from alerting.models import AlertRule
from dashboard.models import DAY, HOUR, DecisionRollup
from dashboard.rollups import add_up_department_buckets
from orchestration.models import Agent
from tests.support.clock import NOW

THIS_HOUR = NOW.replace(minute=0)


@pytest.fixture
def make_rule(db) -> Callable[..., AlertRule]:
    def make(kind: str, *, departments=(), **fields) -> AlertRule:
        rule = AlertRule.objects.create(name=fields.pop("name", f"{kind} rule"), kind=kind, **fields)
        rule.full_clean()
        rule.departments.set(departments)
        return rule

    return make


@pytest.fixture
def bucket(db) -> Callable[..., DecisionRollup]:
    """An hour bucket of an agent's decisions `hours_ago` hours before the current one (a day bucket `days_ago`
    days before today, when given), as the fold writes it."""

    def make(
        agent: Agent, verdict: str = "allow", *, hours_ago: int = 0, days_ago: int | None = None, **measures
    ) -> DecisionRollup:
        if days_ago is None:
            grain, start = HOUR, THIS_HOUR - dt.timedelta(hours=hours_ago)
        else:
            grain, start = DAY, THIS_HOUR.replace(hour=0) - dt.timedelta(days=days_ago)
        made = DecisionRollup.objects.create(
            grain=grain,
            start=start,
            department_id=agent.department_id,
            agent=agent,
            provider_id=agent.provider_id,
            verdict=verdict,
            **measures,
        )
        add_up_department_buckets()
        return made

    return make
