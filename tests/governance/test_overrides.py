"""Overriding a denied or flagged decision: who may, what it records, and what it leaves alone."""

import pytest

from audit.chain import verify_chain
from audit.models import AuditEvent
from governance.models import Effect, Override, Verdict
from governance.overrides import NotYourOverride, OverrideError, override_decision
from orchestration.models import Agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied(make_policy, decide, finance_agent):
    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    return decide(finance_agent, "refund.issue", amount="40")


def test_a_supervisor_overrides_a_denied_decision_of_their_department_with_a_reason(denied, bob):
    override = override_decision(denied.pk, by=bob, reason="  A loyal customer; refund agreed by phone.  ")

    assert (override.decision, override.by, override.verdict_overridden) == (denied, bob, Verdict.DENY)
    assert override.reason == "A loyal customer; refund agreed by phone."


def test_the_override_is_in_the_audit_chain_and_the_chain_verifies(denied, bob):
    override_decision(denied.pk, by=bob, reason="Agreed by phone.")

    event = AuditEvent.objects.get(kind="decision.overridden")
    assert (event.subject_type, event.subject_id, event.actor_label) == ("decision", str(denied.pk), "user:bob")
    assert event.before == {"verdict": "deny"}
    assert event.after["reason"] == "Agreed by phone."
    assert event.department_id == denied.department_id
    assert verify_chain().ok


def test_an_override_changes_no_verdict_and_reserves_no_spend(denied, bob, finance_agent):
    spent_before = Agent.objects.get(pk=finance_agent.pk).month_spent

    override_decision(denied.pk, by=bob, reason="Agreed by phone.")

    denied.refresh_from_db()
    assert denied.verdict == Verdict.DENY
    assert Agent.objects.get(pk=finance_agent.pk).month_spent == spent_before


def test_a_flagged_decision_can_be_overridden(make_policy, decide, finance_agent, bob):
    make_policy(name="Watch exports", effect=Effect.FLAG, actions="data.export", rationale="Exports are watched.")
    flagged = decide(finance_agent, "data.export")

    override_decision(flagged.pk, by=bob, reason="A scheduled export.")

    assert Override.objects.get().verdict_overridden == Verdict.FLAG


def test_an_allowed_decision_cannot_be_overridden(decide, finance_agent, bob):
    allowed = decide(finance_agent, "ticket.read")
    assert allowed.verdict == Verdict.ALLOW

    with pytest.raises(OverrideError, match="Only denied or flagged decisions"):
        override_decision(allowed.pk, by=bob, reason="Why not.")


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_reason_is_mandatory(denied, bob, reason):
    with pytest.raises(OverrideError, match="Give the reason"):
        override_decision(denied.pk, by=bob, reason=reason)

    assert not Override.objects.exists()


def test_a_decision_is_overridden_once(denied, bob):
    override_decision(denied.pk, by=bob, reason="Agreed by phone.")

    with pytest.raises(OverrideError, match="bob already overrode this decision"):
        override_decision(denied.pk, by=bob, reason="Again.")


@pytest.mark.parametrize("username", ["alice", "carol", "dave"])
def test_only_a_supervisor_may_override(denied, request, username):
    with pytest.raises(NotYourOverride):
        override_decision(denied.pk, by=request.getfixturevalue(username), reason="I think so.")

    assert not AuditEvent.objects.filter(kind="decision.overridden").exists()


def test_a_supervisor_may_not_override_another_departments_decision(make_policy, decide, support_agent, bob):
    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    elsewhere = decide(support_agent, "refund.issue")

    with pytest.raises(NotYourOverride):
        override_decision(elsewhere.pk, by=bob, reason="I think so.")
