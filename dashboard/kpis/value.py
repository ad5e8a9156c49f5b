"""What the work costs and what it delivers: spend, cost and value per department or per model provider."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, snapshot
from dashboard.money import Amounts, in_other_currencies
from dashboard.periods import Period
from orchestration.models import Department, ModelProvider
from traces.usage import token_cost


@dataclass(frozen=True)
class CostValue:
    """Spend in the organisation's currency, with the other currencies' spend beside it (never added in); cost and
    value are reported in the organisation's currency."""

    name: str
    decisions: int
    spend: float
    cost: float
    value: float
    spend_other_currencies: dict[str, Decimal] = field(default_factory=dict)

    @property
    def spend_also(self) -> str:
        return in_other_currencies(self.spend_other_currencies)


def cost_and_value(viewer, period: Period, departments: Iterable[int] | None = None, *, by: str) -> list[CostValue]:
    """Decisions, spend, cost and value per department or per provider (`by`), largest value first. A department's
    cost includes its agents' model tokens (traces); a provider's is what outcomes reported."""
    scope = departments_in_scope(viewer, departments)
    dimension = {"department": "department_id", "provider": "provider_id"}[by]
    with snapshot():
        sums = _decision_sums(period, scope, (dimension, "currency"), ("decisions", "spend", "cost", "value"))
    per_key: dict[int, dict] = defaultdict(
        lambda: {"decisions": 0, "cost": Decimal(0), "value": Decimal(0), "spend": []}
    )
    for (key, currency), values in sums.items():
        row = per_key[key]
        for measure in ("decisions", "cost", "value"):
            row[measure] += values[measure]
        row["spend"].append((currency, values["spend"]))
    if by == "department":
        for key, cost in token_cost(period.start, period.end, scope).items():
            per_key[key]["cost"] += cost
    model = Department if by == "department" else ModelProvider
    names = dict(model.objects.filter(pk__in=list(per_key)).values_list("pk", "name"))
    rows = []
    for key, v in per_key.items():
        spend = Amounts.of(v["spend"])
        name = names.get(key, f"#{key}")
        cost, value = float(v["cost"]), float(v["value"])
        rows.append(CostValue(name, v["decisions"], float(spend.main), cost, value, spend.other_currencies))
    rows.sort(key=lambda r: (-r.value, -r.decisions, r.name))
    return rows
