"""Spend is rolled up per currency of the amount, so amounts in different currencies are never added together:
by the triggers (statement-level on PostgreSQL, over a whole batch; row-level on SQLite), by the fold, and by
the figures that read the buckets (the organisation's currency first, the others beside it)."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from dashboard.kpis.tiles import kpis
from dashboard.kpis.value import cost_and_value
from dashboard.league import league
from dashboard.models import DecisionRollup, RollupChange
from dashboard.money import Amounts, amounts_in_words, in_other_currencies
from dashboard.rollups import fold_changes
from governance.approvals import decide_approval
from governance.models import Decision, Effect
from governance.outcomes import report_outcome
from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "USD", "en_US"


def spend_per_currency(model=DecisionRollup, **filters) -> dict[str, Decimal]:
    rows = model.objects.filter(**filters).values_list("currency").annotate(total=Sum("spend")).order_by()
    return {currency: total for currency, total in rows if total}


def test_each_change_carries_the_currency_of_its_amount(decide, finance_agent):
    # Given decisions in dollars, in euros and without an amount
    decide(finance_agent, amount=700, currency="USD")
    decide(finance_agent, amount=360, currency="EUR")
    decide(finance_agent)

    # When nothing has folded yet
    changes = RollupChange.objects.filter(policy__isnull=True)

    # Then each waiting change says its currency, blank where there is no amount
    assert sorted(changes.values_list("currency", "spend")) == [
        ("", Decimal("0")),
        ("EUR", Decimal("360")),
        ("USD", Decimal("700")),
    ]


def test_a_batch_of_decisions_in_several_currencies_folds_into_a_bucket_per_currency(finance_agent):
    # Given one INSERT of five decisions (one statement: one trigger call over all of them on PostgreSQL)
    rows = [
        DecisionFactory.build(agent=finance_agent, amount=Decimal(amount), currency=currency, created_at=NOW)
        for amount, currency in (("100", "USD"), ("20", "USD"), ("50", "EUR"), ("7", "GBP"))
    ]
    rows.append(DecisionFactory.build(agent=finance_agent, amount=None, currency="", created_at=NOW))
    Decision.objects.bulk_create(rows)

    # When the changes are folded
    fold_changes()

    # Then every grain holds a bucket per currency, each with its own spend, and every decision once
    for grain in ("hour", "day"):
        assert spend_per_currency(grain=grain) == {
            "USD": Decimal("120"),
            "EUR": Decimal("50"),
            "GBP": Decimal("7"),
        }
        buckets = DecisionRollup.objects.filter(grain=grain)
        assert sorted(buckets.values_list("currency", "decisions")) == [("", 1), ("EUR", 1), ("GBP", 1), ("USD", 2)]


def test_an_approval_and_a_failure_land_in_their_decisions_currency(decide, make_policy, finance_agent, alice):
    # Given a euro request held for approval and a dollar spend, both folded
    make_policy(effect=Effect.REQUIRE_APPROVAL, departments=[finance_agent.department], condition="amount > 500.0")
    held = decide(finance_agent, amount=900, currency="EUR")
    spent = decide(finance_agent, amount=200, currency="USD")
    fold_changes()

    # When a person approves the euros and the dollar action is reported failed
    decide_approval(held.approval.pk, approve=True, by=alice)
    report_outcome(spent, "failure", reported_by="agent:tests")
    fold_changes()

    # Then the euros are spent in the euro bucket and the dollars given back in the dollar one
    assert spend_per_currency(grain="day") == {"EUR": Decimal("900")}
    assert DecisionRollup.objects.get(grain="day", currency="EUR").approvals_approved == 1


def test_the_spend_tile_is_the_organisations_currency_with_the_others_beside_it(decide, finance_agent, alice, day):
    # Given dollars folded, euros and an amount without a currency still waiting
    decide(finance_agent, amount=700, currency="USD")
    fold_changes()
    decide(finance_agent, amount=360, currency="EUR")
    decide(finance_agent, amount=20)

    # When the tiles are read
    spend = next(tile for tile in kpis(alice, day) if tile.key == "spend")

    # Then the tile holds the dollars only (an amount without a currency counts as the organisation's), the euros
    # beside it, and the budget share is of the dollars
    assert spend.value == 720.0
    assert spend.other_currencies == {"EUR": Decimal("360")}
    assert spend.display == "$720"
    assert spend.also == "plus €360.00 in EUR"
    assert spend.budget_share == round(100 * 720 / spend.budget, 1)


def test_the_league_and_the_value_table_keep_currencies_apart(decide, finance_agent, alice, day):
    # Given an agent that spent in dollars and in euros
    decide(finance_agent, amount=700, currency="USD")
    decide(finance_agent, amount=360, currency="EUR")
    fold_changes()

    # When the league and the spend per department are read
    (row,) = league(alice, day)
    (department,) = cost_and_value(alice, day, by="department")

    # Then each gives the dollars as spend and the euros beside them, and every decision is counted
    assert (row.figures.spend, row.figures.spend_other_currencies) == (Decimal("700"), {"EUR": Decimal("360")})
    assert row.figures.decisions == 2
    assert (department.spend, department.spend_other_currencies) == (700.0, {"EUR": Decimal("360")})
    assert department.decisions == 2


def test_a_period_with_only_other_currencies_spends_nothing_in_the_organisations(decide, finance_agent, alice, day):
    # Given euros only
    decide(finance_agent, amount=360, currency="EUR")

    # When the tiles are read
    spend = next(tile for tile in kpis(alice, day) if tile.key == "spend")

    # Then the organisation's spend is zero, not the euros
    assert (spend.value, spend.also) == (0.0, "plus €360.00 in EUR")


def test_amounts_are_grouped_by_currency_and_listed_in_words():
    amounts = Amounts.of([("USD", Decimal("700")), ("", Decimal("20")), ("GBP", 12.5), ("EUR", 360), ("CHF", 0)])

    assert amounts.main == Decimal("720")
    assert amounts.other_currencies == {"EUR": Decimal("360"), "GBP": Decimal("12.5")}
    assert amounts.text() == "$720 · plus €360.00 in EUR and £12.50 in GBP"
    assert amounts_in_words({"EUR": Decimal("1"), "JPY": Decimal("500"), "GBP": Decimal("2")}) == (
        "€1.00 in EUR, £2.00 in GBP and ¥500 in JPY"
    )
    assert in_other_currencies({}) == ""
