"""The overview's tiles: each headline figure for the period, beside the figure for the period before.

The board report, the REST API and the overview's live refresh show the same tiles.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum

from dashboard.glossary import TERMS
from dashboard.kpis.snapshot import _decision_sums, _total, departments_in_scope, rate, snapshot
from dashboard.kpis.violations import VIOLATION_VERDICTS
from dashboard.money import Amounts, format_money, format_money_short, in_other_currencies
from dashboard.periods import Period
from dashboard.rollups import WAIT_BINS
from governance.models import Approval, Override
from orchestration.models import Agent, Department, Status
from traces.usage import token_cost

DAYS_PER_MONTH = Decimal("30.4375")


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: float | None
    previous: float | None = None
    unit: str = "count"  # count, percent, money, seconds
    higher_is_better: bool | None = None
    note: str = ""
    budget: float | None = None  # spend only: the period's budget it is measured against
    # Money tiles: amounts in currencies other than the organisation's, beside `value` and never added into it.
    other_currencies: dict[str, Decimal] = field(default_factory=dict)

    @property
    def budget_share(self) -> float | None:
        return rate(self.value or 0, self.budget) if self.budget else None

    @property
    def definition(self) -> str:
        return TERMS[self.key].definition

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
    def also(self) -> str:
        """ "plus €360.00 in EUR": what the tile's figure leaves out because it is in another currency."""
        return in_other_currencies(self.other_currencies)

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
        return format_money_short(value)
    if unit == "seconds":
        return f"{value / 60:.0f} min" if value < 3 * 3600 else f"{value / 3600:.1f} h"
    return f"{value:,.0f}"


TILE_MEASURES = (
    "decisions",
    "approvals_approved",
    "approvals_rejected",
    "spend",
    "value",
    "cost",
    *(name for name, _, _ in WAIT_BINS),
)


def _figures(period: Period, scope: list[int] | None) -> dict:
    by_verdict = _decision_sums(period, scope, ("verdict", "currency"), TILE_MEASURES)
    decisions = _total(by_verdict, "decisions")
    spend = Amounts.of((currency, sums["spend"]) for (_, currency), sums in by_verdict.items())

    def verdict(name: str) -> int:
        return sum(sums["decisions"] for (code, _), sums in by_verdict.items() if code == name)

    approved, rejected = _total(by_verdict, "approvals_approved"), _total(by_verdict, "approvals_rejected")
    waits = {name: _total(by_verdict, name) for name, _, _ in WAIT_BINS}
    violations = sum(verdict(name) for name in VIOLATION_VERDICTS)
    return {
        "decisions": decisions,
        "automation_rate": rate(decisions - verdict("require_approval"), decisions),
        "escalation_rate": rate(verdict("require_approval"), decisions),
        "violations": violations,
        "escalations": verdict("require_approval"),
        "violation_rate": rate(violations, decisions),
        "override_rate": rate(_overrides(period, scope), violations),
        "rejection_rate": rate(rejected, approved + rejected),
        "median_approval_seconds": median_wait(waits),
        "spend": float(spend.main),
        "spend_elsewhere": spend.other_currencies,
        "value": float(_total(by_verdict, "value")),
        "cost": float(_total(by_verdict, "cost") + sum(token_cost(period.start, period.end, scope).values())),
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
    used = rate(now["spend"], budget)  # the organisation's currency only: budgets are in it
    spend_note = f"of {format_money(budget, whole=True)} budget" + (f" ({used:.0f}%)" if used else "")

    def tile(key: str, unit: str = "count", better: bool | None = None, note: str = "") -> Tile:
        return Tile(key, TERMS[key].label, now[key], before[key], unit, better, note)

    spend = Tile(
        "spend",
        TERMS["spend"].label,
        now["spend"],
        before["spend"],
        "money",
        note=spend_note,
        budget=budget,
        other_currencies=now["spend_elsewhere"],
    )
    return [
        tile("decisions"),
        tile("automation_rate", "percent", True, "decided without a person"),
        tile("escalation_rate", "percent", False, f"{now['escalations']:,} sent to a person"),
        tile("violation_rate", "percent", False, f"{now['violations']:,} denied or flagged"),
        tile("override_rate", "percent", None, "violations a person overrode"),
        tile("rejection_rate", "percent", None, "a person rejected what the engine held"),
        tile("median_approval_seconds", "seconds", False),
        spend,
        tile("value", "money", True, "from reported outcomes"),
        Tile("active_agents", TERMS["active_agents"].label, active_agents),
        Tile(
            "open_approvals",
            TERMS["open_approvals"].label,
            open_approvals,
            None,
            "count",
            False,
            "waiting for a person now",
        ),
    ]
