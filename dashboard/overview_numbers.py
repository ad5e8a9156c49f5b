"""What the overview refreshes while it is open: the tiles (from rollups) and the newest decisions."""

from collections.abc import Iterable

from dashboard.kpis.snapshot import departments_in_scope
from dashboard.kpis.tiles import kpis
from dashboard.periods import Period
from governance.models import Decision

RECENT_LIMIT = 10


def recent_decisions(user, departments: Iterable[int] | None = None, limit: int = RECENT_LIMIT) -> list[dict]:
    """The newest decisions in scope: an index walk on created_at, never a scan of history."""
    scope = departments_in_scope(user, departments)
    decisions = Decision.objects.select_related("agent", "department").order_by("-created_at", "-id")
    if scope is not None:
        decisions = decisions.filter(department_id__in=scope)
    return [
        {
            "id": d.pk,
            "at": d.created_at.isoformat(),
            "agent": d.agent.name,
            "agent_id": d.agent_id,
            "department": d.department.name,
            "action": d.action,
            "amount": str(d.amount) if d.amount is not None else "",
            "currency": d.currency,
            "verdict": d.verdict,
            "risk_score": d.risk_score,
        }
        for d in decisions[:limit]
    ]


def overview_numbers(user, period: Period, departments: Iterable[int] | None = None) -> dict:
    """The tiles as the page shows them, and the newest decisions, for the page's live refresh."""
    return {
        "tiles": {
            tile.key: {
                "display": tile.display,
                "change": tile.change_display,
                "note": tile.note,
                "also": tile.also,  # money tiles: amounts in other currencies, never added into "display"
                "trend": tile.trend,
                "value": tile.value,
            }
            for tile in kpis(user, period, departments)
        },
        "recent": recent_decisions(user, departments),
    }
