"""Regent as an MCP client of the upstream servers, with the official SDK over Streamable HTTP.

The credential travels in a header of the upstream's own HTTP client and nowhere else: errors name the server,
never the header's value.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
    timeout = httpx2.Timeout(server.timeout_seconds)
    async with (
        create_mcp_http_client(headers=server.headers(), timeout=timeout) as http,
        Client(streamable_http_client(server.url, http_client=http), cache=None) as client,
    ):
        yield client


async def call_tool(
    server: UpstreamServer, name: str, arguments: dict[str, Any], meta: dict[str, Any]
) -> types.CallToolResult:
    """Forward one call; the upstream's own tool errors come back as its result (`is_error`)."""
    try:
        async with connect(server) as client:
            return await client.call_tool(name, arguments, meta=meta)
    except Exception as exc:  # any transport or protocol failure is the upstream's, told without its secrets
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
