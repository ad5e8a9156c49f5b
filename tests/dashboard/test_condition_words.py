"""Policy conditions in words (the Policies page): the CEL policies are written in reads as a phrase; what the
module has no words for is not guessed at (None: the page says "when its condition holds")."""

import pytest

from dashboard.condition_words import in_words
from tests.factories import CapabilityFactory


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("amount > 10000.0", "the amount is more than 10,000 EUR"),
        (
            "amount >= 2000.0 && amount < 10000.0",
            "the amount is at least 2,000 EUR and the amount is less than 10,000 EUR",
        ),
        (
            "amount > 0.0 && agent_spend_month() + amount > agent.monthly_budget * 0.9",
            "the amount is more than 0 EUR and the agent's spend this month plus the amount is more than 90% of "
            "the agent's monthly budget",
        ),
        ("agent_actions_last_hour() >= 600", "the agent's actions in the last hour is at least 600"),
        (
            "now.getHours() < 7 || now.getHours() >= 19",
            "the hour (UTC) is less than 7 or the hour (UTC) is at least 19",
        ),
        (
            "!has(context.sanctions_checked) || !context.sanctions_checked",
            "the request does not include sanctions checked or the request's sanctions checked is no",
        ),
        ('context.region == "eu"', "the request's region is “eu”"),
        (
            '(amount > 5.0 || agent.risk_tier >= 4) && department.slug != "finance"',
            "(the amount is more than 5 EUR or the agent's risk tier is at least 4) and the department's slug is not "
            "“finance”",
        ),
    ],
)
def test_a_condition_reads_as_words(settings, db, condition, words):
    settings.ORG_CURRENCY = "EUR"

    assert in_words(condition) == words


def test_an_action_is_named_by_its_capabilitys_description(db):
    # Given the capability's description
    CapabilityFactory(code="payment.execute", description="Execute a payment")

    # Then a condition on the action names it so
    assert in_words('action == "payment.execute"') == "the action is “Execute a payment”"
    assert in_words('action in ["payment.execute", "refund.issue"]') == (
        "the action is one of “Execute a payment” or “Refund: issue”"
    )


@pytest.mark.parametrize(
    "condition", ['data_classes.exists(c, c == "health")', "size(context.items) > 3", "amount >", "", "agent"]
)
def test_what_has_no_words_is_not_guessed_at(db, condition):
    assert in_words(condition) is None
