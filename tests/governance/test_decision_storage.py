"""The decision path's plain SQL: it reads and writes exactly what the ORM would, in fewer statements."""

import datetime as dt
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from fastpath.writes import insert
from governance import engine
from governance.acting_agent import UnknownAgent, load_actor
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Decision, Outcome
from governance.outcomes import report_outcome
from orchestration.models import Agent, Status
from tests.factories import AgentFactory, CapabilityFactory

pytestmark = pytest.mark.django_db


def test_load_actor_reads_the_agent_with_department_provider_and_capabilities(django_assert_num_queries):
    # Given an agent with two capabilities and some spend
    agent = AgentFactory(monthly_budget=Decimal("1234.50"), month_spent=Decimal("10.25"))
    agent.capabilities.add(CapabilityFactory(code="invoice.approve"), CapabilityFactory(code="invoice.read"))
    orm = Agent.objects.select_related("department", "provider").get(pk=agent.pk)

    # When it is loaded for a decision
    with django_assert_num_queries(1):
        actor = load_actor(agent.pk)
        loaded = actor.agent
        department, provider = loaded.department, loaded.provider

    # Then every field matches the ORM's reading, with related rows attached and no further query
    for model_instance, expected in ((loaded, orm), (department, orm.department), (provider, orm.provider)):
        for field in type(expected)._meta.concrete_fields:
            assert getattr(model_instance, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(loaded.monthly_budget, Decimal)
    assert actor.capability_codes == {"invoice.approve", "invoice.read"}


def test_load_actor_reports_the_policy_set_version_the_engine_would(make_policy):
    # Given two recorded policies
    make_policy()
    make_policy()
    agent = AgentFactory()

    # When the actor is loaded
    actor = load_actor(agent.pk)

    # Then it carries the same version the engine computes on its own, and an agent has no capabilities
    assert actor.policy_set_version == engine.policy_set_version()
    assert actor.policy_set_version[0] == 2
    assert actor.capability_codes == frozenset()


def test_load_actor_refuses_an_unknown_agent():
    with pytest.raises(UnknownAgent):
        load_actor(987654)


def test_insert_stores_what_the_orm_would_and_reads_back_the_id():
    # Given an unsaved decision with JSON, decimal and time values
    agent = AgentFactory()
    at = dt.datetime(2026, 3, 10, 14, 30, 15, 123456, tzinfo=dt.UTC)
    decision = Decision(
        agent=agent,
        department=agent.department,
        action="invoice.pay",
        amount=Decimal("99.95"),
        currency="EUR",
        data_classes=["pii"],
        context={"vendor": "Ünïcode ‘quoted’", "nested": {"n": 1}},
        verdict="allow",
        risk_score=12,
        latency_us=5,
        created_at=at,
    )

    # When it is inserted without the ORM's compiler
    insert([decision])

    # Then it has an id and the stored row reads back equal
    stored = Decision.objects.get(pk=decision.pk)
    assert (stored.amount, stored.created_at, stored.context, stored.data_classes) == (
        Decimal("99.95"),
        at,
        {"vendor": "Ünïcode ‘quoted’", "nested": {"n": 1}},
        ["pii"],
    )
    assert decision._state.adding is False


def test_insert_of_many_rows_assigns_every_id_in_order():
    agent = AgentFactory()
    fields = {"agent": agent, "department": agent.department, "verdict": "allow", "latency_us": 0}
    decisions = [Decision(action=f"a.n{i}", risk_score=i, **fields) for i in range(5)]

    insert(decisions)

    assert [Decision.objects.get(pk=d.pk).action for d in decisions] == [f"a.n{i}" for i in range(5)]


def test_a_decision_is_recorded_and_chained_in_seven_statements(django_assert_max_num_queries):
    # Given an active agent and no policy that reads spend or counts
    agent = AgentFactory()
    evaluate_action(agent, ActionRequest(action="report.generate"))  # the index is built once per process

    # When it asks to act
    with django_assert_max_num_queries(7):  # begin, actor, decision, head lock, event, head update, commit
        decision = evaluate_action(agent, ActionRequest(action="report.generate"))

    # Then the decision and its audit link are stored
    event = AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk))
    assert event.after["id"] == decision.pk


def test_an_outcome_is_recorded_in_one_statement_and_a_second_report_keeps_the_first(django_assert_num_queries):
    # Given a decision
    decision = evaluate_action(AgentFactory(), ActionRequest(action="report.generate"))

    # When its outcome is reported, then reported again differently
    with django_assert_num_queries(1):
        first = report_outcome(decision, "success", reported_by="system:orchestrator", cost=Decimal("0.40"), csat=5)
    second = report_outcome(decision, "failure", reported_by="user:bob")

    # Then the first report stands, stored as given, and the second returns it
    stored = Outcome.objects.get(decision=decision)
    assert (stored.pk, stored.result, stored.cost, stored.value, stored.csat) == (
        first.pk,
        "success",
        Decimal("0.40"),
        Decimal("0"),
        5,
    )
    assert (stored.reported_at, stored.reported_by) == (first.reported_at, "system:orchestrator")
    assert (second.pk, second.result) == (first.pk, "success")


def test_a_stopped_agent_is_denied_with_the_fresh_status():
    # Given an agent object loaded while active, then paused in the database
    agent = AgentFactory()
    Agent.objects.filter(pk=agent.pk).update(status=Status.PAUSED)

    # When the stale object asks to act
    decision = evaluate_action(agent, ActionRequest(action="report.generate"))

    # Then the decision reads the status as it stands now
    assert decision.verdict == "deny"
    assert "paused" in decision.explanation
