"""Routing: each step goes to the best active agent by the organisation's priorities and measured data."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from governance.outcomes import report_outcome
from orchestration.models import Capability, RiskTier, Status
from tests.factories import DecisionFactory, DepartmentFactory
from tests.support.workflows import steps_of
from workflows.models import Strategy
from workflows.routing import rank_candidates
from workflows.strategy import set_strategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def bargain_bot(hire):
    """Cheap per task, but a high-risk agent that failed half of its last eight tasks."""
    agent = hire("bargain-bot", "ticket.reply", risk_tier=RiskTier.HIGH)
    for result in ["success", "failure"] * 4:
        decision = DecisionFactory(agent=agent, action="ticket.reply", amount=None)
        report_outcome(decision, result, reported_by="agent:bargain-bot", cost=Decimal("0.10"))
    return agent


@pytest.fixture
def careful_bot(hire):
    """Fifty times the cost per task, but a minimal-risk agent that succeeded at all of its last eight."""
    agent = hire("careful-bot", "ticket.reply", risk_tier=RiskTier.MINIMAL)
    for _ in range(8):
        decision = DecisionFactory(agent=agent, action="ticket.reply", amount=None)
        report_outcome(decision, "success", reported_by="agent:careful-bot", cost=Decimal("5"))
    return agent


def test_only_active_agents_of_active_departments_are_candidates(hire):
    # Given four agents who can reply to tickets: one active, one paused, one killed, one in a paused department
    hire("on-duty", "ticket.reply")
    hire("on-break", "ticket.reply", status=Status.PAUSED)
    hire("switched-off", "ticket.reply", status=Status.KILLED)
    hire("closed-desk", "ticket.reply", department=DepartmentFactory(slug="closed", status=Status.PAUSED))

    # When routing ranks the candidates for replying
    ranked = rank_candidates(Capability.objects.get(code="ticket.reply").pk)

    # Then only the active agent of an active department is a candidate
    assert [candidate.slug for candidate in ranked] == ["on-duty"]


def test_a_routed_step_keeps_every_candidates_score_breakdown(
    reply_workflow, bargain_bot, careful_bot, fake_provider, run_workflow
):
    # Given two agents who can reply to tickets, and the default strategy (each priority a quarter)

    # When a run's step is routed
    step = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # Then the step keeps both candidates, best first, each with its four scores and its total,
    # and the best one got the step
    assert [(candidate["agent"], candidate["scores"], candidate["total"]) for candidate in step.routing] == [
        ("careful-bot", {"cost": 0.0, "risk": 1.0, "csat": 0.5, "resilience": 0.9}, 0.6),
        ("bargain-bot", {"cost": 1.0, "risk": 0.2, "csat": 0.5, "resilience": 0.5}, 0.55),
    ]
    assert step.agent == careful_bot


def test_changing_the_strategy_changes_which_agent_the_next_step_goes_to(
    reply_workflow, bargain_bot, careful_bot, fake_provider, run_workflow, alice
):
    # Given the organisation puts cost first, and a ticket was answered under that strategy
    set_strategy(cost=100, risk=0, customer_satisfaction=0, resilience=0, note="Cut costs", by=alice)
    before = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # When alice puts risk first and the next ticket comes in
    set_strategy(cost=0, risk=100, customer_satisfaction=0, resilience=0, note="Safety first", by=alice)
    after = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # Then the cheap agent answered the first ticket and the safe one the second, and each step's breakdown
    # shows why
    assert (before.agent, after.agent) == (bargain_bot, careful_bot)
    assert before.routing[0]["scores"]["cost"] > before.routing[1]["scores"]["cost"]
    assert after.routing[0]["scores"]["risk"] > after.routing[1]["scores"]["risk"]


def test_setting_a_strategy_keeps_the_earlier_ones_as_history(alice):
    # Given the organisation's first strategy
    first = set_strategy(cost=40, risk=30, customer_satisfaction=20, resilience=10, by=alice)

    # When alice sets another
    second = set_strategy(cost=10, risk=60, customer_satisfaction=20, resilience=10, note="Audit season", by=alice)

    # Then both are kept, and only the newer one is active
    assert {strategy.pk: strategy.is_active for strategy in Strategy.objects.all()} == {
        first.pk: False,
        second.pk: True,
    }


def test_setting_a_strategy_is_audited_with_who_changed_what(alice):
    # Given the organisation's first strategy
    set_strategy(cost=40, risk=30, customer_satisfaction=20, resilience=10, by=alice)

    # When alice sets another
    second = set_strategy(cost=10, risk=60, customer_satisfaction=20, resilience=10, note="Audit season", by=alice)

    # Then the change is recorded as hers, with the weights before and after and her note
    event = AuditEvent.objects.filter(kind="strategy.changed").last()
    assert (event.actor, event.subject_type, event.subject_id) == (alice, "strategy", str(second.pk))
    assert event.before == {"cost": 40, "risk": 30, "customer_satisfaction": 20, "resilience": 10}
    assert event.after == {
        "cost": 10,
        "risk": 60,
        "customer_satisfaction": 20,
        "resilience": 10,
        "note": "Audit season",
    }
