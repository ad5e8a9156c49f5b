"""The agents' reasoning read back: a decision's steps, an agent's model usage, and token cost for the figures.

Callers scope: a decision's steps are its own agent's spans in its trace; model usage is one agent's; token cost
is summed over the departments the caller passes (None: all)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from traces.models import Span

MAX_STEPS = 200  # a trace's spans shown around a decision; more are counted, not listed
TOOL_OPERATIONS = frozenset({"execute_tool"})


@dataclass
class Step:
    """One span on a decision's page, or the decision itself (`span` None) placed among them by time."""

    at: dt.datetime
    offset_ms: float
    span: Span | None = None
    depth: int = 0
    is_decision_parent: bool = False

    @property
    def kind(self) -> str:
        if self.span is None:
            return "decision"
        if self.span.operation in TOOL_OPERATIONS or self.span.tool_name:
            return "tool"
        if self.span.model or self.span.input_tokens is not None:
            return "model"
        return "step"


@dataclass
class Steps:
    steps: list[Step] = field(default_factory=list)
    not_shown: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal | None = None


def steps_around(decision) -> Steps:
    """The agent's spans in the decision's trace, in time order, with the decision placed where it was made."""
    if not decision.trace_id:
        return Steps()
    spans = Span.objects.filter(trace_id=decision.trace_id, agent_id=decision.agent_id).order_by("started_at", "id")
    total = spans.count()
    shown = list(spans[:MAX_STEPS])
    if not shown:
        return Steps()
    start = min(shown[0].started_at, decision.created_at)
    depth = _depths(shown)
    steps = [
        Step(
            span.started_at,
            (span.started_at - start).total_seconds() * 1000,
            span,
            depth.get(span.span_id, 0),
            span.span_id == decision.span_id,
        )
        for span in shown
    ]
    asked_from = depth.get(decision.span_id)  # shown under the span it was asked from
    offset = (decision.created_at - start).total_seconds() * 1000
    steps.append(Step(decision.created_at, offset, depth=0 if asked_from is None else asked_from + 1))
    steps.sort(key=lambda step: (step.at, step.span is None))
    costs = [span.cost for span in shown if span.cost is not None]
    return Steps(
        steps,
        total - len(shown),
        sum(span.input_tokens or 0 for span in shown),
        sum(span.output_tokens or 0 for span in shown),
        sum(costs, Decimal(0)) if costs else None,
    )


def _depths(spans: list[Span]) -> dict[str, int]:
    """How deep each span sits under its parents among those shown (indentation on the page)."""
    parents = {span.span_id: span.parent_span_id for span in spans}
    depths: dict[str, int] = {}
    for span_id in parents:
        depth, parent, seen = 0, parents[span_id], {span_id}
        while parent in parents and parent not in seen and depth < 8:
            seen.add(parent)
            depth, parent = depth + 1, parents[parent]
        depths[span_id] = depth
    return depths


@dataclass(frozen=True)
class ModelUsage:
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    unpriced_calls: int


def model_usage(agent_id: int, start: dt.datetime, end: dt.datetime) -> list[ModelUsage]:
    """An agent's model calls in [start, end) by model: calls, tokens and token cost, most costly first."""
    rows = (
        Span.objects.filter(agent_id=agent_id, started_at__gte=start, started_at__lt=end)
        .annotate(model_name=Coalesce(NullIf("response_model", Value("")), NullIf("request_model", Value(""))))
        .exclude(model_name=None)
        .values("model_name")
        .annotate(
            calls=Count("id"),
            input=Coalesce(Sum("input_tokens"), 0),
            output=Coalesce(Sum("output_tokens"), 0),
            priced=Sum("cost"),
            unpriced=Count("id", filter=Q(cost=None)),
        )
    )
    usage = [ModelUsage(r["model_name"], r["calls"], r["input"], r["output"], r["priced"], r["unpriced"]) for r in rows]
    usage.sort(key=lambda u: (-(u.cost or 0), -u.calls, u.model))
    return usage


def token_cost(start: dt.datetime, end: dt.datetime, departments: list[int] | None) -> dict[int, Decimal]:
    """Token cost in the organisation's currency per department, of the calls made in [start, end)."""
    spans = Span.objects.filter(started_at__gte=start, started_at__lt=end, cost__isnull=False)
    if departments is not None:
        spans = spans.filter(department_id__in=departments)
    return dict(spans.values("department_id").annotate(total=Sum("cost")).values_list("department_id", "total"))
