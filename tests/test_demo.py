"""The demo: a seeded company that can be seeded again safely, and a simulator that goes through governance."""

import datetime as dt
import time

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from alerting.models import Alert, AlertRule
from audit.chain import verify_chain
from audit.models import AuditEvent, Checkpoint
from demo import company
from demo.seed import seed_company
from demo.simulator import Simulator
from governance.models import Approval, Decision, Policy, PolicyExample, PolicyVersion
from governance.policy_examples import run_examples
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, Department, ModelProvider, Status
from traces.models import Span
from traces.usage import model_usage

SMALL_HISTORY = {"history_days": 1, "peak_rate": 0.005}


def counts() -> dict[str, int]:
    models = [Department, Agent, ModelProvider, Policy, PolicyVersion, PolicyExample, Decision, Approval, AuditEvent]
    models.append(AlertRule)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.django_db
def test_the_company_has_the_size_the_demo_promises() -> None:
    report = seed_company(**SMALL_HISTORY)

    assert report.departments >= 6
    assert report.agents >= 40
    assert report.policies >= 12
    assert ModelProvider.objects.values("kind").distinct().count() >= 3
    assert report.history_created > 0


@pytest.mark.django_db
def test_seeding_twice_adds_nothing_the_second_time() -> None:
    seed_company(**SMALL_HISTORY)
    before = counts()

    report = seed_company(**SMALL_HISTORY)

    assert counts() == before
    assert report.history_created == 0


@pytest.mark.django_db
def test_every_printed_login_works_even_after_a_password_change() -> None:
    seed_company(**SMALL_HISTORY)
    executive = authenticate(username="executive", password=company.PASSWORD)
    executive.set_password("something else entirely")
    executive.save()

    seed_company(**SMALL_HISTORY)

    for username, _, role in company.PEOPLE:
        user = authenticate(username=username, password=company.PASSWORD)
        assert user is not None, username
        assert user.groups.filter(name=role).exists()


@pytest.mark.django_db
def test_the_seeded_history_is_audited_in_one_valid_chain() -> None:
    seed_company(**SMALL_HISTORY)

    report = verify_chain()

    assert report.ok, report
    assert AuditEvent.objects.filter(kind="decision.created").count() == Decision.objects.count()


@pytest.mark.django_db
def test_the_seeded_policy_examples_all_pass() -> None:
    seed_company(**SMALL_HISTORY)

    results = [result for policy in Policy.objects.all() for result in run_examples(policy)]

    assert results
    assert [r.example.description for r in results if not r.passed] == []


@pytest.mark.django_db
def test_a_simulated_action_is_decided_and_audited_like_a_real_one() -> None:
    seed_company(**SMALL_HISTORY)
    simulator = Simulator(peak=1.0, seed=3)
    decided = AuditEvent.objects.filter(kind="decision.created")
    decisions_before, events_before = Decision.objects.count(), decided.count()

    for _ in range(5):
        simulator.step()

    assert Decision.objects.count() == decisions_before + 5
    assert decided.count() == events_before + 5
    assert verify_chain().ok


@pytest.mark.django_db
def test_the_demo_command_refuses_a_rate_that_is_not_positive() -> None:
    with pytest.raises((CommandError, SystemExit)):
        call_command("demo", "--rate", "0")


@pytest.mark.django_db(transaction=True)
def test_the_running_demo_signs_checkpoints_as_beat_does_in_production() -> None:
    # Given the demo's simulated company running (it does beat's chores: the demo runs no beat)
    simulator = Simulator(peak=0.001, seed=4)

    # When it has run for a moment
    simulator.start()
    try:
        deadline = time.monotonic() + 20
        while not Checkpoint.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        simulator.stop()

    # Then a checkpoint is signed, as the integrity page promises
    assert Checkpoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_running_demo_evaluates_its_alert_rules_as_beat_does_in_production() -> None:
    # Given the demo company with its alert rules, and one agent stopped with the kill switch
    seed_company(history_days=0, peak_rate=0.001)
    agent = Agent.objects.order_by("pk").first()
    change_agent_status(agent, Status.KILLED, reason="Demo test")
    simulator = Simulator(peak=0.001, seed=4)

    # When the simulated company has run for a moment
    simulator.start()
    try:
        deadline = time.monotonic() + 30
        while not Alert.objects.filter(subject_type="agent", subject_id=agent.pk).exists():
            assert time.monotonic() < deadline, "no alert opened"
            time.sleep(0.2)
    finally:
        simulator.stop()

    # Then the kill switch rule has opened an alert for the agent
    alert = Alert.objects.get(subject_type="agent", subject_id=agent.pk)
    assert alert.rule.name == "Kill switch used"


@pytest.mark.django_db
def test_some_seeded_decisions_carry_the_agents_reasoning() -> None:
    # When the company is seeded
    seed_company(**SMALL_HISTORY)

    # Then some decisions were asked from a traced tool call, whose trace holds the agent's model calls, priced
    traced = Decision.objects.exclude(trace_id="")
    assert 0 < traced.count() < Decision.objects.count()
    for decision in traced[:20]:
        steps = Span.objects.filter(trace_id=decision.trace_id, agent_id=decision.agent_id)
        assert steps.filter(span_id=decision.span_id, operation="execute_tool").exists()
        assert steps.filter(operation="chat", cost__gt=0).exists()
    # and what the agents sent went through ingest's masking like any export
    assert not Span.objects.filter(input_messages__contains="jane.doe@example.com").exists()
    usage = model_usage(traced[0].agent_id, timezone.now() - dt.timedelta(days=2), timezone.now())
    assert usage and all(row.cost for row in usage)
