"""The trend under the overview's tiles: decisions and the main rates per hour or day of the period.

The overview's charts, the board report and the REST API draw the same series.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from dashboard.kpis.snapshot import _decision_sums, as_utc, departments_in_scope, rate, snapshot
from dashboard.kpis.violations import VIOLATION_VERDICTS
from dashboard.periods import Period


@dataclass(frozen=True)
class Trend:
    buckets: list[dt.datetime]
    decisions: list[int]
    rates: dict[str, list[float | None]] = field(default_factory=dict)


def trend(viewer, period: Period, departments: Iterable[int] | None = None) -> Trend:
    """Decisions and the main rates per hour or day of the period (empty buckets included)."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        sums = _decision_sums(
            period, scope, ("start", "verdict"), ("decisions", "approvals_approved", "approvals_rejected")
        )
    per_bucket: dict[dt.datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (start, verdict), values in sums.items():
        bucket = per_bucket[as_utc(start)]
        bucket["decisions"] += values["decisions"]
        bucket[verdict] += values["decisions"]
        bucket["approved"] += values["approvals_approved"]
        bucket["rejected"] += values["approvals_rejected"]
    buckets = period.buckets()
    rows = [per_bucket.get(b, {}) for b in buckets]
    total = [r.get("decisions", 0) for r in rows]
    return Trend(
        buckets=buckets,
        decisions=total,
        rates={
            "Automation": [rate(t - r.get("require_approval", 0), t) for r, t in zip(rows, total, strict=True)],
            "Escalation": [rate(r.get("require_approval", 0), t) for r, t in zip(rows, total, strict=True)],
            "Violation": [
                rate(sum(r.get(v, 0) for v in VIOLATION_VERDICTS), t) for r, t in zip(rows, total, strict=True)
            ],
            "Rejection": [rate(r.get("rejected", 0), r.get("approved", 0) + r.get("rejected", 0)) for r in rows],
        },
    )
