"""Budgets: only decisions that go ahead spend, and neither the agent nor its department can overspend."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import parse_exchange_rates
from governance.budgets import month_start
from governance.models import Effect, Verdict
from governance.outcomes import give_back_spend
from tests.factories import AgentFactory, DepartmentFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget_agent(finance):
    """A Finance agent with 1000 to spend a month; Finance has plenty."""
    return AgentFactory(slug="budget-bot", department=finance, monthly_budget=1000)


@pytest.mark.parametrize(
    ("effect", "spent"),
    [
        pytest.param(Effect.ALLOW, Decimal("100"), id="allow"),
        pytest.param(Effect.FLAG, Decimal("100"), id="flag"),
        pytest.param(Effect.DENY, Decimal("0"), id="deny"),
        pytest.param(Effect.REQUIRE_APPROVAL, Decimal("0"), id="held-for-approval"),
    ],
)
def test_only_a_decision_that_goes_ahead_spends(make_policy, decide, budget_agent, effect, spent):
    # Given a policy with this effect on every request
    make_policy(effect=effect, approver_role="Supervisor")

    # When the agent asks to spend 100
    decide(budget_agent, amount=100)

    # Then the agent and its department have spent 100 if it went ahead, else nothing
    budget_agent.refresh_from_db()
    budget_agent.department.refresh_from_db()
    assert budget_agent.month_spent == spent
    assert budget_agent.department.month_spent == spent


def test_a_request_over_the_agents_remaining_budget_is_denied_and_spends_nothing(decide, budget_agent):
    # Given the agent has spent 950 of its 1000
    decide(budget_agent, amount=950)

    # When it asks for 100 more
    decision = decide(budget_agent, amount=100)

    # Then it is denied for its budget and still at 950
    assert decision.verdict == Verdict.DENY
    assert decision.explanation.startswith("Agent budget-bot has not enough budget left this month for 100")
    budget_agent.refresh_from_db()
    assert budget_agent.month_spent == Decimal("950")


def test_spending_the_budget_exactly_is_allowed(decide, budget_agent):
    # Given the agent has spent 900 of its 1000
    decide(budget_agent, amount=900)

    # When it asks for the last 100
    decision = decide(budget_agent, amount=100)

    # Then it is allowed and the budget is used up
    assert decision.verdict == Verdict.ALLOW
    budget_agent.refresh_from_db()
    assert budget_agent.month_spent == Decimal("1000")


def test_an_exhausted_department_budget_denies_and_does_not_charge_the_agent(decide):
    # Given a department with 150 a month, and an agent of it with 1000
    legal = DepartmentFactory(name="Legal", slug="legal", monthly_budget=150)
    agent = AgentFactory(slug="contract-bot", department=legal, monthly_budget=1000)
    decide(agent, amount=100)

    # When the agent asks for another 100, within its own budget but over the department's
    decision = decide(agent, amount=100)

    # Then it is denied for the department's budget, and neither the department nor the agent is charged for it
    assert decision.verdict == Verdict.DENY
    assert decision.explanation.startswith("Department Legal has not enough budget left this month for 100")
    agent.refresh_from_db()
    legal.refresh_from_db()
    assert (agent.month_spent, legal.month_spent) == (Decimal("100"), Decimal("100"))


def test_a_new_month_starts_from_zero(decide, budget_agent):
    # Given the agent spent 950 last month
    last_month = NOW - dt.timedelta(days=31)
    decide(budget_agent, amount=950, now=last_month)

    # When it asks for 500 this month
    decision = decide(budget_agent, amount=500)

    # Then it is allowed and this month's spend is 500
    assert decision.verdict == Verdict.ALLOW
    budget_agent.refresh_from_db()
    assert (budget_agent.month_spent, budget_agent.spend_month) == (Decimal("500"), month_start(NOW))


def test_a_condition_reads_this_months_spend_only(make_policy, decide, budget_agent):
    # Given the agent spent 950 last month, and a policy flags spend over 900 a month
    decide(budget_agent, amount=950, now=NOW - dt.timedelta(days=31))
    make_policy(effect=Effect.FLAG, condition="agent_spend_month() + amount > 900.0")

    # When it asks for 100 this month
    decision = decide(budget_agent, amount=100)

    # Then last month's spend does not count, and the input it read is recorded
    assert decision.verdict == Verdict.ALLOW
    assert decision.inputs == {"agent_spend_month": 0.0}


def test_an_amount_in_another_currency_is_charged_at_its_configured_rate(settings, decide, budget_agent):
    # Given budgets kept in USD and one euro worth 1.10 dollars
    settings.ORG_CURRENCY, settings.EXCHANGE_RATES = "USD", {"EUR": Decimal("1.10")}

    # When the agent spends 100 euros
    decision = decide(budget_agent, amount=100, currency="EUR")

    # Then 110 dollars are charged to the agent and its department
    assert decision.verdict == Verdict.ALLOW
    budget_agent.refresh_from_db()
    budget_agent.department.refresh_from_db()
    assert (budget_agent.month_spent, budget_agent.department.month_spent) == (Decimal("110.00"), Decimal("110.00"))


def test_an_amount_in_a_currency_without_a_rate_is_denied_and_never_added_as_if_it_were_the_budgets(
    settings, decide, budget_agent
):
    # Given budgets kept in USD and no rate for yen
    settings.ORG_CURRENCY, settings.EXCHANGE_RATES = "USD", {"EUR": Decimal("1.10")}

    # When the agent asks to spend 100 yen
    decision = decide(budget_agent, amount=100, currency="JPY")

    # Then it is denied, saying why, and nothing is charged
    assert decision.verdict == Verdict.DENY
    assert decision.explanation.startswith(
        "Budgets are kept in USD and no exchange rate for JPY is configured (EXCHANGE_RATES)"
    )
    budget_agent.refresh_from_db()
    assert budget_agent.month_spent == Decimal("0")


def test_a_failed_action_in_another_currency_gives_back_what_was_charged(settings, decide, budget_agent):
    # Given 100 euros spent at 1.10 dollars each
    settings.ORG_CURRENCY, settings.EXCHANGE_RATES = "USD", {"EUR": Decimal("1.10")}
    decision = decide(budget_agent, amount=100, currency="EUR")

    # When the action is reported failed
    give_back_spend([decision])

    # Then the 110 dollars are given back
    budget_agent.refresh_from_db()
    budget_agent.department.refresh_from_db()
    assert (budget_agent.month_spent, budget_agent.department.month_spent) == (Decimal("0.00"), Decimal("0.00"))


@pytest.mark.parametrize("text", ["EUR", "EUR=", "EUR=-1", "EUR=abc", "XYZ=1.1", "EUR=NaN", "EUR=inf"])
def test_exchange_rates_that_are_not_code_and_positive_rate_stop_the_start_with_a_message(text):
    with pytest.raises(ImproperlyConfigured, match="EXCHANGE_RATES"):
        parse_exchange_rates(text)


def test_exchange_rates_are_read_as_code_and_rate():
    assert parse_exchange_rates(" eur=1.08, GBP=1.27 ,") == {"EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
