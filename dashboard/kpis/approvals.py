"""The approval requests waiting for a person now: the list the board report shows, nearest deadline first, and
the backlog the overview shows (who must decide, how long the oldest has waited).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Min

from dashboard.kpis.snapshot import departments_in_scope
from governance.approvals import inbox_for
from governance.models import Approval


def open_approvals(viewer, departments: Iterable[int] | None = None, limit: int = 20) -> list[Approval]:
    """Requests waiting for a person now, the nearest deadline first."""
    scope = departments_in_scope(viewer, departments)
    pending = Approval.objects.filter(status=Approval.Status.PENDING).select_related("decision__agent", "department")
    if scope is not None:
        pending = pending.filter(department_id__in=scope)
    return list(pending.order_by("deadline")[:limit])


@dataclass(frozen=True)
class Backlog:
    """Every request waiting for a person in the viewer's scope, and how many of them are the viewer's to decide."""

    waiting: int
    by_role: dict[str, int]  # approver role → requests waiting for it
    oldest_requested_at: dt.datetime | None
    for_viewer: int  # addressed to the viewer: what their inbox lists
    whole_organisation: bool

    def oldest_wait(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.oldest_requested_at is None else max(now - self.oldest_requested_at, dt.timedelta(0))


def approval_backlog(viewer, departments: Iterable[int] | None = None) -> Backlog:
    """The backlog the Open approvals tile counts, split by who must decide, with the oldest request's age."""
    scope = departments_in_scope(viewer, departments)
    pending = Approval.objects.filter(status=Approval.Status.PENDING)
    if scope is not None:
        pending = pending.filter(department_id__in=scope)
    by_role = dict(pending.values_list("approver_role").annotate(n=Count("pk")).order_by("approver_role"))
    oldest = pending.aggregate(oldest=Min("requested_at"))["oldest"]
    mine, decides = inbox_for(viewer)
    if scope is not None:
        mine = mine.filter(department_id__in=scope)
    return Backlog(
        waiting=sum(by_role.values()),
        by_role=by_role,
        oldest_requested_at=oldest,
        for_viewer=mine.count() if decides else 0,
        whole_organisation=scope is None,
    )
