"""What each watcher is sent: a Supervisor their departments, an agent its own events, the organisation-wide
roles everything; and what one event looks like on the wire."""

import datetime as dt
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from tests.factories import AgentFactory
from tests.support.stream import decide, event_id_of, summary

EVENT_KEYS = {"id", "type", "at", "department_id", "agent_id", "subject", "data"}


def test_a_supervisor_receives_their_departments_decisions_and_not_others(
    watch, bob, finance_agent, support_agent, finance
):
    # Given bob, Supervisor of Finance, watching
    stream = watch(user=bob)

    # When a Support agent and then a Finance agent act
    decide(support_agent)
    finance_decision = decide(finance_agent)

    # Then bob receives the Finance decision alone
    received = stream.events_through(event_id_of(finance_decision))
    assert summary(received) == [(event_id_of(finance_decision), "decision.created")]
    assert received[0]["department_id"] == finance.pk


def test_an_agent_receives_only_its_own_events(watch, agent_key, finance_agent, support_agent, finance):
    # Given the Finance agent watching by its key, and a colleague in its own department
    colleague = AgentFactory(department=finance)
    stream = watch(key=agent_key(finance_agent))

    # When a Support agent, the colleague, and then the agent itself act
    decide(support_agent)
    decide(colleague)
    own = decide(finance_agent)

    # Then the agent receives its own decision alone
    received = stream.events_through(event_id_of(own))
    assert summary(received) == [(event_id_of(own), "decision.created")]
    assert received[0]["agent_id"] == finance_agent.pk


def test_an_executive_receives_every_departments_decisions(watch, alice, finance_agent, support_agent):
    # Given alice, an Executive, watching
    stream = watch(user=alice)

    # When a Support agent and a Finance agent act
    support_decision, finance_decision = decide(support_agent), decide(finance_agent)

    # Then alice receives both, in order
    received = stream.events_through(event_id_of(finance_decision))
    assert [e["data"]["id"] for e in received] == [support_decision.pk, finance_decision.pk]


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_a_policy_change_reaches_every_role(watch, request, make_policy, username):
    # Given someone holding each role watching
    stream = watch(user=request.getfixturevalue(username))

    # When a policy is created
    policy = make_policy(name="No refunds over 500")

    # Then they are told of it
    [event] = stream.events(1)
    assert (event["type"], event["subject"], event["department_id"]) == (
        "policy.changed",
        {"type": "policy", "id": str(policy.pk)},
        None,
    )
    assert event["data"]["name"] == "No refunds over 500"


def test_a_decision_event_has_the_documented_shape(watch, alice, finance_agent, finance):
    # Given alice watching
    stream = watch(user=alice)

    # When the Finance agent acts
    decision = decide(finance_agent, amount=120, currency="EUR")

    # Then the event says what happened, to whom, where and when, with the audit event's id
    [event] = stream.events(1)
    audit_event = AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk))
    assert set(event) == EVENT_KEYS
    assert (event["id"], event["type"]) == (audit_event.seq, "decision.created")
    assert dt.datetime.fromisoformat(event["at"]) == audit_event.occurred_at
    assert (event["department_id"], event["agent_id"]) == (finance.pk, finance_agent.pk)
    assert event["subject"] == {"type": "decision", "id": str(decision.pk)}
    data = event["data"]
    assert (data["id"], data["verdict"], data["risk_score"]) == (decision.pk, decision.verdict, decision.risk_score)
    assert (data["agent_name"], data["department"], data["agent"]) == ("Invoice Bot", "Finance", "invoice-bot")
    assert (Decimal(data["amount"]), data["currency"], data["action"]) == (Decimal(120), "EUR", "invoice.approve")


def test_event_ids_strictly_increase(watch, alice, finance_agent, support_agent):
    # Given alice watching
    stream = watch(user=alice)

    # When agents of two departments act in turn
    for _ in range(5):
        decide(finance_agent)
        decide(support_agent)

    # Then every event's id is higher than the one before
    ids = [event["id"] for event in stream.events(10)]
    assert ids == sorted(set(ids))
