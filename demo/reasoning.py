"""The simulated agents' reasoning: for a share of their decisions, the GenAI spans an agent built on the
OpenTelemetry SDK exports around the call (its run, a model call, the tool call the decision was asked from, a model
call after), stored through traces.ingest as a real export is (masked, priced). Decision pages then show the
agent's steps, and agent pages its model usage and token cost."""

import datetime as dt
import json
import random
from collections import defaultdict

from demo import company
from governance.models import Decision, Verdict
from orchestration.models import Agent
from traces.ingest import ingest
from traces.otlp import ReceivedSpan

TRACED_SHARE = 0.35  # of the decisions, asked from within a traced agent run
EXPORT_SPANS = 512  # spans per ingest call, as the SDK's batch exporter sends them
INTERNAL, CLIENT = 1, 3  # OTLP span kinds


def trace_decisions(rng: random.Random, decisions: list[Decision]) -> int:
    """Give a share of the (unsaved) decisions the trace they were asked from, and store its spans; how many."""
    runs: dict[Agent, list[ReceivedSpan]] = defaultdict(list)
    for decision in decisions:
        if rng.random() >= TRACED_SHARE:
            continue
        spans = _agent_run(rng, decision)
        decision.trace_id, decision.span_id = spans[0].trace_id, spans[2].span_id
        runs[decision.agent].extend(spans)
    for agent, spans in runs.items():
        for start in range(0, len(spans), EXPORT_SPANS):
            ingest(agent, spans[start : start + EXPORT_SPANS])
    return sum(len(spans) for spans in runs.values())


def _agent_run(rng: random.Random, decision: Decision) -> list[ReceivedSpan]:
    """The run's root, a model call choosing the tool, the tool call (where the decision was asked), and a model
    call reading its result."""
    agent, at = decision.agent, decision.created_at
    model, provider = company.AGENT_MODELS[agent.pk % len(company.AGENT_MODELS)]
    trace_id = f"{rng.getrandbits(127) | 1:032x}"
    tool = decision.action.replace(".", "_")
    call_id = f"call_{rng.getrandbits(48):012x}"
    arguments = {"resource": decision.resource}
    if decision.amount is not None:
        arguments |= {"amount": str(decision.amount), "currency": decision.currency}
    task = company.CAPABILITIES.get(decision.action, decision.action)
    ask = f"{task}: {decision.resource}." + (
        " The customer wrote from jane.doe@example.com." if decision.action == "ticket.reply" else ""
    )
    first = _model_call(rng, model, provider, [_message("system", f"You are {agent.name}."), _message("user", ask)])
    first.attributes["gen_ai.output.messages"] = json.dumps(
        [{"role": "assistant", "parts": [{"type": "tool_call", "id": call_id, "name": tool, "arguments": arguments}]}]
    )
    result = {
        Verdict.DENY: {"error": decision.explanation},
        Verdict.REQUIRE_APPROVAL: {"status": "held for a person's approval"},
    }.get(decision.verdict, {"status": "done"})
    after_model, after_provider = company.SMALL_MODEL if rng.random() < 0.4 else (model, provider)
    last = _model_call(rng, after_model, after_provider, [_message("tool", json.dumps(result))])
    summary = next(iter(result.values()))
    last.attributes["gen_ai.output.messages"] = json.dumps([_message("assistant", f"{tool}: {summary}")])
    tool_call = _span(
        f"execute_tool {tool}",
        INTERNAL,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.arguments": json.dumps(arguments),
            "gen_ai.tool.call.result": json.dumps(result | {"verdict": decision.verdict}),
        },
    )
    tool_call.failed = decision.verdict == Verdict.DENY
    root = _span(
        f"invoke_agent {agent.slug}",
        INTERNAL,
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent.name},
    )
    spans = [root, first, tool_call, last]
    thinking = dt.timedelta(milliseconds=rng.randint(700, 4_000))
    starts = [at - thinking - dt.timedelta(milliseconds=200), at - thinking, at - dt.timedelta(milliseconds=40), None]
    ends = [None, at - dt.timedelta(milliseconds=60), at + dt.timedelta(milliseconds=rng.randint(50, 400)), None]
    starts[3] = ends[2] + dt.timedelta(milliseconds=20)
    ends[3] = starts[3] + dt.timedelta(milliseconds=rng.randint(400, 2_500))
    ends[0] = ends[3] + dt.timedelta(milliseconds=30)
    for n, span in enumerate(spans):
        span.service, span.trace_id, span.span_id = agent.slug, trace_id, f"{rng.getrandbits(63) | 1:016x}"
        span.parent_span_id = spans[0].span_id if n else ""
        span.start_ns, span.end_ns = _nanoseconds(starts[n]), _nanoseconds(ends[n])
    return spans


def _model_call(rng: random.Random, model: str, provider: str, messages: list[dict]) -> ReceivedSpan:
    return _span(
        f"chat {model}",
        CLIENT,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "gen_ai.response.model": f"{model}-2025-06-01",
            "gen_ai.usage.input_tokens": rng.randint(600, 4_000),
            "gen_ai.usage.output_tokens": rng.randint(40, 600),
            "gen_ai.input.messages": json.dumps(messages),
        },
    )


def _span(name: str, kind: int, attributes: dict) -> ReceivedSpan:
    """A span without its ids and times yet (_agent_run sets them)."""
    return ReceivedSpan("", "", "", "", name, kind, 0, 0, False, "", attributes, [])


def _message(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def _nanoseconds(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1_000
