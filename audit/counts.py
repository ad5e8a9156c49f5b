"""Events per hour and department (AuditEventCount), so that counting a period's events costs the same at ten
million events as at ten thousand: the controls' audit-log evidence (dashboard.compliance) reads them.

`fold` adds the events after the mark (AuditCountMark) up to the chain's head to their hour's row, in one
transaction that moves the mark: an event is counted exactly once. Beat folds every AUDIT_COUNT_SECONDS, and
retention folds before it deletes. `count` adds the hours' rows to the events after the mark, which it counts one
by one (a minute's worth when beat keeps up). Read both in one snapshot (REPEATABLE READ) for an exact answer.
"""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from audit.models import AuditChainHead, AuditCountMark, AuditEvent, AuditEventCount

FOLD_BATCH = 200_000  # events per transaction


def fold(limit: int = FOLD_BATCH) -> int:
    """Fold up to `limit` events after the mark into their hours' rows; return how many were folded."""
    with transaction.atomic():
        mark, _ = AuditCountMark.objects.select_for_update().get_or_create(pk=1)
        # The head moves in the transaction that inserts its events: every event up to it is visible now.
        head = AuditChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        upto = min(head, mark.seq + limit)
        if upto <= mark.seq:
            return 0
        hours = (
            AuditEvent.objects.filter(seq__gt=mark.seq, seq__lte=upto)
            .annotate(hour=TruncHour("occurred_at", tzinfo=dt.UTC))
            .values("hour", "department_id")
            .annotate(events=Count("seq"))
            .order_by()
        )
        _add(hours)
        folded, mark.seq = upto - mark.seq, upto
        mark.save(update_fields=["seq"])
    return folded


def fold_all() -> int:
    """Fold until the mark reaches the head; return how many events were folded."""
    total = 0
    while folded := fold():
        total += folded
    return total


def _add(hours: Iterable[dict]) -> None:
    found = {(row["hour"], row["department_id"]): row["events"] for row in hours}
    if not found:
        return
    existing = AuditEventCount.objects.filter(hour__in={hour for hour, _ in found})
    updated = []
    for row in existing:
        key = (row.hour, row.department_id)
        if key in found:
            row.events += found.pop(key)
            updated.append(row)
    AuditEventCount.objects.bulk_update(updated, ["events"], batch_size=1000)
    AuditEventCount.objects.bulk_create(
        [AuditEventCount(hour=hour, department_id=department, events=n) for (hour, department), n in found.items()],
        batch_size=1000,
    )


def _whole_hours(start: dt.datetime, end: dt.datetime) -> None:
    for moment in (start, end):
        if moment.minute or moment.second or moment.microsecond:
            raise ValueError(f"{moment.isoformat()} is not on a whole hour: the counts are per hour")


def count(start: dt.datetime, end: dt.datetime, department_ids: list[int] | None = None) -> int:
    """Events that occurred in [start, end) (whole UTC hours), in the departments named (None: all, the
    organisation's own events included)."""
    _whole_hours(start, end)
    mark = AuditCountMark.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    hours = AuditEventCount.objects.filter(hour__gte=start, hour__lt=end)
    if department_ids is not None:
        hours = hours.filter(department_id__in=department_ids)
    return (hours.aggregate(n=Sum("events"))["n"] or 0) + after_mark(start, end, department_ids, mark).count()


def after_mark(start: dt.datetime, end: dt.datetime, department_ids: list[int] | None, mark: int | None = None):
    """The events in [start, end) not folded yet: read by the chain's order from the mark, a short walk."""
    if mark is None:
        mark = AuditCountMark.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    events = AuditEvent.objects.filter(seq__gt=mark, occurred_at__gte=start, occurred_at__lt=end)
    return events if department_ids is None else events.filter(department_id__in=department_ids)


def newest_hour(start: dt.datetime, end: dt.datetime, department_ids: list[int] | None) -> dt.datetime | None:
    """The last hour in [start, end) with a folded event in the departments named."""
    hours = AuditEventCount.objects.filter(hour__gte=start, hour__lt=end, events__gt=0)
    if department_ids is not None:
        hours = hours.filter(department_id__in=department_ids)
    return hours.order_by("-hour").values_list("hour", flat=True).first()
