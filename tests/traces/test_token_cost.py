"""Token cost in the figures executives see: a department's cost on Strategy & value and the period's cost figure
count the model tokens its agents' traces reported, at the prices set when they arrived; scope still applies."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from dashboard.kpis.tiles import _figures
from dashboard.kpis.value import cost_and_value
from dashboard.periods import period_for
from traces.models import Span


def span(agent, cost: str, **fields) -> Span:
    return Span.objects.create(
        agent=agent,
        department=agent.department,
        trace_id="ab" * 16,
        span_id=f"{Span.objects.count() + 1:016x}",
        name="chat gpt-4o",
        started_at=timezone.now() - dt.timedelta(minutes=5),
        duration_us=900_000,
        request_model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
        cost=Decimal(cost),
        **fields,
    )


def test_a_departments_cost_includes_its_agents_token_cost(alice, bob, finance_agent, support_agent):
    # Given Finance's agent made model calls costing 1.25 and 0.50, Support's one costing 4.00, in the last 24 hours
    span(finance_agent, "1.25")
    span(finance_agent, "0.50")
    span(support_agent, "4.00")
    period = period_for("24h", timezone.now())

    # When alice (every department) and bob (Finance only) read cost per department and the period's cost figure
    everyone = {row.name: row.cost for row in cost_and_value(alice, period, by="department")}
    bobs = {row.name: row.cost for row in cost_and_value(bob, period, by="department")}

    # Then each department's cost holds its token cost, and bob sees Finance's only
    assert everyone == {"Finance": 1.75, "Customer Support": 4.0}
    assert bobs == {"Finance": 1.75}
    assert _figures(period, None)["cost"] == 5.75
    assert _figures(period, [finance_agent.department_id])["cost"] == 1.75
