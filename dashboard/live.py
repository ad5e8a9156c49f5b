"""The numbers on the overview, computed for one person's scope."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from governance.models import Decision, Verdict
from orchestration.models import Status
from orchestration.scoping import scope_to_departments, visible_agents

RECENT_LIMIT = 10


def overview_numbers(user, *, hours: int = 24) -> dict:
    since = timezone.now() - timedelta(hours=hours)
    decisions = scope_to_departments(Decision.objects.all(), user)
    counts = decisions.filter(created_at__gte=since).aggregate(
        total=Count("id"),
        **{verdict.value: Count("id", filter=Q(verdict=verdict)) for verdict in Verdict},
    )
    total = counts["total"]
    recent = decisions.select_related("agent", "department")[:RECENT_LIMIT]
    return {
        "period_hours": hours,
        "decisions": total,
        "allowed": counts[Verdict.ALLOW],
        "denied": counts[Verdict.DENY],
        "escalated": counts[Verdict.REQUIRE_APPROVAL],
        "flagged": counts[Verdict.FLAG],
        "automation_rate": round(100 * (total - counts[Verdict.REQUIRE_APPROVAL]) / total, 1) if total else None,
        "active_agents": visible_agents(user).filter(status=Status.ACTIVE).count(),
        "recent": [
            {
                "id": d.pk,
                "at": d.created_at.isoformat(),
                "agent": d.agent.name,
                "department": d.department.name,
                "action": d.action,
                "amount": str(d.amount) if d.amount is not None else "",
                "currency": d.currency,
                "verdict": d.verdict,
                "risk_score": d.risk_score,
            }
            for d in recent
        ],
    }
