"""A tool call through the gateway, as Regent governs it: find the tool the agent may call, ask the decision
point through `evaluate_action` (the same function the REST evaluate calls), follow a request held for a person,
and record how the call ended as the decision's outcome.

Plain synchronous functions, each short and on its own connection: the MCP server (gateway.server) runs them in
worker threads and holds no connection or transaction while it waits for a person or for the upstream.
"""

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import chain
from gateway.models import GatewayTool, ToolCall
from governance.api.serializers import EvaluateRequestSerializer
from governance.approvals import withdraw_pending
from governance.evaluation import evaluate_action
from governance.models import Approval, Outcome, Verdict
from governance.outcomes import outcome_reported_event, report_outcome
from orchestration.models import Agent

REPORTER = "system:mcp-gateway"
TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


class BadArguments(ValueError):
    """The call's arguments do not give what the tool's declared paths point at; the message says what."""


def visible_tools(agent: Agent) -> list[GatewayTool]:
    """The tools this agent may see and call: exposed, on an enabled server, behind a capability it holds."""
    return list(
        GatewayTool.objects.filter(
            exposed=True, server__enabled=True, capability__in=agent.capabilities.values("pk")
        ).select_related("server")
    )


def find_tool(agent: Agent, name: str) -> GatewayTool | None:
    """The tool by name if this agent may call it; a tool it may not is answered as unknown, never described."""
    return next((tool for tool in visible_tools(agent) if tool.name == name), None)


def traceparent_for(received: str | None) -> str:
    """The W3C trace context this call runs in: the caller's, or a new trace when it sent none (or a bad one)."""
    if received and TRACEPARENT.match(received.strip().lower()):
        return received.strip().lower()
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def pick(arguments: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path in the arguments (`invoice.total`, `lines.0.amount`), or None."""
    value: Any = arguments
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def evaluate_body(tool: GatewayTool, arguments: Mapping[str, Any]) -> dict:
    """What the REST evaluate would have been sent for this call, taken from the arguments by the tool's paths."""
    body: dict[str, Any] = {
        "action": tool.governed_action,
        "context": {"tool": tool.name, "server": tool.server.name},
    }
    for field, path in (
        ("resource", tool.resource_path),
        ("amount", tool.amount_path),
        ("currency", tool.currency_path),
        ("data_classes", tool.data_classes_path),
    ):
        value = pick(arguments, path) if path else None
        if value is None:
            continue
        if field == "data_classes" and not isinstance(value, list):
            value = [value]
        body[field] = value if field in ("amount", "data_classes") else str(value)
    return body


def open_call(agent: Agent, tool_name: str, arguments: Mapping[str, Any], traceparent: str) -> ToolCall | None:
    """Decide the call and record it, in one transaction; None when the agent may not call a tool of that name.
    Arguments that do not give what the tool's paths declare (an amount that is not a number, a currency without
    its amount) raise BadArguments: nothing is decided then, as the REST evaluate answers 400."""
    tool = find_tool(agent, tool_name)
    if tool is None:
        return None
    serializer = EvaluateRequestSerializer(data=evaluate_body(tool, arguments))
    if not serializer.is_valid():
        raise BadArguments(_field_messages(serializer.errors))
    with transaction.atomic(durable=True):
        decision = evaluate_action(agent, serializer.to_request(), traceparent=traceparent)
        status = ToolCall.Status.DENIED if decision.verdict == Verdict.DENY else ToolCall.Status.FORWARDED
        return ToolCall.objects.create(
            agent=decision.agent,
            tool=tool,
            tool_name=tool.name,
            decision=decision,
            traceparent=traceparent,
            status=status,
            detail=decision.explanation if status == ToolCall.Status.DENIED else "",
            started_at=decision.created_at,
            finished_at=decision.created_at if status == ToolCall.Status.DENIED else None,
        )


def approval_status(call: ToolCall) -> Approval:
    """The request's state now, read on a short connection of its own (the caller polls)."""
    return Approval.objects.select_related("decided_by").get(decision_id=call.decision_id)


def stop_waiting(call: ToolCall, waited: dt.timedelta) -> Approval:
    """Nobody answered in time: withdraw the request so nobody approves work that will not happen, and say
    how it ended (a person may have answered at the last moment: then that answer holds)."""
    with transaction.atomic(durable=True):
        withdraw_pending(
            call.decision_id, f"The agent's tool call stopped waiting after {round(waited.total_seconds())} s."
        )
    return approval_status(call)


def withdraw_calls_of_stopped_agents(sender, agent_ids: list[int], reason: str, **_kwargs) -> None:
    """The kill switch, heard inside the kill's transaction: calls of these agents still waiting for a person are
    withdrawn, so nobody can approve them afterwards and send a killed agent's call upstream."""
    waiting = ToolCall.objects.filter(
        agent_id__in=agent_ids, status=ToolCall.Status.FORWARDED, decision__approval__status=Approval.Status.PENDING
    )
    for decision_id in waiting.values_list("decision_id", flat=True):
        withdraw_pending(decision_id, f"{reason[:1].upper()}{reason[1:]}.")


def refuse(call: ToolCall, status: str, detail: str) -> None:
    """A held call a person rejected, or one that expired waiting: it ends without reaching the upstream."""
    ToolCall.objects.filter(pk=call.pk).update(status=status, detail=detail, finished_at=timezone.now())


def finish_call(call: ToolCall, *, succeeded: bool, detail: str, upstream_ms: int) -> None:
    """The upstream answered (or failed to): the call's record and the decision's outcome, with its audit event.
    A failure gives back the spend evaluate reserved, as every failed outcome does."""
    result = Outcome.Result.SUCCESS if succeeded else Outcome.Result.FAILURE
    with transaction.atomic(durable=True):
        ToolCall.objects.filter(pk=call.pk).update(
            status=ToolCall.Status.SUCCEEDED if succeeded else ToolCall.Status.FAILED,
            detail=detail[:2000],
            upstream_ms=upstream_ms,
            finished_at=timezone.now(),
        )
        created: list[Outcome] = []
        report_outcome(call.decision, result, reported_by=REPORTER, created=created)
        if created:
            chain.append([outcome_reported_event(created[0], source="mcp")])


def _field_messages(errors: Mapping) -> str:
    parts = []
    for field, messages in errors.items():
        texts = messages.values() if isinstance(messages, Mapping) else messages
        parts.append(f"{field}: {' '.join(str(text) for text in texts)}")
    return "Regent could not read this call's arguments. " + "; ".join(parts)
