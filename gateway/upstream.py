"""Regent as an MCP client of the upstream servers, with the official SDK over Streamable HTTP.

Each server process keeps one client per upstream open (in a task of its own, per event loop): its connections
stay open, the protocol is agreed once, and the tools' output schemas it validates results against are listed
once, so a forwarded call is one request upstream. A client whose connection broke ends, and the next call opens
another. The credential travels in a header of that client and nowhere else: errors name the server, never the
header's value.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import mcp_types as types
from asgiref.sync import async_to_sync
from django.db import transaction
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from gateway.models import GatewayTool, UpstreamServer


class UpstreamUnavailable(Exception):
    """The upstream could not be reached or broke off; the message is safe to show the agent."""


@asynccontextmanager
async def connect(server: UpstreamServer) -> AsyncIterator[Client]:
    """A client of its own for one conversation with the upstream."""
    timeout = httpx2.Timeout(server.timeout_seconds)
    async with (
        create_mcp_http_client(headers=server.headers(), timeout=timeout) as http,
        Client(streamable_http_client(server.url, http_client=http), cache=None) as client,
    ):
        yield client


@dataclass
class _Held:
    """A client kept open by `_hold` for the calls of one event loop."""

    loop: asyncio.AbstractEventLoop
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    client: Client | None = None
    failure: BaseException | None = None
    task: asyncio.Task | None = None


_held: dict[tuple, _Held] = {}


async def _hold(server: UpstreamServer, held: _Held) -> None:
    try:
        async with connect(server) as client:
            held.client = client
            held.ready.set()
            await held.closed.wait()
    except Exception as exc:
        held.failure = exc
    finally:
        held.client = None
        held.closed.set()
        held.ready.set()


async def _client(server: UpstreamServer) -> Client:
    loop = asyncio.get_running_loop()
    fingerprint = hashlib.sha256(f"{server.credential_header}:{server.credential}".encode()).hexdigest()
    key = (id(loop), server.url, fingerprint, server.timeout_seconds)
    held = _held.get(key)
    if held is None or held.loop is not loop or held.closed.is_set():
        held = _held[key] = _Held(loop)
        held.task = loop.create_task(_hold(server, held))
    await held.ready.wait()
    if held.client is None:
        raise UpstreamUnavailable(f"The tool's server ({server.name}) did not answer: {type(held.failure).__name__}.")
    return held.client


async def call_tool(
    server: UpstreamServer, name: str, arguments: dict[str, Any], meta: dict[str, Any]
) -> types.CallToolResult:
    """Forward one call; the upstream's own tool errors come back as its result (`is_error`)."""
    client = await _client(server)
    try:
        return await client.call_tool(name, arguments, read_timeout_seconds=server.timeout_seconds, meta=meta)
    except Exception as exc:  # a transport or protocol failure is the upstream's, told without its secrets
        raise UpstreamUnavailable(f"The tool's server ({server.name}) did not answer: {type(exc).__name__}.") from exc


async def list_tools(server: UpstreamServer) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor = None
    async with connect(server) as client:
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools


def sync_tools(server: UpstreamServer) -> tuple[int, int]:
    """Read the server's tools into the registry: new ones arrive unexposed (a person decides who may call
    them and how they are governed); known ones get the upstream's current description and schema."""
    try:
        listed = async_to_sync(list_tools)(server)
    except Exception as exc:
        raise UpstreamUnavailable(f"{server.name} did not list its tools: {type(exc).__name__}.") from exc
    added = updated = 0
    with transaction.atomic():
        for tool in listed:
            _, created = GatewayTool.objects.update_or_create(
                server=server,
                name=tool.name,
                defaults={"description": tool.description or "", "input_schema": tool.input_schema},
            )
            added, updated = added + created, updated + (not created)
    return added, updated
