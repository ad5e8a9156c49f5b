"""What the work costs and what it delivers: spend, cost and value per department or per model provider."""

from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, snapshot
from dashboard.periods import Period
from orchestration.models import Department, ModelProvider


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
