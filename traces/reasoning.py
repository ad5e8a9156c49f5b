"""The agents' reasoning read back: a decision's steps, its own agent's spans in its trace (model usage and token
cost for the figures are traces.usage's)."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

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
