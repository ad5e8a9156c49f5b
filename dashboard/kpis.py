"""Every number on the executive pages, computed from the rollups (never by scanning decisions).

Public functions take the viewer, a `Period` and the departments asked for (None: all the viewer
may see) and return plain data: the pages, the board report and the REST API call the same ones.
Folded buckets and the changes still waiting to be folded are read in one snapshot, so a fold
running meanwhile can neither hide a decision nor count it twice.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Sum

from dashboard.models import DecisionRollup, PolicyRollup, RollupChange
from dashboard.periods import Period
from dashboard.rollups import WAIT_BINS
from governance.models import Approval, Override, Policy, Verdict
from orchestration.models import Agent, Department, ModelProvider, Status
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments
from workflows.models import StepRun, Strategy

DAYS_PER_MONTH = Decimal("30.4375")
RISK_BANDS = [("risk_low", "Low (0–24)"), ("risk_moderate", "Moderate (25–49)"),
              ("risk_high", "High (50–74)"), ("risk_critical", "Critical (75–100)")]  # fmt: skip
Key = tuple
Sums = dict[str, Decimal | int]
# One definition of a violation for every page, the board report and the API.
VIOLATION_VERDICTS = (Verdict.DENY, Verdict.FLAG)
VIOLATION_DEFINITION = "denied or flagged decisions as a share of all decisions in the period"


# --- reading the rollups --------------------------------------------------------------------------


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
    """Sums of `measures` per `group` over folded buckets plus waiting changes."""
    measures = tuple(measures)
    folded = DecisionRollup.objects.filter(grain=period.grain, start__gte=period.start, start__lt=period.end)
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


# --- the overview tiles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: float | None
    previous: float | None = None
    unit: str = "count"  # count, percent, money, seconds
    higher_is_better: bool | None = None
    note: str = ""

    @property
    def change(self) -> float | None:
        """Points for percentages, relative per cent otherwise; None when there is nothing to compare."""
        if self.value is None or self.previous is None:
            return None
        if self.unit == "percent":
            return round(self.value - self.previous, 1)
        if self.previous == 0:
            return None
        return round(100 * (self.value - self.previous) / self.previous, 1)

    @property
    def display(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def change_display(self) -> str:
        change = self.change
        if change is None:
            return "no earlier figure" if self.previous is None else "new"
        arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
        unit = " pts" if self.unit == "percent" else "%"
        return f"{arrow} {abs(change):g}{unit} vs previous period"

    @property
    def trend(self) -> str:
        """good, bad or neutral: for styling, always repeated in words by the arrow text."""
        change = self.change
        if not change or self.higher_is_better is None:
            return "neutral"
        return "good" if (change > 0) == self.higher_is_better else "bad"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "money":
        if abs(value) >= 1_000_000:
            return f"{value / 1_000_000:,.2f} M"
        return f"{value / 1000:,.1f} k" if abs(value) >= 10_000 else f"{value:,.0f}"
    if unit == "seconds":
        return f"{value / 60:.0f} min" if value < 3 * 3600 else f"{value / 3600:.1f} h"
    return f"{value:,.0f}"


TILE_MEASURES = ("decisions", "approvals_approved", "approvals_rejected", "spend", "value", "cost",
                 *(name for name, _, _ in WAIT_BINS))  # fmt: skip


def rate(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _figures(period: Period, scope: list[int] | None) -> dict[str, float | None]:
    by_verdict = _decision_sums(period, scope, ("verdict",), TILE_MEASURES)
    decisions = _total(by_verdict, "decisions")

    def verdict(name: str) -> int:
        return by_verdict.get((name,), {}).get("decisions", 0)

    approved, rejected = _total(by_verdict, "approvals_approved"), _total(by_verdict, "approvals_rejected")
    waits = {name: _total(by_verdict, name) for name, _, _ in WAIT_BINS}
    violations = sum(verdict(name) for name in VIOLATION_VERDICTS)
    return {
        "decisions": decisions,
        "automation_rate": rate(decisions - verdict("require_approval"), decisions),
        "escalation_rate": rate(verdict("require_approval"), decisions),
        "violation_rate": rate(violations, decisions),
        "override_rate": rate(_overrides(period, scope), violations),
        "rejection_rate": rate(rejected, approved + rejected),
        "median_approval_seconds": median_wait(waits),
        "spend": float(_total(by_verdict, "spend")),
        "value": float(_total(by_verdict, "value")),
        "cost": float(_total(by_verdict, "cost")),
    }


def _overrides(period: Period, scope: list[int] | None) -> int:
    """Overrides of the period's decisions. Read from their table: people override a handful a day."""
    overrides = Override.objects.filter(decision__created_at__gte=period.start, decision__created_at__lt=period.end)
    return (overrides if scope is None else overrides.filter(decision__department_id__in=scope)).count()


def median_wait(bins: dict[str, int]) -> float | None:
    """The median time to a person's decision, interpolated within the histogram bin that holds it."""
    total = sum(bins.values())
    if not total:
        return None
    half, seen = total / 2, 0
    for name, low, high in WAIT_BINS:
        count = bins.get(name, 0)
        if count and seen + count >= half:
            low = low or 0
            if high is None:
                return float(low)
            return low + (high - low) * (half - seen) / count
        seen += count
    return None


def budget_for(period: Period, scope: list[int] | None) -> float:
    """Monthly budgets pro rata for the period's length."""
    departments = Department.objects.all() if scope is None else Department.objects.filter(pk__in=scope)
    monthly = departments.aggregate(total=Sum("monthly_budget"))["total"] or Decimal("0")
    return float(monthly * Decimal(str(period.days)) / DAYS_PER_MONTH)


def kpis(viewer, period: Period, departments: Iterable[int] | None = None) -> list[Tile]:
    """The overview's tiles, each with the figure for the period before it."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        now, before = _figures(period, scope), _figures(period.previous(), scope)
        agents = Agent.objects.filter(status=Status.ACTIVE)
        approvals = Approval.objects.filter(status=Approval.Status.PENDING)
        if scope is not None:
            agents, approvals = agents.filter(department_id__in=scope), approvals.filter(department_id__in=scope)
        active_agents, open_approvals = agents.count(), approvals.count()
    budget = budget_for(period, scope)
    used = rate(now["spend"], budget)

    def tile(key: str, label: str, unit: str = "count", better: bool | None = None, note: str = "") -> Tile:
        return Tile(key, label, now[key], before[key], unit, better, note)

    return [
        tile("decisions", "Decisions"),
        tile("automation_rate", "Automation rate", "percent", True, "decided without a person"),
        tile("escalation_rate", "Escalation rate", "percent", False, "sent to a person"),
        tile("violation_rate", "Violation rate", "percent", False, "denied or flagged by policy"),
        tile("override_rate", "Override rate", "percent", None, "violations a person overrode"),
        tile("rejection_rate", "Rejection rate", "percent", None, "a person rejected what the engine held"),
        tile("median_approval_seconds", "Median time to approval", "seconds", False),
        tile("spend", "Spend", "money", None, f"of {budget:,.0f} budget" + (f" ({used:.0f}%)" if used else "")),
        tile("value", "Value delivered", "money", True, "from reported outcomes"),
        Tile("active_agents", "Active agents", active_agents),
        Tile("open_approvals", "Open approvals", open_approvals, None, "count", False, "waiting for a person now"),
    ]


# --- trends ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    buckets: list[dt.datetime]
    decisions: list[int]
    rates: dict[str, list[float | None]] = field(default_factory=dict)


def trend(viewer, period: Period, departments: Iterable[int] | None = None) -> Trend:
    """Decisions and the main rates per hour or day of the period (empty buckets included)."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        sums = _decision_sums(period, scope, ("start", "verdict"), ("decisions", "approvals_approved",
                                                                     "approvals_rejected"))  # fmt: skip
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


def as_utc(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite hands back the raw text of an annotated column
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- risk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentRisk:
    agent_id: int
    agent: str
    department: str
    decisions: int
    average_risk: float
    appetite: int
    denied: int
    critical: int

    @property
    def over_appetite(self) -> bool:
        return self.average_risk > self.appetite


def risky_agents(viewer, period: Period, departments: Iterable[int] | None = None, limit: int = 5) -> list[AgentRisk]:
    """Agents by average risk score in the period, highest first: the top risks now."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        sums = _decision_sums(period, scope, ("agent_id", "verdict"), ("decisions", "risk_total", "risk_critical"))
    per_agent: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (agent_id, verdict), values in sums.items():
        for measure, amount in values.items():
            per_agent[agent_id][measure] += amount
        if verdict == "deny":
            per_agent[agent_id]["denied"] += values["decisions"]
    agents = Agent.objects.select_related("department").in_bulk(per_agent)
    ranked = [
        AgentRisk(
            agent_id=pk,
            agent=agents[pk].name,
            department=agents[pk].department.name,
            decisions=v["decisions"],
            average_risk=round(v["risk_total"] / v["decisions"], 1),
            appetite=agents[pk].department.risk_appetite,
            denied=v["denied"],
            critical=v["risk_critical"],
        )
        for pk, v in per_agent.items()
        if v["decisions"] and pk in agents
    ]
    ranked.sort(key=lambda a: (-a.average_risk, -a.critical, a.agent))
    return ranked[:limit]


@dataclass(frozen=True)
class DepartmentRisk:
    department: str
    appetite: int
    decisions: int
    average_risk: float | None
    bands: dict[str, int]
    shadow: dict[str, int]

    @property
    def over_appetite(self) -> bool:
        return self.average_risk is not None and self.average_risk > self.appetite


def department_risk(viewer, period: Period, departments: Iterable[int] | None = None) -> list[DepartmentRisk]:
    """Per department: decisions by risk band, average risk against appetite, what shadow policies would change."""
    scope = departments_in_scope(viewer, departments)
    bands = [name for name, _ in RISK_BANDS]
    shadow = ("shadow_deny", "shadow_hold", "shadow_allow")
    with snapshot():
        sums = _decision_sums(period, scope, ("department_id",), ("decisions", "risk_total", *bands, *shadow))
    queryset = Department.objects.all() if scope is None else Department.objects.filter(pk__in=scope)
    result = []
    for department in queryset.order_by("name"):
        values = sums.get((department.pk,), dict.fromkeys(("decisions", "risk_total", *bands, *shadow), 0))
        result.append(
            DepartmentRisk(
                department=department.name,
                appetite=department.risk_appetite,
                decisions=values["decisions"],
                average_risk=round(values["risk_total"] / values["decisions"], 1) if values["decisions"] else None,
                bands={name: values[name] for name in bands},
                shadow={name: values[name] for name in shadow},
            )
        )
    return result


@dataclass(frozen=True)
class PolicyHits:
    policy: str
    enforced: int
    shadow: int


def policy_hits(
    viewer, period: Period, departments: Iterable[int] | None = None, limit: int = 10, agent_id: int | None = None
) -> list[PolicyHits]:
    """The policies that fired most in the period, enforced and in shadow (for one agent, when given)."""
    scope = departments_in_scope(viewer, departments)
    folded = PolicyRollup.objects.filter(grain=period.grain, start__gte=period.start, start__lt=period.end)
    waiting = RollupChange.objects.filter(
        policy__isnull=False, **{f"{period.grain}__gte": period.start, f"{period.grain}__lt": period.end}
    )
    if agent_id is not None:  # the buckets' (agent, grain, start) index serves this
        folded, waiting = folded.filter(agent_id=agent_id), waiting.filter(agent_id=agent_id)
    with snapshot():
        sums = merge((folded, waiting), scope, ("policy_id", "policy_mode"), ("hits",))
    per_policy: dict[int, dict[str, int]] = defaultdict(lambda: {"enforce": 0, "shadow": 0})
    for (policy_id, mode), values in sums.items():
        per_policy[policy_id][mode if mode == "shadow" else "enforce"] += values["hits"]
    names = dict(Policy.objects.filter(pk__in=per_policy).values_list("pk", "name"))
    rows = [PolicyHits(names.get(pk, f"Policy {pk}"), v["enforce"], v["shadow"]) for pk, v in per_policy.items()]
    rows.sort(key=lambda p: (-(p.enforced + p.shadow), p.policy))
    return rows[:limit]


# --- strategy and value ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CostValue:
    name: str
    decisions: int
    spend: float
    cost: float
    value: float


def cost_and_value(viewer, period: Period, departments: Iterable[int] | None = None, *, by: str) -> list[CostValue]:
    """Decisions, spend, cost and value per department or per provider (`by`), largest value first."""
    scope = departments_in_scope(viewer, departments)
    dimension = {"department": "department_id", "provider": "provider_id"}[by]
    with snapshot():
        sums = _decision_sums(period, scope, (dimension,), ("decisions", "spend", "cost", "value"))
    model = Department if by == "department" else ModelProvider
    names = dict(model.objects.filter(pk__in=[k[0] for k in sums]).values_list("pk", "name"))
    rows = [
        CostValue(names.get(k[0], f"#{k[0]}"), v["decisions"], float(v["spend"]), float(v["cost"]), float(v["value"]))
        for k, v in sums.items()
    ]
    rows.sort(key=lambda r: (-r.value, -r.decisions, r.name))
    return rows


@dataclass(frozen=True)
class ProviderShare:
    provider: str
    decisions: int
    share: float
    over_threshold: bool


def provider_concentration(viewer, period: Period, departments: Iterable[int] | None = None) -> list[ProviderShare]:
    """Share of the period's work per model provider; above the setting, a lock-in risk."""
    rows = cost_and_value(viewer, period, departments, by="provider")
    total = sum(r.decisions for r in rows)
    threshold = settings.PROVIDER_CONCENTRATION_WARNING
    shares = [
        ProviderShare(r.name, r.decisions, round(100 * r.decisions / total, 1), 100 * r.decisions / total > threshold)
        for r in rows
        if total
    ]
    return sorted(shares, key=lambda s: (-s.share, s.provider))


@dataclass(frozen=True)
class RoutingShift:
    current: Strategy | None
    previous: Strategy | None
    before: dict[str, float]
    after: dict[str, float]
    steps_before: int
    steps_after: int


SHIFT_WINDOW = dt.timedelta(days=7)


def routing_shift(viewer, departments: Iterable[int] | None = None) -> RoutingShift:
    """Which agents routing chose (share of routed steps) in the week before and since the last strategy change."""
    scope = departments_in_scope(viewer, departments)
    strategies = list(Strategy.objects.order_by("-created_at")[:2])
    current = next((s for s in strategies if s.is_active), strategies[0] if strategies else None)
    previous = next((s for s in strategies if s is not current), None)
    if current is None:
        return RoutingShift(None, None, {}, {}, 0, 0)
    changed = current.created_at
    steps = StepRun.objects.filter(agent__isnull=False, routed_at__isnull=False)
    if scope is not None:
        steps = steps.filter(agent__department_id__in=scope)
    before = _shares(steps.filter(routed_at__gte=changed - SHIFT_WINDOW, routed_at__lt=changed))
    after = _shares(steps.filter(routed_at__gte=changed, routed_at__lt=changed + SHIFT_WINDOW))
    return RoutingShift(current, previous, before[0], after[0], before[1], after[1])


def _shares(steps) -> tuple[dict[str, float], int]:
    counts = dict(steps.values_list("agent__name").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    return ({name: round(100 * n / total, 1) for name, n in counts.items()} if total else {}), total


def open_approvals(viewer, departments: Iterable[int] | None = None, limit: int = 20) -> list[Approval]:
    """Requests waiting for a person now, the nearest deadline first."""
    scope = departments_in_scope(viewer, departments)
    pending = Approval.objects.filter(status=Approval.Status.PENDING).select_related("decision__agent", "department")
    if scope is not None:
        pending = pending.filter(department_id__in=scope)
    return list(pending.order_by("deadline")[:limit])
