"""Reading the rollups: the plumbing every figure here (and the agents' league table) shares.

Folded buckets and the changes still waiting to be folded are read in one snapshot, so a fold
running meanwhile can neither hide a decision nor count it twice. Also here: which departments a
viewer's figures cover, and the rate and UTC-bucket helpers every figure uses the same way.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum

from dashboard.models import DEPARTMENT_DIMENSIONS, DecisionRollup, DepartmentRollup, RollupChange
from dashboard.periods import Period
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments

DEPARTMENT_GROUPS = frozenset({"start", *DEPARTMENT_DIMENSIONS})
Key = tuple
Sums = dict[str, Decimal | int]


@contextmanager
def snapshot() -> Iterator[None]:
    """One consistent view of buckets and waiting changes (REPEATABLE READ on PostgreSQL)."""
    if connection.in_atomic_block:  # already inside a transaction (a test, a larger operation): use it
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def departments_in_scope(viewer, departments: Iterable[int] | None = None) -> list[int] | None:
    """The department ids to read: None means the whole organisation (no filter needed)."""
    visible = None if sees_whole_organisation(viewer) else set(visible_departments(viewer).values_list("pk", flat=True))
    if departments is None:
        return None if visible is None else sorted(visible)
    asked = set(departments)
    return sorted(asked if visible is None else asked & visible)


def _decision_sums(period: Period, scope: list[int] | None, group: tuple[str, ...], measures: Iterable[str]) -> dict:
    """Sums of `measures` per `group` over folded buckets plus waiting changes; the department buckets (fewer rows)
    unless the group needs the agent or provider."""
    measures = tuple(measures)
    buckets = DepartmentRollup if set(group) <= DEPARTMENT_GROUPS else DecisionRollup
    folded = buckets.objects.filter(grain=period.grain, start__gte=period.start, start__lt=period.end)
    waiting = RollupChange.objects.filter(
        policy__isnull=True, **{f"{period.grain}__gte": period.start, f"{period.grain}__lt": period.end}
    ).annotate(start=F(period.grain))
    return merge((folded, waiting), scope, group, measures)


def merge(querysets, scope: list[int] | None, group: tuple[str, ...], measures: tuple[str, ...]) -> dict:
    totals: dict[Key, Sums] = defaultdict(lambda: dict.fromkeys(measures, 0))
    for queryset in querysets:
        if scope is not None:
            queryset = queryset.filter(department_id__in=scope)
        rows = queryset.values(*group).annotate(**{f"sum_{m}": Sum(m) for m in measures}).order_by()
        for row in rows:
            key = tuple(row[g] for g in group)
            for m in measures:
                totals[key][m] += row[f"sum_{m}"] or 0
    return dict(totals)


def _total(sums: dict, measure: str) -> Decimal | int:
    return sum((s[measure] for s in sums.values()), 0)


def rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def as_utc(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands back the raw text of an annotated column
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
