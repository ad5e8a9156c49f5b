"""The rollups compared with the decisions: what each bucket must hold, counted the slow way, and what it does."""

import datetime as dt
from collections import Counter

from django.db.models import Count, Sum
from django.db.models.functions import TruncDay, TruncHour

from dashboard.models import DEPARTMENT_DIMENSIONS, MEASURES, DecisionRollup, DepartmentRollup
from governance.models import Decision


def decisions_per_bucket(grain: str) -> Counter:
    """What the buckets must hold, counted the slow way from the decision table."""
    trunc = TruncHour if grain == "hour" else TruncDay
    rows = (
        Decision.objects.annotate(bucket=trunc("created_at", tzinfo=dt.UTC))
        .values_list("bucket", "department_id", "agent_id", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    return Counter({(bucket, dept, agent, verdict): n for bucket, dept, agent, verdict, n in rows})


def bucket_counts(grain: str) -> Counter:
    rows = (
        DecisionRollup.objects.filter(grain=grain)
        .values_list("start", "department_id", "agent_id", "verdict")
        .annotate(n=Sum("decisions"))
        .order_by()
    )
    return Counter({(start, dept, agent, verdict): n for start, dept, agent, verdict, n in rows if n})


def department_buckets_disagree() -> list[tuple]:
    """Where the department buckets differ from the agent buckets added up, in any measure (empty: they agree)."""
    key = ("grain", "start", *DEPARTMENT_DIMENSIONS)
    added_up = {
        tuple(row[k] for k in key): tuple(row[m] for m in MEASURES)
        for row in DecisionRollup.objects.values(*key).annotate(**{m: Sum(m) for m in MEASURES}).order_by()
    }
    kept = {tuple(row[k] for k in key): tuple(row[m] for m in MEASURES) for row in DepartmentRollup.objects.values()}
    return sorted(set(added_up.items()) ^ set(kept.items()), key=str)
