"""Regent's MCP endpoint (`/mcp/`): the official SDK's low-level server over Streamable HTTP, stateless and
answering in JSON, so any web process can serve any request of any agent.

An agent authenticates with its Regent API key (`Authorization: Bearer rgt_…`). `tools/list` answers the tools
its capabilities allow; each `tools/call` is decided by `evaluate_action` (gateway.calls) before anything reaches
the upstream. Database work runs in worker threads, each on a short-lived connection; waiting for a person or an
upstream holds none.
"""

import asyncio
import datetime as dt
import secrets
import time
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.types import Receive, Scope, Send

from gateway import calls, upstream
from gateway.models import ToolCall
from governance.models import Approval, Verdict
from orchestration.keys import KEY_PREFIX, authenticate_agent_key
from orchestration.models import Agent

MCP_PATH = "/mcp"  # served at /mcp and /mcp/
AGENT = "regent.agent"  # where the authenticated agent rides in the ASGI scope
FIRST_POLL_SECONDS, LONGEST_POLL_SECONDS = 0.2, 2.0


def in_thread(function):
    """`function` on a worker thread with a connection of its own, released afterwards: calls run in parallel."""
    return database_sync_to_async(function, thread_sensitive=False)


def tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _agent(ctx) -> Agent:
    return ctx.request.scope[AGENT]


async def list_tools(ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    tools = await in_thread(calls.visible_tools)(_agent(ctx))
    return types.ListToolsResult(
        tools=[
            types.Tool(
                name=tool.name,
                description=tool.description or None,
                input_schema=tool.input_schema or {"type": "object"},
            )
            for tool in tools
        ]
    )


async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = params.arguments or {}
    received = (params.meta or {}).get("traceparent") or ctx.request.headers.get("traceparent")
    traceparent = calls.traceparent_for(received if isinstance(received, str) else None)
    try:
        call = await in_thread(calls.open_call)(_agent(ctx), params.name, arguments, traceparent)
    except calls.BadArguments as exc:
        return tool_error(str(exc))
    if call is None:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}.")
    if call.status == ToolCall.Status.DENIED:
        return tool_error(f"Regent denied this call: {call.detail}")
    if call.decision.verdict == Verdict.REQUIRE_APPROVAL:
        refusal = await wait_for_person(call)
        if refusal:
            return tool_error(refusal)
    return await forward(call, arguments, traceparent)


async def wait_for_person(call: ToolCall) -> str | None:
    """Poll the held request until a person answers or the wait runs out; None once approved, else what to tell
    the agent. Out of time, the request is withdrawn and the agent told it expired: never that it was denied."""
    waiting = settings.MCP_APPROVAL_WAIT_SECONDS
    started = time.monotonic()
    pause = FIRST_POLL_SECONDS
    timed_out = False
    while True:
        approval = await in_thread(calls.approval_status)(call)
        if approval.status != Approval.Status.PENDING:
            break
        left = waiting - (time.monotonic() - started)
        if left <= 0:
            approval = await in_thread(calls.stop_waiting)(call, time_waited(started))
            timed_out = True
            break
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 1.5, LONGEST_POLL_SECONDS)
    if approval.status == Approval.Status.APPROVED:
        return None
    if approval.status == Approval.Status.REJECTED:
        who = approval.decided_by.get_username() if approval.decided_by else "a person"
        message = f"Rejected by {who}: {approval.comment} The call was not made."
        status = ToolCall.Status.REJECTED
    elif timed_out or approval.status == Approval.Status.EXPIRED:
        message = (
            f"Expired: nobody approved this call within {waiting} s, so it was not made. "
            "Ask again later, or ask a person to approve it first."
        )
        status = ToolCall.Status.EXPIRED
    else:
        message = f"Withdrawn before anyone approved it: {approval.comment} The call was not made."
        status = ToolCall.Status.WITHDRAWN
    await in_thread(calls.refuse)(call, status, message)
    return message


def time_waited(started: float) -> dt.timedelta:
    return dt.timedelta(seconds=time.monotonic() - started)


async def forward(call: ToolCall, arguments: dict[str, Any], traceparent: str) -> types.CallToolResult:
    """Make the call upstream, in the call's trace as a span of Regent's, and report how it went as the
    decision's outcome."""
    tool = call.tool
    child = f"{traceparent[:36]}{secrets.token_hex(8)}{traceparent[52:]}"
    started = time.perf_counter()
    try:
        result = await upstream.call_tool(tool.server, tool.name, arguments, {"traceparent": child})
        succeeded = not result.is_error
        detail = "" if succeeded else _text_of(result)
    except upstream.UpstreamUnavailable as exc:
        result, succeeded, detail = tool_error(str(exc)), False, str(exc)
    upstream_ms = round((time.perf_counter() - started) * 1000)
    await in_thread(calls.finish_call)(call, succeeded=succeeded, detail=detail, upstream_ms=upstream_ms)
    return result


def _text_of(result: types.CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, types.TextContent))


mcp_server = Server(
    "Regent", instructions="Tools governed by Regent.", on_list_tools=list_tools, on_call_tool=call_tool
)
mcp_server.middleware.clear()  # no OpenTelemetry span per message: Regent records each call's trace itself


class MCPGateway:
    """The ASGI app mounted at /mcp/: the agent's key checked first, then the SDK's Streamable HTTP handling.

    The SDK's session manager runs inside a task group; it is started with the first request on each event loop
    (servers that run no ASGI lifespan included, and a test's second server in a new loop)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._manager: StreamableHTTPSessionManager | None = None
        self._ready: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        agent = await self._authenticate(scope)
        if agent is None:
            await _unauthorised(send)
            return
        manager = await self._running_manager()
        await manager.handle_request({**scope, AGENT: agent}, receive, send)

    @staticmethod
    async def _authenticate(scope: Scope) -> Agent | None:
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1").split()
        if len(header) != 2 or header[0] != "Bearer" or not header[1].startswith(KEY_PREFIX):
            return None
        return await in_thread(authenticate_agent_key)(header[1])

    async def _running_manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._ready = loop, asyncio.Event()
            self._manager = StreamableHTTPSessionManager(mcp_server, json_response=True, stateless=True)
            self._task = loop.create_task(self._run(self._manager, self._ready))
        await self._ready.wait()
        return self._manager

    @staticmethod
    async def _run(manager: StreamableHTTPSessionManager, ready: asyncio.Event) -> None:
        async with manager.run():
            ready.set()
            await asyncio.Event().wait()  # until the loop ends


async def _unauthorised(send: Send) -> None:
    body = b'{"detail": "Authenticate with the agent\'s Regent API key: Authorization: Bearer rgt_..."}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="regent"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


mcp_gateway = MCPGateway()
