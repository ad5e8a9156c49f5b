"""Upgrading buckets that summed every currency together: the migration rebuilds them per currency from the
decisions, outcomes and approvals they describe, counting each decision once; going back adds them up again."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum

from dashboard.models import DecisionRollup, RollupChange
from dashboard.rollups import fold_changes
from governance.outcomes import report_outcome

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the upgrade is tested on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

BEFORE = [("dashboard", "0003_control_library_permission")]
UPGRADE = [("dashboard", "0004_rollup_currency")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def back_to_the_latest_schema():
    """Later migrations add tables the rest of the suite needs: leave the database as it found it."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def day_buckets(model) -> dict:
    rows = model.objects.filter(grain="day").values("verdict").annotate(n=Sum("decisions"), spend=Sum("spend"))
    return {row["verdict"]: (row["n"], row["spend"]) for row in rows}


@pytest.fixture
def mixed_history(decide, finance_agent):
    """Dollars and euros, folded, with an outcome, and one euro decision still waiting as a change."""
    dollars = decide(finance_agent, amount=700, currency="USD")
    decide(finance_agent, amount=300, currency="EUR")
    fold_changes()
    report_outcome(dollars, "success", reported_by="agent:tests", cost=Decimal("5"), value=Decimal("90"))
    decide(finance_agent, amount=60, currency="EUR")


def test_going_back_adds_each_buckets_currencies_together(mixed_history):
    # Given buckets per currency
    fold_changes()

    # When the migration is undone
    old = migrate(BEFORE)

    # Then one bucket per key holds every currency's decisions and spend, as before the upgrade
    buckets = old.get_model("dashboard", "DecisionRollup")
    assert day_buckets(buckets) == {"allow": (3, Decimal("1060"))}
    assert buckets.objects.filter(grain="day").count() == 1


def test_upgrading_rebuilds_the_buckets_per_currency_from_the_history(mixed_history):
    # Given buckets that summed currencies together, and a decision still waiting to be folded
    migrate(BEFORE)

    # When the upgrade runs
    migrate(UPGRADE)

    # Then each currency has its own buckets, built from the rows: every decision once, outcomes kept
    spend = dict(DecisionRollup.objects.filter(grain="day").values_list("currency").annotate(s=Sum("spend")).order_by())
    assert spend == {"USD": Decimal("700"), "EUR": Decimal("360")}
    assert day_buckets(DecisionRollup) == {"allow": (3, Decimal("1060"))}
    hour = DecisionRollup.objects.filter(grain="hour").aggregate(n=Sum("decisions"), value=Sum("value"))
    assert hour == {"n": 3, "value": Decimal("90")}
    assert not RollupChange.objects.filter(policy__isnull=True).exists()
