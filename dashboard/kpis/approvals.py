"""The approval requests waiting for a person now, nearest deadline first (the board report lists them)."""

from collections.abc import Iterable

from dashboard.kpis.snapshot import departments_in_scope
from governance.models import Approval


def open_approvals(viewer, departments: Iterable[int] | None = None, limit: int = 20) -> list[Approval]:
    """Requests waiting for a person now, the nearest deadline first."""
    scope = departments_in_scope(viewer, departments)
    pending = Approval.objects.filter(status=Approval.Status.PENDING).select_related("decision__agent", "department")
    if scope is not None:
        pending = pending.filter(department_id__in=scope)
    return list(pending.order_by("deadline")[:limit])
