"""Tool calls leave with retention, on the decisions' schedule, and never hold a decision back."""

import datetime as dt

import pytest

from audit import retention
from gateway.models import GatewayTool, ToolCall, UpstreamServer
from governance.models import Decision
from tests.support.audit import wait_until_sequenced
from tests.support.clock import NOW

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OLD, LATER = NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=168)  # the cutoff falls between OLD and NOW


def test_an_old_tool_call_is_archived_and_deleted_with_its_decision(settings, tmp_path, decide, finance_agent):
    # given a tool call of a month ago and one of today, each with its decision
    settings.RETENTION_ARCHIVE = (tmp_path / "archive").as_uri()
    server = UpstreamServer.objects.create(name="Ledger", url="https://ledger.example.com/mcp")
    tool = GatewayTool.objects.create(server=server, name="pay_invoice")
    calls = {}
    for when in (OLD, NOW):
        decision = decide(finance_agent, "tool.pay_invoice", now=when)
        calls[when] = ToolCall.objects.create(
            agent=finance_agent, tool=tool, tool_name=tool.name, decision=decision, traceparent="00-x", started_at=when
        )
    wait_until_sequenced()

    # when retention runs six months on
    applied = retention.apply(now=LATER)

    # then the old call and its decision were archived and deleted, and today's stay
    assert applied[0].archive.records["gateway_toolcall"] == 1
    assert list(ToolCall.objects.all()) == [calls[NOW]]
    assert list(Decision.objects.values_list("pk", flat=True)) == [calls[NOW].decision_id]
