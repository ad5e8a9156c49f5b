"""Filters a client sends over the socket narrow what it is sent; they never widen what it may see."""

import pytest

from governance.models import Effect, Verdict
from tests.factories import AgentFactory
from tests.support.stream import decide, event_id_of, summary

LOW_RISK_BELOW = 50


def apply_filter(stream, **filters) -> dict:
    """Send a filter and wait for the server's acknowledgement, after which it applies."""
    stream.send({"type": "filter", **filters})
    acknowledgement = stream.frame()
    assert acknowledgement["type"] == "filtered", acknowledgement
    return acknowledgement


def test_a_department_filter_keeps_only_that_departments_events(watch, alice, finance_agent, support_agent, support):
    # Given alice watching Support only
    stream = watch(user=alice)
    apply_filter(stream, departments=[support.pk])

    # When a Finance agent and then a Support agent act
    decide(finance_agent)
    support_decision = decide(support_agent)

    # Then alice receives the Support decision alone
    received = stream.events_through(event_id_of(support_decision))
    assert summary(received) == [(event_id_of(support_decision), "decision.created")]


def test_an_agent_filter_keeps_only_that_agents_events(watch, alice, finance_agent, finance):
    # Given alice watching the Finance agent only, and a colleague of it
    colleague = AgentFactory(department=finance)
    stream = watch(user=alice)
    apply_filter(stream, agents=[finance_agent.pk])

    # When the colleague and then the Finance agent act
    decide(colleague)
    watched = decide(finance_agent)

    # Then alice receives the watched agent's decision alone
    received = stream.events_through(event_id_of(watched))
    assert summary(received) == [(event_id_of(watched), "decision.created")]


def test_a_verdict_filter_keeps_only_decisions_with_those_verdicts(watch, alice, finance_agent, make_policy):
    # Given a policy denying invoice deletion, and alice watching denials only
    make_policy(effect=Effect.DENY, actions="invoice.delete")
    stream = watch(user=alice)
    apply_filter(stream, verdicts=[Verdict.DENY])

    # When the agent makes an allowed and then a denied request
    decide(finance_agent, "invoice.approve")
    denied = decide(finance_agent, "invoice.delete")

    # Then alice receives the denial alone
    received = stream.events_through(event_id_of(denied))
    assert summary(received) == [(event_id_of(denied), "decision.created")]
    assert received[0]["data"]["verdict"] == Verdict.DENY


def test_a_minimum_risk_keeps_only_decisions_at_or_above_it(watch, alice, finance_agent, make_policy):
    # Given a policy flagging payments with a heavy risk weight, and alice watching risky decisions only
    make_policy(effect=Effect.FLAG, actions="invoice.pay", risk_weight=50)
    stream = watch(user=alice)
    apply_filter(stream, min_risk=LOW_RISK_BELOW)

    # When the agent makes a plain request and then a flagged one
    plain = decide(finance_agent, "invoice.approve")
    risky = decide(finance_agent, "invoice.pay")

    # Then alice receives the risky decision alone
    assert plain.risk_score < LOW_RISK_BELOW <= risky.risk_score
    received = stream.events_through(event_id_of(risky))
    assert summary(received) == [(event_id_of(risky), "decision.created")]


def test_asking_for_another_department_does_not_widen_a_supervisors_scope(
    watch, alice, bob, finance_agent, support_agent, support
):
    # Given bob, Supervisor of Finance, asking for Support's events, and alice watching everything
    stream = watch(user=bob)
    acknowledgement = apply_filter(stream, departments=[support.pk])
    witness = watch(user=alice)

    # When a Support agent and a Finance agent act
    decide(support_agent)
    last = decide(finance_agent)

    # Then, although the events were sent (alice has both), bob receives nothing
    assert acknowledgement["departments"] == [support.pk]
    assert len(witness.events_through(event_id_of(last))) == 2
    assert stream.events_within() == []


@pytest.mark.parametrize(
    "message",
    [
        pytest.param('{"type": "filter", "min_risk": "high"}', id="risk-not-a-number"),
        pytest.param('{"type": "filter", "min_risk": 101}', id="risk-above-100"),
        pytest.param('{"type": "filter", "departments": "finance"}', id="departments-not-a-list"),
        pytest.param('{"type": "filter", "agents": [true]}', id="agents-not-ids"),
        pytest.param('{"type": "filter", "verdicts": [1]}', id="verdicts-not-names"),
        pytest.param('{"type": "subscribe"}', id="not-a-filter"),
        pytest.param("departments=1", id="not-json"),
    ],
)
def test_an_invalid_filter_is_answered_with_an_error_and_the_stream_goes_on(watch, alice, finance_agent, message):
    # Given alice watching
    stream = watch(user=alice)

    # When she sends a filter the server cannot apply
    stream.socket.send(message)

    # Then she is told why, and events still arrive on the same connection, unfiltered
    error = stream.frame()
    assert error["type"] == "error" and error["message"], error
    decision = decide(finance_agent)
    assert summary(stream.events(1)) == [(event_id_of(decision), "decision.created")]
