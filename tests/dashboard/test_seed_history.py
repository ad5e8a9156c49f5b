"""`manage.py seed_history`: synthetic decisions by COPY, with rollups that match them exactly."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum

from dashboard.models import DecisionRollup, RollupChange
from dashboard.rollups import fold_changes
from governance.models import Decision, Outcome
from tests.support.rollups import bucket_counts, decisions_per_bucket

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")


@pytest.mark.postgres
@postgres_only
def test_seeded_decisions_arrive_with_exact_rollups_and_no_waiting_changes(finance_agent, support_agent):
    # Given two agents and one live decision already waiting to be folded
    Decision.objects.create(
        agent=finance_agent,
        department=finance_agent.department,
        action="x",
        verdict="allow",
        risk_score=10,
        latency_us=1,
    )

    # When 3000 synthetic decisions are loaded
    call_command("seed_history", decisions=3000, days=10, stdout=None)

    # Then only the live decision waits as a change, and once it is folded the buckets match the tables
    assert Decision.objects.count() == 3001
    assert RollupChange.objects.filter(policy__isnull=True).count() == 1
    fold_changes()
    assert bucket_counts("hour") == decisions_per_bucket("hour")
    assert bucket_counts("day") == decisions_per_bucket("day")
    outcomes = DecisionRollup.objects.filter(grain="hour").aggregate(n=Sum("outcomes"))["n"]
    assert outcomes == Outcome.objects.count() > 0


@pytest.mark.skipif(connection.vendor == "postgresql", reason="about the SQLite default")
def test_seeding_without_postgresql_says_what_to_do(finance_agent):
    with pytest.raises(CommandError, match="Synthetic history loads with PostgreSQL COPY"):
        call_command("seed_history", decisions=10)


@postgres_only
def test_seeding_with_no_agents_says_what_to_do(db):
    with pytest.raises(CommandError, match=r"run `manage.py demo --seed-only` first"):
        call_command("seed_history", decisions=10)
