"""The risk score on a decision: it rises with each input that makes an action riskier, within 0..100."""

import pytest

from governance.models import Effect
from orchestration.models import RiskTier
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget_agent(finance):
    """A limited-risk Finance agent with 1000 to spend a month."""
    return AgentFactory(slug="budget-bot", department=finance, monthly_budget=1000, risk_tier=RiskTier.LIMITED)


def test_risk_rises_with_the_agents_risk_tier(decide, finance):
    # Given the same request from agents of each risk tier
    agents = [AgentFactory(department=finance, risk_tier=tier) for tier in RiskTier.values]

    # When each makes it
    scores = [decide(agent).risk_score for agent in agents]

    # Then each tier up scores higher
    assert scores == sorted(set(scores))


def test_risk_rises_with_the_amount_against_the_agents_budget(decide, budget_agent):
    # When the agent spends a tenth, then most, of its monthly budget
    small, large = decide(budget_agent, amount=100), decide(budget_agent, amount=800)

    # Then the larger share scores higher
    assert large.risk_score > small.risk_score


def test_risk_rises_with_sensitive_data_classes(decide, budget_agent):
    # When the agent touches public data, then health records and personal data
    public = decide(budget_agent, data_classes=["public"])
    sensitive = decide(budget_agent, data_classes=["health", "pii"])

    # Then the sensitive request scores higher
    assert sensitive.risk_score > public.risk_score


def test_a_fired_policy_adds_its_risk_weight(make_policy, decide, budget_agent):
    # Given a flag policy weighing 30 on invoice approvals only
    make_policy(effect=Effect.FLAG, actions="invoice.approve", risk_weight=30)

    # When the agent makes two otherwise equal requests, one of which the policy flags
    unflagged, flagged = decide(budget_agent, "invoice.view"), decide(budget_agent, "invoice.approve")

    # Then the flagged one scores exactly the policy's weight higher
    assert flagged.risk_score - unflagged.risk_score == 30


def test_risk_is_at_most_100(make_policy, decide, finance):
    # Given a critical agent, heavy deny policies and a request over its whole budget, touching every sensitive class
    agent = AgentFactory(department=finance, risk_tier=RiskTier.CRITICAL, monthly_budget=1000)
    for _ in range(3):
        make_policy(effect=Effect.DENY, risk_weight=50)

    # When it asks
    decision = decide(agent, amount=5000, data_classes=["health", "pii", "credentials", "minor"])

    # Then the score stops at 100
    assert decision.risk_score == 100


def test_a_harmless_request_scores_low_but_not_below_zero(decide, finance):
    # Given a minimal-risk agent
    agent = AgentFactory(department=finance, risk_tier=RiskTier.MINIMAL)

    # When it asks to do something free that touches no data
    decision = decide(agent, "status.read")

    # Then the score is small and not negative
    assert 0 <= decision.risk_score <= 10
