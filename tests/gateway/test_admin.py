"""Registering upstream MCP servers in the admin: the credential is written and never read back, and a server's
tools are fetched from it, unexposed until a person decides who may call them."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from gateway.models import GatewayTool, ToolCall, UpstreamServer
from tests.support.clock import NOW
from tests.support.mcp import UPSTREAM_CREDENTIAL

pytestmark = pytest.mark.django_db

NO_TOOL_ROWS = {
    "tools-TOTAL_FORMS": "0",
    "tools-INITIAL_FORMS": "0",
    "tools-MIN_NUM_FORMS": "0",
    "tools-MAX_NUM_FORMS": "1000",
}


def server_form(**overrides) -> dict:
    data = {
        "name": "Ledger",
        "url": "https://ledger.example.com/mcp",
        "credential_header": "Authorization",
        "credential": "",
        "timeout_seconds": "30",
        "enabled": "on",
        **NO_TOOL_ROWS,
    }
    return {**data, **overrides}


def test_a_policy_admin_registers_a_server_whose_credential_is_never_shown_back(client, carol):
    # given carol, a Policy Admin, registers the ledger's server with its credential
    client.force_login(carol)
    client.post(reverse("admin:gateway_upstreamserver_add"), server_form(credential=UPSTREAM_CREDENTIAL))
    server = UpstreamServer.objects.get(name="Ledger")

    # when she opens it again
    page = client.get(reverse("admin:gateway_upstreamserver_change", args=[server.pk])).content.decode()

    # then it was stored, but the page shows only its last characters
    assert server.credential == UPSTREAM_CREDENTIAL
    assert UPSTREAM_CREDENTIAL not in page and "ledger-secret" not in page
    assert "set, ending …d4e8" in page


def test_saving_with_the_credential_left_empty_keeps_it_and_removing_it_clears_it(client, carol):
    server = UpstreamServer.objects.create(
        name="Ledger", url="https://ledger.example.com/mcp", credential="Bearer x" * 4
    )
    client.force_login(carol)
    change = reverse("admin:gateway_upstreamserver_change", args=[server.pk])

    client.post(change, server_form(timeout_seconds="10"))
    server.refresh_from_db()
    assert (server.credential, server.timeout_seconds) == ("Bearer x" * 4, 10)

    client.post(change, server_form(remove_credential="on"))
    server.refresh_from_db()
    assert server.credential == ""


def test_fetching_a_servers_tools_brings_them_in_unexposed(client, carol, upstream):
    # given the ledger's server is registered
    server = UpstreamServer.objects.create(name="Ledger", url=upstream.url, credential=UPSTREAM_CREDENTIAL)
    client.force_login(carol)

    # when carol fetches its tools
    client.post(
        reverse("admin:gateway_upstreamserver_changelist"),
        {"action": "fetch_tools", "_selected_action": [server.pk]},
    )

    # then its three tools are known, with their schemas, and none is callable yet
    tools = {tool.name: tool for tool in GatewayTool.objects.filter(server=server)}
    assert sorted(tools) == ["lookup_customer", "pay_invoice", "refund_order"]
    assert tools["lookup_customer"].input_schema["required"] == ["email"]
    assert not any(tool.exposed for tool in tools.values())


def test_fetching_from_a_server_that_refuses_the_credential_says_so_without_it(client, carol, upstream):
    server = UpstreamServer.objects.create(name="Ledger", url=upstream.url, credential="Bearer wrong-secret-123456")
    client.force_login(carol)

    response = client.post(
        reverse("admin:gateway_upstreamserver_changelist"),
        {"action": "fetch_tools", "_selected_action": [server.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "Ledger did not list its tools" in page and "wrong-secret" not in page
    assert not GatewayTool.objects.exists()


def test_an_exposed_tool_needs_a_capability(db):
    server = UpstreamServer.objects.create(name="Ledger", url="https://ledger.example.com/mcp")
    tool = GatewayTool(server=server, name="pay_invoice", exposed=True)

    with pytest.raises(ValidationError) as refused:
        tool.full_clean()

    assert refused.value.message_dict["capability"] == ["Say which capability lets an agent call this tool."]


@pytest.mark.parametrize(
    ("name", "action"), [("pay_invoice", "tool.pay_invoice"), ("Search-Docs", "tool.search_docs"), ("2fa", "tool.t2fa")]
)
def test_a_tools_default_action_is_a_valid_action_name(name, action):
    assert GatewayTool(name=name).governed_action == action


def test_a_supervisor_sees_only_the_tool_calls_of_their_departments(client, bob, decide, finance_agent, support_agent):
    # given a tool call by a Finance agent and one by a Support agent
    server = UpstreamServer.objects.create(name="Ledger", url="https://ledger.example.com/mcp")
    tool = GatewayTool.objects.create(server=server, name="lookup_customer")
    for agent in (finance_agent, support_agent):
        decision = decide(agent, "tool.lookup_customer")
        ToolCall.objects.create(
            agent=agent, tool=tool, tool_name=tool.name, decision=decision, traceparent="00-x", started_at=NOW
        )

    # when bob, who supervises Finance only, lists them
    client.force_login(bob)
    response = client.get(reverse("admin:gateway_toolcall_changelist"))

    # then he sees Finance's alone
    assert [call.agent for call in response.context["cl"].result_list] == [finance_agent]
