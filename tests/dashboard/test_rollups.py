"""Rollups follow decisions, outcomes and approvals exactly, whenever they arrive and whenever the fold runs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from dashboard.kpis.tiles import kpis
from dashboard.models import DecisionRollup, DepartmentRollup, PolicyRollup, RollupChange
from dashboard.rollups import fold_changes
from governance.approvals import decide_approval
from governance.models import Approval, Effect, Mode, Verdict
from governance.outcomes import report_outcome
from tests.support.clock import NOW
from tests.support.rollups import bucket_counts, decisions_per_bucket, department_buckets_disagree

pytestmark = pytest.mark.django_db

HOUR = NOW.replace(minute=0)
DAY = NOW.replace(hour=0, minute=0)


def bucket(grain: str = "hour", **filters) -> dict:
    measures = (
        "decisions",
        "outcomes",
        "value",
        "cost",
        "spend",
        "approvals_approved",
        "approvals_rejected",
        "approval_wait_seconds",
        "wait_15m",
        "wait_1h",
    )
    rows = DecisionRollup.objects.filter(grain=grain, **filters)
    return {name: value or 0 for name, value in rows.aggregate(**{m: Sum(m) for m in measures}).items()}


def test_a_decision_waits_as_a_change_until_the_fold(decide, finance_agent):
    # Given a decision
    decide(finance_agent)

    # When nothing has folded yet
    # Then it is one waiting change, and no bucket holds it
    assert RollupChange.objects.filter(policy__isnull=True).count() == 1
    assert not DecisionRollup.objects.exists()


def test_the_fold_moves_changes_into_hour_and_day_buckets(decide, finance_agent, support_agent):
    # Given three decisions in two departments
    decide(finance_agent)
    decide(finance_agent, amount=50)
    decide(support_agent)

    # When the changes are folded
    moved = fold_changes()

    # Then every change moved, and both grains hold exactly what the decision table says
    assert moved == 3
    assert not RollupChange.objects.exists()
    assert bucket_counts("hour") == decisions_per_bucket("hour")
    assert bucket_counts("day") == decisions_per_bucket("day")
    assert DecisionRollup.objects.get(grain="hour", department=finance_agent.department).start == HOUR
    # and the department buckets hold the same, added up across agents
    assert DepartmentRollup.objects.filter(grain="hour").count() == 2
    assert department_buckets_disagree() == []


def test_folding_again_counts_nothing_twice(decide, finance_agent):
    # Given a decision already folded
    decide(finance_agent)
    fold_changes()

    # When the fold runs again (a repeated beat, a redelivered task)
    moved = fold_changes()

    # Then nothing moves and the bucket still holds one decision
    assert moved == 0
    assert bucket()["decisions"] == 1


def test_an_outcome_reported_after_the_fold_lands_in_its_decisions_bucket(decide, finance_agent):
    # Given a decision folded into its hour
    decision = decide(finance_agent, amount=100)
    fold_changes()

    # When its outcome arrives later and is folded
    report_outcome(decision, "success", reported_by="agent:tests", cost=Decimal("2.50"), value=Decimal("40"))
    fold_changes()

    # Then the decision's own hour and day carry the outcome
    for grain in ("hour", "day"):
        figures = bucket(grain, department=finance_agent.department)
        assert (figures["decisions"], figures["outcomes"]) == (1, 1)
        assert (figures["cost"], figures["value"]) == (Decimal("2.50"), Decimal("40"))
    assert department_buckets_disagree() == []


def test_a_failed_outcome_gives_back_the_spend(decide, finance_agent):
    # Given an allowed spend of 100
    decision = decide(finance_agent, amount=100)
    assert decision.verdict == Verdict.ALLOW

    # When the action is reported failed
    report_outcome(decision, "failure", reported_by="agent:tests")
    fold_changes()

    # Then the rollups spend nothing for it, as the budget does
    assert bucket()["spend"] == 0


def test_an_approval_decided_after_the_fold_counts_its_wait_and_spend(decide, make_policy, finance_agent, alice):
    # Given a request held for approval at NOW, folded
    make_policy(effect=Effect.REQUIRE_APPROVAL, departments=[finance_agent.department])
    decision = decide(finance_agent, amount=300)
    fold_changes()
    assert bucket()["spend"] == 0

    # When a person approves it 20 minutes later
    twenty_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    Approval.objects.filter(pk=decision.approval.pk).update(requested_at=twenty_minutes_ago)
    decide_approval(decision.approval.pk, approve=True, by=alice)
    fold_changes()

    # Then the decision's bucket counts the approval, its wait (in the 15 min–1 h bin) and the spend
    figures = bucket()
    assert figures["approvals_approved"] == 1
    assert 20 * 60 <= figures["approval_wait_seconds"] <= 21 * 60
    assert (figures["wait_15m"], figures["wait_1h"]) == (0, 1)
    assert figures["spend"] == Decimal("300")
    assert department_buckets_disagree() == []


def test_policy_hits_are_counted_per_mode(decide, make_policy, finance_agent):
    # Given an enforced flag policy and a shadow deny policy that both match
    flag = make_policy(name="Flag invoices", effect=Effect.FLAG)
    shadow = make_policy(name="Trial: deny invoices", effect=Effect.DENY, mode=Mode.SHADOW)

    # When two decisions are taken and folded
    decide(finance_agent)
    decide(finance_agent)
    fold_changes()

    # Then each policy fired twice, in its own mode
    hits = dict(PolicyRollup.objects.filter(grain="day").values_list("policy_id", "hits"))
    modes = dict(PolicyRollup.objects.filter(grain="day").values_list("policy_id", "policy_mode"))
    assert hits == {flag.pk: 2, shadow.pk: 2}
    assert modes == {flag.pk: "enforce", shadow.pk: "shadow"}


def test_figures_read_the_same_before_and_after_a_fold(decide, finance_agent, support_agent, alice, day):
    # Given decisions, some folded and some still waiting
    decide(finance_agent)
    fold_changes()
    decide(support_agent)
    decide(finance_agent, amount=10)
    before = {tile.key: tile.value for tile in kpis(alice, day)}

    # When the rest is folded
    fold_changes()

    # Then the page's figures do not move
    after = {tile.key: tile.value for tile in kpis(alice, day)}
    assert before == after
    assert after["decisions"] == 3
