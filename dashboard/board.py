"""The board pack for a period: one set of numbers, shown as a printable page, a PDF and a CSV.

Everything here describes the period, not today: figures, incidents, and the approvals that were
still waiting when the period ended. The page and the PDF render the same template
(`dashboard/board_pack.html`); the PDF is that HTML printed by WeasyPrint (`dashboard/board_pdf.py`).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEvent
from dashboard.glossary import TERMS, Term, action_label, actor_label, verdict_label
from dashboard.kpis.concentration import ProviderShare, provider_concentration
from dashboard.kpis.risk import AgentRisk, DepartmentRisk, PolicyHits, department_risk, policy_hits, risky_agents
from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, snapshot
from dashboard.kpis.tiles import Tile, budget_for, kpis
from dashboard.kpis.trend import Trend, trend
from dashboard.kpis.value import CostValue, cost_and_value
from dashboard.money import format_money, in_other_currencies
from dashboard.periods import Period
from governance.engine import PAST_TENSE
from governance.models import Approval, Decision, Verdict
from orchestration.models import Agent, Department, Status

INCIDENT_LIMIT = 25
APPROVAL_LIMIT = 20
CRITICAL_RISK = 75  # the rollups' risk_critical band: 75–100
STATUS_CHANGE_KINDS = ("agent.status_changed", "department.status_changed")
VERDICT_WORDS = {str(effect): words for effect, words in PAST_TENSE.items()}
STATUS_WORDS = {Status.ACTIVE: "resumed", Status.PAUSED: "paused", Status.KILLED: "stopped with the kill switch"}
NOT_PERIOD_FIGURES = ("active_agents", "open_approvals")  # "now" figures; the pack reports the period's end
DEFINED_TERMS = (  # the glossary's terms the pack uses, defined at its end in the glossary's own words
    "decisions",
    "automation_rate",
    "escalation_rate",
    "violation",
    "violation_rate",
    "override_rate",
    "rejection_rate",
    "median_approval_seconds",
    "spend",
    "budget",
    "cost",
    "value",
    "risk_score",
    "risk_appetite",
    "incident",
    "shadow_policy",
    "approvals_outstanding",
    "vendor_concentration",
)


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
    other_currencies: dict[str, Decimal] = field(default_factory=dict)  # money: beside the figure, never in it

    @property
    def also(self) -> str:
        return in_other_currencies(self.other_currencies)


@dataclass(frozen=True)
class Incidents:
    """Every denied or critical-risk decision of the period: counted exactly, the latest listed."""

    total: int
    denied: int
    critical: int
    shown: list[Decision]

    @property
    def rows(self) -> list[dict]:
        """Each incident in words: the action as the business names it, what the policies did, and why it is listed."""
        return [
            {
                "decision": d,
                "action": action_label(d.action),
                "verdict": VERDICT_WORDS.get(d.verdict) or verdict_label(d.verdict),
                "why": _why(d),
            }
            for d in self.shown
        ]


def _why(decision: Decision) -> str:
    reasons = [
        *(["denied by policy"] if decision.verdict == Verdict.DENY else []),
        *([f"critical risk ({CRITICAL_RISK} or more)"] if decision.risk_score >= CRITICAL_RISK else []),
    ]
    return " and ".join(reasons).capitalize()


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

    @property
    def definitions(self) -> list[Term]:
        return [TERMS[key] for key in DEFINED_TERMS]

    @property
    def spend_currencies(self) -> list[str]:
        """The currencies other than the organisation's that some department spent in: a CSV column each."""
        return sorted({code for row in self.value for code in row.spend_other_currencies})


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
        tile.other_currencies,
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
    events = (
        AuditEvent.objects.filter(
            kind__in=STATUS_CHANGE_KINDS, occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        .select_related("actor")
        .order_by("-occurred_at")
    )
    if scope is not None:
        events = events.filter(department_id__in=scope)
    events = list(events[:INCIDENT_LIMIT])
    names = {
        "agent": _names(Agent, events, "agent"),
        "department": _names(Department, events, "department"),
    }
    changes = []
    for event in events:
        after = event.after or {}
        done = STATUS_WORDS.get(after.get("status"), "changed status")
        name = names.get(event.subject_type, {}).get(event.subject_id, event.subject_id)
        what = f"{name} ({event.subject_type}) {done} by {_who(event)}"
        reason = after.get("reason", "")
        changes.append(StatusChange(event.occurred_at, what + (f": “{reason}”" if reason else "")))
    return changes


def _who(event: AuditEvent) -> str:
    """The person by name (read with the event), else the actor in words: an agent, or Regent itself."""
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    return actor_label(event.actor_label)


def _names(model, events: list[AuditEvent], subject_type: str) -> dict[str, str]:
    ids = [int(e.subject_id) for e in events if e.subject_type == subject_type and e.subject_id.isdigit()]
    return {str(pk): name for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")}
