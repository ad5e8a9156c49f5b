"""The gateway's world: the ledger's MCP server upstream (tests/support/mcp.py), registered in Regent with its
tools behind the `payments.execute` and `customers.read` capabilities, and Regent served by uvicorn."""

from collections.abc import Iterator

import pytest

from gateway.models import GatewayTool, UpstreamServer
from orchestration.keys import issue_key
from tests.factories import CapabilityFactory
from tests.support.mcp import UPSTREAM_CREDENTIAL, Upstream


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    yield server
    server.stop()


@pytest.fixture
def payments(db):
    return CapabilityFactory(code="payments.execute")


@pytest.fixture
def customers(db):
    return CapabilityFactory(code="customers.read")


@pytest.fixture
def ledger(upstream, payments, customers) -> UpstreamServer:
    server = UpstreamServer.objects.create(name="Ledger", url=upstream.url, credential=UPSTREAM_CREDENTIAL)
    paths = {"resource_path": "invoice.vendor", "amount_path": "invoice.total", "currency_path": "invoice.currency"}
    GatewayTool.objects.create(server=server, name="pay_invoice", exposed=True, capability=payments, **paths)
    GatewayTool.objects.create(server=server, name="refund_order", exposed=True, capability=payments)
    GatewayTool.objects.create(
        server=server, name="lookup_customer", exposed=True, capability=customers, resource_path="email"
    )
    return server


@pytest.fixture
def paying_agent(finance_agent, payments):
    """Invoice Bot, of Finance, may make payments."""
    finance_agent.capabilities.add(payments)
    return finance_agent


@pytest.fixture
def agent_key(paying_agent) -> str:
    return issue_key(paying_agent)


@pytest.fixture
def gateway_url(asgi_server, ledger) -> str:
    return f"{asgi_server.url}/mcp/"
