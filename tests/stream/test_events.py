"""Each kind of change reaches the stream once it commits, and a change that rolls back never does."""

import datetime as dt

import pytest
from django.db import transaction

from audit.models import AuditEvent
from dashboard.stream import hub as hub_module
from governance.approvals import decide_approval, escalate_overdue
from governance.ingest import ExternalDecision, ingest
from governance.models import Approval, Effect, Verdict
from governance.overrides import override_decision
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from tests.support.audit import wait_until_sequenced
from tests.support.stream import decide, event_id_of, summary


class Rollback(Exception):
    pass


@pytest.fixture
def held_decision(make_policy, finance_agent):
    """A Finance decision held for a Supervisor's approval."""
    make_policy(effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor", actions="invoice.approve")
    decision = decide(finance_agent, "invoice.approve", amount=120)
    assert decision.verdict == Verdict.REQUIRE_APPROVAL
    return decision


def test_a_decision_is_streamed_as_decision_created(watch, alice, finance_agent):
    # Given alice watching
    stream = watch(user=alice)

    # When the Finance agent acts
    decision = decide(finance_agent)

    # Then its decision arrives
    [event] = stream.events(1)
    assert (event["type"], event["data"]["id"]) == ("decision.created", decision.pk)


def test_a_held_decision_is_streamed_with_its_approval_request(watch, alice, finance_agent, make_policy):
    # Given a policy holding invoice approvals for a Supervisor, and alice watching
    make_policy(effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor", actions="invoice.approve")
    stream = watch(user=alice)

    # When the Finance agent asks to approve an invoice
    decision = decide(finance_agent, "invoice.approve", amount=120)

    # Then the decision arrives, followed by the request for approval
    created, requested = stream.events(2)
    assert (created["type"], created["data"]["verdict"]) == ("decision.created", Verdict.REQUIRE_APPROVAL)
    assert requested["type"] == "approval.requested"
    assert requested["id"] == created["id"] + 1
    assert (requested["data"]["decision_id"], requested["data"]["approval_id"]) == (decision.pk, decision.approval.pk)
    assert (requested["agent_id"], requested["data"]["approver_role"]) == (finance_agent.pk, "Supervisor")


def test_deciding_an_approval_is_streamed_as_approval_resolved(watch, alice, bob, held_decision):
    # Given alice watching a held decision
    approval = held_decision.approval
    stream = watch(user=alice)

    # When bob approves it
    decide_approval(approval.pk, approve=True, by=bob, comment="Known supplier")

    # Then its resolution arrives
    [event] = stream.events(1)
    assert (event["type"], event["subject"]) == ("approval.resolved", {"type": "approval", "id": str(approval.pk)})
    assert (event["data"]["status"], event["data"]["comment"]) == (Approval.Status.APPROVED, "Known supplier")


def test_an_overdue_approval_is_streamed_as_approval_escalated(watch, alice, held_decision):
    # Given alice watching a held decision
    approval = held_decision.approval
    stream = watch(user=alice)

    # When its deadline passes and overdue approvals are escalated
    escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))

    # Then its escalation to an Executive arrives
    [event] = stream.events(1)
    assert (event["type"], event["data"]["approval_id"]) == ("approval.escalated", approval.pk)
    assert (event["data"]["approver_role"], event["data"]["escalation_level"]) == ("Executive", 1)


def test_pausing_an_agent_is_streamed_as_agent_status_changed(watch, alice, bob, finance_agent, finance):
    # Given alice watching
    stream = watch(user=alice)

    # When bob pauses the Finance agent
    change_agent_status(finance_agent, Status.PAUSED, by=bob)

    # Then the change of status arrives, about that agent
    [event] = stream.events(1)
    assert (event["type"], event["agent_id"], event["department_id"]) == (
        "agent.status_changed",
        finance_agent.pk,
        finance.pk,
    )
    assert event["data"] == {"status": Status.PAUSED}


def test_a_policy_change_is_streamed_as_policy_changed(watch, alice, make_policy):
    # Given alice watching
    stream = watch(user=alice)

    # When a policy is created
    policy = make_policy(effect=Effect.DENY, actions="invoice.delete")

    # Then the change arrives, with the policy's new version
    [event] = stream.events(1)
    assert (event["type"], event["subject"]["id"]) == ("policy.changed", str(policy.pk))
    assert (event["data"]["version"], event["data"]["effect"]) == (1, Effect.DENY)


def test_a_decision_that_rolls_back_is_never_streamed(watch, alice, finance_agent):
    # Given alice watching
    stream = watch(user=alice)

    # When a decision is recorded in a transaction that then rolls back, and another one commits
    with pytest.raises(Rollback), transaction.atomic():
        decide(finance_agent, resource="invoice/rolled-back")
        raise Rollback
    committed = decide(finance_agent, resource="invoice/committed")

    # Then only the committed decision arrives (and no other event follows it)
    assert not AuditEvent.objects.filter(after__resource="invoice/rolled-back").exists()
    received = stream.events_through(event_id_of(committed))
    assert summary(received) == [(event_id_of(committed), "decision.created")]
    assert received[0]["data"]["resource"] == "invoice/committed"
    assert stream.events_within() == []


def test_an_override_is_streamed_to_the_departments_watchers(watch, alice, bob, make_policy, finance_agent):
    # Given a denied Finance refund, and alice watching
    make_policy(effect=Effect.DENY, actions="refund.issue")
    denied = decide(finance_agent, "refund.issue")
    stream = watch(user=alice)

    # When bob overrides it
    override_decision(denied.pk, by=bob, reason="Agreed by phone")

    # Then the override arrives
    [event] = stream.events(1)
    assert (event["type"], event["subject"]) == ("decision.overridden", {"type": "decision", "id": str(denied.pk)})
    assert (event["data"]["verdict_overridden"], event["data"]["reason"]) == (Verdict.DENY, "Agreed by phone")


def test_a_bulk_ingested_batch_is_streamed_whole_and_in_order(watch, alice, finance_agent, monkeypatch):
    # Given alice watching, and the hub (new with this test's server) reading the audit table back only when a
    # notification says so
    monkeypatch.setattr(hub_module, "POLL_SECONDS", 3600)
    stream = watch(user=alice)

    # When the agent ingests a batch too large for one notification to carry (it names the range instead)
    batch = [
        (n, ExternalDecision(idempotency_key=f"batch-{n}", action="invoice.approve", verdict=Verdict.ALLOW))
        for n in range(30)
    ]
    results = ingest(finance_agent, batch)
    wait_until_sequenced()

    # Then she receives all 30 decisions, once each, in the order they were recorded
    expected = list(
        AuditEvent.objects.filter(kind="decision.created", subject_id__in=[str(r.id) for r in results])
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    received = stream.events_through(expected[-1])
    assert [e["id"] for e in received] == expected
    assert len(expected) == 30
