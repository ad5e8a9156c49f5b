"""What a routing strategy change did: the agents routing chose in the week before it and the week since.

Read from the routed step runs, bounded to those two weeks.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count

from dashboard.kpis.snapshot import departments_in_scope
from workflows.models import StepRun, Strategy


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
