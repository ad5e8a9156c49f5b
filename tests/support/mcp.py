"""MCP for the gateway's tests and benchmark: an upstream server (the SDK's MCPServer over Streamable HTTP, served
by uvicorn in a thread) that insists on its credential and keeps every tools/call that reached it, and an agent's
client of Regent's endpoint (the SDK's Client) authenticated with the agent's key."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.support.servers import ThreadedServer

UPSTREAM_CREDENTIAL = "Bearer ledger-secret-7f3a9c21d4e8"


def ledger_tools() -> MCPServer:
    server = MCPServer("Ledger")

    @server.tool()
    def pay_invoice(invoice: dict, memo: str = "") -> str:
        """Pay a supplier's invoice."""
        return f"Paid {invoice['total']} {invoice['currency']} to {invoice['vendor']}."

    @server.tool()
    def refund_order(order: str) -> str:
        """Refund a customer's order."""
        raise ToolError(f"Order {order} was never paid.")

    @server.tool()
    def lookup_customer(email: str) -> str:
        """Read a customer's record."""
        return f"{email}: gold tier since 2021."

    return server


class Guarded:
    """An ASGI app in front of the ledger: a request without the credential is answered 401 and never reaches a
    tool, and `calls` keeps the params of each tools/call that did, `_meta` included."""

    def __init__(self, app) -> None:
        self.app = app
        self.calls: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if dict(scope["headers"]).get(b"authorization", b"").decode() != UPSTREAM_CREDENTIAL:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if body and (request := json.loads(body)).get("method") == "tools/call":
            self.calls.append(request["params"])
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def guarded_ledger() -> Guarded:
    """The ledger's server as an ASGI app (`uvicorn --factory tests.support.mcp:guarded_ledger`), at /mcp."""
    return Guarded(ledger_tools().streamable_http_app(json_response=True, stateless_http=True))


class Upstream:
    """The guarded ledger on a real port, served by uvicorn in a thread of the test; `calls` as Guarded's."""

    def __init__(self) -> None:
        self._app = guarded_ledger()
        self.calls = self._app.calls
        self._server = ThreadedServer(self._app)
        self.url = f"{self._server.url}/mcp"

    def start(self) -> "Upstream":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


@asynccontextmanager
async def mcp_client(url: str, key: str, mode: str = "auto") -> AsyncIterator[Client]:
    """An agent's MCP client of `url`, sending its Regent API key; mode "legacy" speaks the 2025 protocol (an
    initialize handshake), as clients built before 2026-07-28 do."""
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client
