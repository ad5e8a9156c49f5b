"""The figures on the executive pages, from the rollups, for each person's scope and period."""

import datetime as dt

import pytest

from dashboard.kpis.risk import risky_agents
from dashboard.kpis.tiles import kpis, median_wait
from dashboard.kpis.trend import trend
from dashboard.periods import period_for
from dashboard.rollups import fold_changes
from governance.models import Approval, Override, Verdict
from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


def figures(user, period, departments=None) -> dict:
    return {tile.key: tile.value for tile in kpis(user, period, departments)}


def held(agent, status: str, waited_minutes: int) -> None:
    decision = DecisionFactory(agent=agent, verdict=Verdict.REQUIRE_APPROVAL, created_at=NOW)
    Approval.objects.create(
        decision=decision,
        department=agent.department,
        approver_role="supervisor",
        status=status,
        requested_at=NOW,
        decided_at=NOW + dt.timedelta(minutes=waited_minutes),
        deadline=NOW + dt.timedelta(hours=4),
    )


def test_rates_are_shares_of_the_periods_decisions(finance_agent, alice, day):
    # Given 5 decisions: 2 allowed, 1 flagged, 1 denied, 1 held for a person
    for verdict in (Verdict.ALLOW, Verdict.ALLOW, Verdict.FLAG, Verdict.DENY, Verdict.REQUIRE_APPROVAL):
        DecisionFactory(agent=finance_agent, verdict=verdict, created_at=NOW)

    # When the figures are read
    result = figures(alice, day)

    # Then automation counts all but the held one, escalation the held one, violation the denied and flagged
    assert result["decisions"] == 5
    assert (result["automation_rate"], result["escalation_rate"], result["violation_rate"]) == (80.0, 20.0, 40.0)


def test_the_override_rate_is_the_share_of_violations_a_person_overrode(finance_agent, support_agent, alice, bob, day):
    # Given four violations in Finance, one of them overridden, and an overridden one in Support
    violations = [DecisionFactory(agent=finance_agent, verdict=v, created_at=NOW) for v in ("deny", "flag") * 2]
    other = DecisionFactory(agent=support_agent, verdict=Verdict.DENY, created_at=NOW)
    for decision in (violations[0], other):
        Override.objects.create(decision=decision, by=alice, verdict_overridden=decision.verdict, reason="known vendor")

    # When the organisation's and Finance's Supervisor's figures are read
    # Then each counts the overrides of its own violations
    assert figures(alice, day)["override_rate"] == 40.0
    assert figures(bob, day)["override_rate"] == 25.0


def test_rejection_rate_and_median_wait_come_from_peoples_answers(finance_agent, alice, day):
    # Given three answered requests (one rejected) after 3, 10 and 50 minutes, and one that expired
    held(finance_agent, "approved", 3)
    held(finance_agent, "rejected", 10)
    held(finance_agent, "approved", 50)
    held(finance_agent, "expired", 240)

    # When the figures are read
    result = figures(alice, day)

    # Then one in three answers rejected, and the median wait lies in the 5–15 minute bin
    assert result["rejection_rate"] == 33.3
    assert 5 * 60 < result["median_approval_seconds"] <= 15 * 60


def test_a_supervisor_sees_only_their_departments(finance_agent, support_agent, bob, alice, day):
    # Given decisions in Finance (bob's) and Customer Support
    DecisionFactory(agent=finance_agent, created_at=NOW)
    DecisionFactory.create_batch(3, agent=support_agent, created_at=NOW)

    # When bob and alice read the figures
    # Then bob counts Finance only, alice everything
    assert figures(bob, day)["decisions"] == 1
    assert figures(alice, day)["decisions"] == 4


def test_a_supervisor_cannot_widen_their_scope_by_asking_for_another_department(support_agent, bob, day):
    # Given decisions in Customer Support only
    DecisionFactory.create_batch(2, agent=support_agent, created_at=NOW)

    # When bob asks for Customer Support explicitly
    result = figures(bob, day, [support_agent.department_id])

    # Then he sees nothing
    assert result["decisions"] == 0


def test_a_department_filter_narrows_the_figures(finance_agent, support_agent, alice, day):
    # Given decisions in two departments
    DecisionFactory(agent=finance_agent, created_at=NOW)
    DecisionFactory.create_batch(2, agent=support_agent, created_at=NOW)

    # When alice filters on Customer Support
    # Then only its decisions count
    assert figures(alice, day, [support_agent.department_id])["decisions"] == 2


def test_each_tile_compares_with_the_period_before(finance_agent, alice):
    # Given 2 decisions yesterday and 3 today
    DecisionFactory.create_batch(2, agent=finance_agent, created_at=NOW - dt.timedelta(days=1))
    DecisionFactory.create_batch(3, agent=finance_agent, created_at=NOW)
    fold_changes()

    # When the 24-hour tile is read
    tile = next(t for t in kpis(alice, period_for("24h", NOW)) if t.key == "decisions")

    # Then it shows 3, against 2 before: 50 % more
    assert (tile.value, tile.previous, tile.change) == (3, 2, 50.0)
    assert tile.change_display == "▲ 50% vs previous period"


def test_value_and_spend_add_up_over_days(finance_agent, alice):
    # Given allowed spends on three days of the week, folded
    for days_ago in (0, 2, 5):
        DecisionFactory(agent=finance_agent, amount=100, currency="USD", created_at=NOW - dt.timedelta(days=days_ago))
    fold_changes()

    # When the 7-day figures are read
    result = figures(alice, period_for("7d", NOW))

    # Then spend is the sum of the three
    assert result["spend"] == 300.0


def test_the_trend_has_one_point_per_bucket_with_gaps_left_empty(finance_agent, alice, day):
    # Given one allowed and one denied decision in the last hour only
    DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW, created_at=NOW)
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW)

    # When the trend is read
    series = trend(alice, day)

    # Then there are 24 hourly points, empty before the last, where the violation rate is 50 %
    assert len(series.buckets) == len(series.decisions) == 24
    assert series.decisions[-2:] == [0, 2]
    assert series.rates["Violation"][-2:] == [None, 50.0]


def test_top_risks_rank_agents_by_average_risk(finance_agent, support_agent, alice, day):
    # Given a risky Finance agent (over Finance's appetite of 50) and a calm support agent
    finance_agent.department.risk_appetite = 50
    finance_agent.department.save()
    DecisionFactory.create_batch(2, agent=finance_agent, risk_score=80, created_at=NOW)
    DecisionFactory(agent=support_agent, risk_score=10, created_at=NOW)

    # When the top risks are read
    risks = risky_agents(alice, day)

    # Then the Finance agent leads, marked over appetite, with its critical decisions counted
    assert [r.agent for r in risks] == ["Invoice Bot", "Reply Bot"]
    assert (risks[0].average_risk, risks[0].over_appetite, risks[0].critical) == (80.0, True, 2)


def test_median_wait_is_none_without_answers() -> None:
    assert median_wait({}) is None
