"""`manage.py seed_history`: synthetic decisions by COPY, with rollups that match them exactly."""

import datetime as dt
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

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


@pytest.mark.postgres
@postgres_only
def test_seeded_decisions_are_stored_oldest_first_at_a_steady_pace_up_to_now(finance_agent, support_agent):
    # When 2400 synthetic decisions are loaded over 10 days
    call_command("seed_history", decisions=2400, days=10, stdout=None)

    # Then they are stored in time order, as live decisions are (ids follow created_at)
    moments = list(Decision.objects.order_by("id").values_list("created_at", flat=True))
    assert moments == sorted(moments)
    # And each day of the ten holds about a tenth of them, the last ending now
    span = moments[-1] - moments[0]
    assert dt.timedelta(days=9, hours=23) < span <= dt.timedelta(days=10)
    per_day = Counter((timezone.now() - moment).days for moment in moments)
    assert sorted(per_day) == list(range(10))
    assert all(230 <= n <= 250 for n in per_day.values())
