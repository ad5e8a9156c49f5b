"""The board pack for a period: one set of numbers, shown as a printable page, a PDF and a CSV.

Everything here describes the period, not today: figures, incidents, and the approvals that were
still waiting when the period ended. The page and the PDF render the same template
(`dashboard/board_pack.html`); the PDF is that HTML printed by WeasyPrint (`dashboard/board_pdf.py`).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from dashboard.kpis.concentration import ProviderShare, provider_concentration
from dashboard.kpis.risk import AgentRisk, DepartmentRisk, PolicyHits, department_risk, policy_hits, risky_agents
from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, snapshot
from dashboard.kpis.tiles import Tile, budget_for, kpis
from dashboard.kpis.trend import Trend, trend
from dashboard.kpis.value import CostValue, cost_and_value
from dashboard.money import format_money
from dashboard.periods import Period
from governance.engine import PAST_TENSE
from governance.models import Approval, Decision, Verdict
from orchestration.models import Agent, Department

INCIDENT_LIMIT = 25
APPROVAL_LIMIT = 20
CRITICAL_RISK = 75  # the rollups' risk_critical band: 75–100
STATUS_CHANGE_KINDS = ("agent.status_changed", "department.status_changed")
VERDICT_WORDS = {str(effect): words for effect, words in PAST_TENSE.items()}
NOT_PERIOD_FIGURES = ("active_agents", "open_approvals")  # "now" figures; the pack reports the period's end


@dataclass(frozen=True)
class Figure:
    """A key figure as the board reads it: with its unit or currency, beside the period before."""

    key: str
    label: str
    unit: str  # count, percent, money, seconds (as the tiles say)
    value: float | None
    previous: float | None
    display: str
    previous_display: str
    change: str
    trend: str
    note: str


@dataclass(frozen=True)
class Incidents:
    """Every denied or critical-risk decision of the period: counted exactly, the latest listed."""

    total: int
    denied: int
    critical: int
    shown: list[Decision]

    @property
    def rows(self) -> list[dict]:
        return [{"decision": d, "verdict": VERDICT_WORDS.get(d.verdict, d.verdict), "why": _why(d)} for d in self.shown]


def _why(decision: Decision) -> str:
    reasons = [
        *(["denied"] if decision.verdict == Verdict.DENY else []),
        *(["critical"] if decision.risk_score >= CRITICAL_RISK else []),
    ]
    return ", ".join(reasons)


@dataclass(frozen=True)
class OutstandingApprovals:
    """Requests a person had not decided when the period ended, oldest first."""

    total: int
    shown: list[Approval]
    at: dt.datetime


@dataclass(frozen=True)
class StatusChange:
    at: dt.datetime
    what: str


@dataclass(frozen=True)
class BoardReport:
    period: Period
    scope_label: str
    generated_at: dt.datetime
    figures: list[Figure]
    budget: float
    trend: Trend
    departments: list[DepartmentRisk]
    risks: list[AgentRisk]
    policies: list[PolicyHits]
    incidents: Incidents
    approvals: OutstandingApprovals
    value: list[CostValue]
    providers: list[ProviderShare]
    status_changes: list[StatusChange]

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def board_report(viewer, period: Period, departments: list[int] | None = None) -> BoardReport:
    scope = departments_in_scope(viewer, departments)
    names = Department.objects.filter(pk__in=scope).order_by("name").values_list("name", flat=True) if scope else []
    return BoardReport(
        period=period,
        scope_label=", ".join(names) if scope is not None else "All departments",
        generated_at=timezone.now(),
        figures=[_figure(t) for t in kpis(viewer, period, departments) if t.key not in NOT_PERIOD_FIGURES],
        budget=budget_for(period, scope),
        trend=trend(viewer, period, departments),
        departments=department_risk(viewer, period, departments),
        risks=risky_agents(viewer, period, departments, limit=5),
        policies=policy_hits(viewer, period, departments, limit=5),
        incidents=incidents(period, scope, INCIDENT_LIMIT),
        approvals=outstanding_approvals(period, scope, APPROVAL_LIMIT),
        value=cost_and_value(viewer, period, departments, by="department"),
        providers=provider_concentration(viewer, period, departments),
        status_changes=_status_changes(period, scope),
    )


def display(value: float | None, unit: str) -> str:
    """A figure in the board's words: money in the organisation's currency, waits in minutes."""
    if value is None:
        return "—"
    if unit == "money":
        return format_money(value, whole=True)
    if unit == "seconds":
        return f"{value / 60:,.0f} min"
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}"


def _figure(tile: Tile) -> Figure:
    change = tile.change_display.replace(" vs previous period", "")
    return Figure(
        tile.key,
        tile.label,
        tile.unit,
        tile.value,
        tile.previous,
        display(tile.value, tile.unit),
        display(tile.previous, tile.unit),
        change,
        tile.trend,
        tile.note if tile.unit != "money" else "",
    )


def incidents(period: Period, scope: list[int] | None, limit: int = INCIDENT_LIMIT) -> Incidents:
    """Counts from the rollups (exact, never a scan); the latest `limit` rows by an index walk on time."""
    with snapshot():
        sums = _decision_sums(period, scope, ("verdict",), ("decisions", "risk_critical"))
    denied = sums.get((Verdict.DENY,), {}).get("decisions", 0)
    critical_not_denied = sum(v["risk_critical"] for (verdict,), v in sums.items() if verdict != Verdict.DENY)
    critical = sum(v["risk_critical"] for v in sums.values())
    rows = Decision.objects.filter(created_at__gte=period.start, created_at__lt=period.end).filter(
        Q(verdict=Verdict.DENY) | Q(risk_score__gte=CRITICAL_RISK)
    )
    if scope is not None:
        rows = rows.filter(department_id__in=scope)
    shown = list(rows.select_related("agent", "department").order_by("-created_at", "-id")[:limit])
    return Incidents(total=denied + critical_not_denied, denied=denied, critical=critical, shown=shown)


def outstanding_approvals(period: Period, scope: list[int] | None, limit: int = APPROVAL_LIMIT) -> OutstandingApprovals:
    """Requested before the period ended and not decided by then (still pending, or decided afterwards)."""
    at = min(period.end, timezone.now())
    waiting = Approval.objects.filter(requested_at__lt=period.end)
    if period.end >= timezone.now():  # nothing is decided in the future: the status index answers
        waiting = waiting.filter(status=Approval.Status.PENDING)
    else:
        waiting = waiting.filter(Q(status=Approval.Status.PENDING) | Q(decided_at__gte=period.end))
    if scope is not None:
        waiting = waiting.filter(department_id__in=scope)
    shown = list(waiting.select_related("decision__agent", "department").order_by("requested_at", "id")[:limit])
    return OutstandingApprovals(total=waiting.count(), shown=shown, at=at)


def _status_changes(period: Period, scope: list[int] | None) -> list[StatusChange]:
    """Every pause, resume or kill of an agent or department in the period, from the audit log."""
    events = AuditEvent.objects.filter(
        kind__in=STATUS_CHANGE_KINDS, occurred_at__gte=period.start, occurred_at__lt=period.end
    ).order_by("-occurred_at")
    if scope is not None:
        events = events.filter(department_id__in=scope)
    events = list(events[:INCIDENT_LIMIT])
    names = {
        "agent": _names(Agent, events, "agent"),
        "department": _names(Department, events, "department"),
    }
    changes = []
    for event in events:
        status = (event.after or {}).get("status", "changed")
        name = names.get(event.subject_type, {}).get(event.subject_id, event.subject_id)
        what = f"{event.subject_type.capitalize()} {name} set to {status} by {event.actor_label}"
        changes.append(StatusChange(event.occurred_at, what))
    return changes


def _names(model, events: list[AuditEvent], subject_type: str) -> dict[str, str]:
    ids = [int(e.subject_id) for e in events if e.subject_type == subject_type and e.subject_id.isdigit()]
    return {str(pk): name for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")}
