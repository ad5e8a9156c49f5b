"""The MCP gateway end to end: an agent's official MCP client talks to Regent served by uvicorn, Regent to the
ledger's MCP server started by the test, and every call is decided by the decision point first."""

import asyncio
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from mcp.shared.exceptions import MCPError

from gateway.models import ToolCall
from governance.approvals import decide_approval
from governance.models import Approval, Decision, Effect, Outcome, Verdict
from orchestration import kill_switch
from orchestration.models import Status
from tests.support.mcp import mcp_client
from tests.support.threads import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

INVOICE = {"invoice": {"vendor": "Acme Paper", "total": 1250.5, "currency": "EUR"}}


def call(url: str, key: str, tool: str, arguments: dict, mode: str = "auto", **options):
    async def go():
        async with mcp_client(url, key, mode) as client:
            return await client.call_tool(tool, arguments, **options)

    return asyncio.run(go())


def protocol_error(url: str, key: str, tool: str, arguments: dict) -> MCPError | None:
    """The JSON-RPC error a call is answered with, caught inside the client (which would wrap it in a group)."""

    async def go():
        async with mcp_client(url, key) as client:
            try:
                await client.call_tool(tool, arguments)
            except MCPError as exc:
                return exc
            return None

    return asyncio.run(go())


def listed(url: str, key: str) -> list[str]:
    async def go():
        async with mcp_client(url, key) as client:
            return sorted(tool.name for tool in (await client.list_tools()).tools)

    return asyncio.run(go())


def text(result) -> str:
    return " ".join(block.text for block in result.content)


def test_an_allowed_call_reaches_the_upstream_and_its_success_is_the_decisions_outcome(
    gateway_url, agent_key, paying_agent, upstream
):
    # given Invoice Bot may make payments and no policy stands in the way
    # when it pays an invoice through Regent
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)

    # then the ledger paid it, with the credential Regent holds (the upstream refuses any other)
    assert not result.is_error
    assert text(result) == "Paid 1250.5 EUR to Acme Paper."
    assert [c["arguments"] for c in upstream.calls] == [INVOICE]
    # and the decision was made on what the declared paths point at, and its outcome is the call's success
    decision = Decision.objects.get(agent=paying_agent)
    assert (decision.action, decision.resource, decision.amount, decision.currency) == (
        "tool.pay_invoice",
        "Acme Paper",
        Decimal("1250.50"),
        "EUR",
    )
    assert decision.verdict == Verdict.ALLOW
    assert decision.outcome.result == Outcome.Result.SUCCESS
    assert decision.outcome.reported_by == "system:mcp-gateway"
    assert decision.tool_call.status == ToolCall.Status.SUCCEEDED


def test_a_client_of_the_2025_protocol_is_served_too(gateway_url, agent_key, upstream):
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE, mode="legacy")

    assert not result.is_error and text(result) == "Paid 1250.5 EUR to Acme Paper."
    assert ToolCall.objects.get().status == ToolCall.Status.SUCCEEDED


def test_the_calls_trace_context_is_kept_and_handed_on_to_the_upstream(gateway_url, agent_key, upstream):
    # given an agent working inside a trace
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    # when it calls a tool with the trace context in the request's _meta
    call(gateway_url, agent_key, "pay_invoice", INVOICE, meta={"traceparent": traceparent})

    # then the call and its decision are recorded in that trace, and the upstream is called in it as a span of Regent's
    tool_call = ToolCall.objects.select_related("decision").get()
    assert tool_call.traceparent == traceparent
    assert (tool_call.decision.trace_id, tool_call.decision.span_id) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    handed_on = upstream.calls[0]["_meta"]["traceparent"]
    assert handed_on.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-") and handed_on != traceparent


def test_a_call_outside_any_trace_gets_a_trace_of_its_own(gateway_url, agent_key):
    call(gateway_url, agent_key, "pay_invoice", INVOICE)

    version, trace_id, span_id, flags = ToolCall.objects.get().traceparent.split("-")
    assert (version, len(trace_id), len(span_id), flags) == ("00", 32, 16, "01")


def test_an_upstream_tool_error_is_returned_and_reported_as_a_failure(gateway_url, agent_key, paying_agent):
    result = call(gateway_url, agent_key, "refund_order", {"order": "SO-1"})

    assert result.is_error and "SO-1 was never paid" in text(result)
    decision = Decision.objects.get(agent=paying_agent)
    assert decision.outcome.result == Outcome.Result.FAILURE
    assert decision.tool_call.status == ToolCall.Status.FAILED


def test_a_denied_call_is_a_tool_error_with_regents_explanation_and_never_reaches_the_upstream(
    gateway_url, agent_key, paying_agent, upstream, make_policy
):
    # given a policy that forbids paying invoices over 1,000
    make_policy(
        name="No large payments by bots",
        effect=Effect.DENY,
        actions="tool.pay_invoice",
        condition="amount > 1000.0",
        rationale="Large payments are made by people.",
    )

    # when Invoice Bot tries to pay 1,250.50
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)

    # then it is told why, and nothing was forwarded
    assert result.is_error
    assert "Regent denied this call" in text(result) and "Large payments are made by people." in text(result)
    assert upstream.calls == []
    assert ToolCall.objects.get().status == ToolCall.Status.DENIED
    assert Decision.objects.get(agent=paying_agent).verdict == Verdict.DENY


def hold_large_payments(make_policy) -> None:
    make_policy(
        name="Large payments need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="tool.pay_invoice",
        condition="amount > 1000.0",
        approver_role="Supervisor",
        rationale="A second pair of eyes on large sums.",
    )


def pending_approval(timeout: float = 20) -> Approval:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        approval = Approval.objects.filter(status=Approval.Status.PENDING).first()
        if approval is not None:
            return approval
        time.sleep(0.05)
    raise AssertionError("no request was held for a person")


def test_a_held_call_waits_for_a_person_and_proceeds_once_approved(gateway_url, agent_key, upstream, make_policy, bob):
    # given large payments need a supervisor, and bob supervises Finance
    hold_large_payments(make_policy)
    errors: list = []

    def bob_approves() -> None:
        decide_approval(pending_approval().pk, approve=True, by=bob, comment="Matches the purchase order.")

    # when Invoice Bot pays a large invoice while bob, elsewhere, approves the request
    approver = in_thread(bob_approves, errors)
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)
    approver.join()

    # then the call waited for him, went through, and its outcome was recorded
    assert errors == []
    assert not result.is_error and text(result) == "Paid 1250.5 EUR to Acme Paper."
    assert len(upstream.calls) == 1
    tool_call = ToolCall.objects.select_related("decision__outcome").get()
    assert tool_call.status == ToolCall.Status.SUCCEEDED
    assert tool_call.decision.outcome.result == Outcome.Result.SUCCESS


def test_a_held_call_a_person_rejects_fails_with_their_reason(gateway_url, agent_key, upstream, make_policy, bob):
    hold_large_payments(make_policy)
    errors: list = []

    def bob_rejects() -> None:
        decide_approval(pending_approval().pk, approve=False, by=bob, comment="Duplicate of last week's invoice.")

    rejecter = in_thread(bob_rejects, errors)
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)
    rejecter.join()

    assert errors == []
    assert result.is_error
    assert text(result).startswith("Rejected by bob: Duplicate of last week's invoice.")
    assert upstream.calls == []
    assert ToolCall.objects.get().status == ToolCall.Status.REJECTED


def test_a_held_call_nobody_answers_expires_and_says_so_never_denied(
    gateway_url, agent_key, upstream, make_policy, settings
):
    # given large payments need a supervisor, and the gateway waits one second for one
    hold_large_payments(make_policy)
    settings.MCP_APPROVAL_WAIT_SECONDS = 1

    # when nobody answers
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)

    # then the agent is told the call expired, not that it was denied, and nothing was forwarded
    assert result.is_error
    assert text(result).startswith("Expired: nobody approved this call within 1 s")
    assert "denied" not in text(result).lower()
    assert upstream.calls == []
    assert ToolCall.objects.get().status == ToolCall.Status.EXPIRED
    # and nobody is left to approve work that will not happen
    assert Approval.objects.get().status == Approval.Status.WITHDRAWN


def test_a_killed_agent_is_denied_and_nothing_is_forwarded(gateway_url, agent_key, paying_agent, upstream, alice):
    # given alice killed Invoice Bot
    kill_switch.change_agent_status(paying_agent, Status.KILLED, by=alice, reason="Paid the wrong supplier.")

    # when it still tries to pay through the gateway
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)

    # then it is refused, as everywhere
    assert result.is_error and "invoice-bot is killed" in text(result)
    assert upstream.calls == []


def test_a_held_call_is_withdrawn_when_its_agent_is_killed_while_it_waits(
    gateway_url, agent_key, paying_agent, upstream, make_policy, alice
):
    # given large payments need a supervisor, and Invoice Bot is waiting for one
    hold_large_payments(make_policy)
    errors: list = []

    def alice_kills() -> None:
        pending_approval()
        kill_switch.change_agent_status(paying_agent, Status.KILLED, by=alice, reason="Paid the wrong supplier.")

    # when alice kills it meanwhile
    killer = in_thread(alice_kills, errors)
    result = call(gateway_url, agent_key, "pay_invoice", INVOICE)
    killer.join()

    # then nobody can approve the request any more, and the call was never made
    assert errors == []
    assert result.is_error and text(result).startswith("Withdrawn before anyone approved it: Agent invoice-bot")
    assert Approval.objects.get().status == Approval.Status.WITHDRAWN
    assert ToolCall.objects.get().status == ToolCall.Status.WITHDRAWN
    assert upstream.calls == []


def test_tools_list_shows_only_the_tools_the_agents_capabilities_allow(gateway_url, agent_key):
    # Invoice Bot may make payments but not read customers
    assert listed(gateway_url, agent_key) == ["pay_invoice", "refund_order"]


def test_a_tool_beyond_the_agents_capabilities_cannot_be_called(gateway_url, agent_key, upstream):
    error = protocol_error(gateway_url, agent_key, "lookup_customer", {"email": "ann@example.com"})

    assert error is not None and error.error.message == "Unknown tool: lookup_customer."
    assert upstream.calls == []
    assert not Decision.objects.exists()


def test_arguments_that_do_not_give_a_number_for_the_amount_are_refused_without_a_decision(
    gateway_url, agent_key, upstream
):
    bad = {"invoice": {"vendor": "Acme Paper", "total": "lots", "currency": "EUR"}}

    result = call(gateway_url, agent_key, "pay_invoice", bad)

    assert result.is_error and "amount: A valid number is required." in text(result)
    assert upstream.calls == [] and not Decision.objects.exists()


@pytest.mark.parametrize("authorization", ["", "Bearer rgt_not-a-key", "Basic YWxpY2U6cGFzcw=="])
def test_a_request_without_a_valid_agent_key_is_refused(gateway_url, authorization):
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        gateway_url,
        data=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}',
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        | ({"Authorization": authorization} if authorization else {}),
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310

    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="regent"'
