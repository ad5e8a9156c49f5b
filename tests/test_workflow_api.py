"""Delegation: an agent working a step hands a sub-task to another agent, through governance."""

import datetime as dt
from decimal import Decimal

import pytest
from kombu.exceptions import OperationalError as KombuOperationalError
from rest_framework.test import APIClient

from config.celery import app as celery_app
from governance.models import Decision, Effect
from governance.policies import record_policy_version
from orchestration.keys import issue_key
from tests.factories import AgentFactory, CapabilityFactory, PolicyFactory
from workflows import runtime, tasks
from workflows.models import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_in_process():
    """The child run's step runs at once, whatever broker the environment names."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def running_step(finance_agent):
    invoice = CapabilityFactory(code="invoice.approve")
    finance_agent.capabilities.add(invoice)
    workflow = WorkflowTemplate.objects.create(name="Invoice", slug="invoice")
    template = StepTemplate.objects.create(
        workflow=workflow, key="approve", capability=invoice, action="invoice.approve"
    )
    run = WorkflowRun.objects.create(workflow=workflow, started_by="test")
    return StepRun.objects.create(run=run, template=template, agent=finance_agent, status=StepRun.Status.RUNNING)


@pytest.fixture
def reviewer(finance):
    agent = AgentFactory(name="Review Bot", slug="review-bot", department=finance)
    agent.capabilities.add(CapabilityFactory(code="contract.review"))
    return agent


def delegate(agent, step, **body) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(agent)}")
    return client.post(
        f"/api/v1/steps/{step.pk}/delegate",
        {"capability": "contract.review", "action": "contract.review", **body},
        format="json",
    )


def test_a_delegated_task_becomes_a_child_run_linked_to_the_step(
    running_step, finance_agent, reviewer, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = delegate(finance_agent, running_step)

    assert response.status_code == 201, response.json()
    child = WorkflowRun.objects.get(pk=response.json()["run_id"])
    assert child.parent_step == running_step
    assert child.steps.get().agent == reviewer


def test_a_denied_action_cannot_be_laundered_through_another_agent(running_step, finance_agent, reviewer) -> None:
    policy = PolicyFactory(
        name="No contract reviews by the invoice bot",
        effect=Effect.DENY,
        actions="contract.review",
        rationale="Not its job.",
    )
    policy.agents.set([finance_agent])
    record_policy_version(policy)

    response = delegate(finance_agent, running_step, amount="10", currency="EUR")

    assert response.status_code == 403
    assert response.json()["verdict"] == "deny"
    assert not WorkflowRun.objects.filter(parent_step=running_step).exists()
    assert not Decision.objects.filter(agent=reviewer).exists()


def test_only_the_agent_running_the_step_may_delegate_from_it(running_step, reviewer) -> None:
    response = delegate(reviewer, running_step)

    assert response.status_code == 404


def test_a_finished_step_cannot_delegate(running_step, finance_agent, reviewer) -> None:
    StepRun.objects.filter(pk=running_step.pk).update(status=StepRun.Status.SUCCEEDED)

    response = delegate(finance_agent, running_step, amount=str(Decimal("5")), currency="EUR")

    assert response.status_code == 409


def test_a_delegation_with_an_unknown_capability_is_a_field_error(running_step, finance_agent) -> None:
    response = delegate(finance_agent, running_step, capability="no.such")

    assert response.status_code == 400
    assert "capability" in response.json()["fields"]


def test_a_supervisor_starts_a_run_through_the_api(bob, running_step, django_capture_on_commit_callbacks) -> None:
    client = APIClient()
    client.force_login(bob)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/workflows/invoice/runs", {"input": {"amount": 12}}, format="json")

    assert response.status_code == 201, response.json()
    run = WorkflowRun.objects.get(pk=response.json()["run_id"])
    assert (run.input, run.started_by) == ({"amount": 12}, "user:bob")


def test_an_agent_starts_a_run_with_its_key(finance_agent, running_step) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(finance_agent)}")

    response = client.post("/api/v1/workflows/invoice/runs", {}, format="json")

    assert response.status_code == 201
    assert WorkflowRun.objects.get(pk=response.json()["run_id"]).started_by == "agent:invoice-bot"


def test_a_run_started_while_the_broker_is_down_is_started_and_its_steps_wait_for_the_resend(
    bob, running_step, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # Given a broker that cannot be reached when the run's first task is published, after its commit
    def broker_down(*args, **options):
        raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_step, "apply_async", broker_down)
    client = APIClient()
    client.force_login(bob)

    # When bob starts a run
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/workflows/invoice/runs", {"input": {"amount": 12}}, format="json")

    # Then the run is started (it is committed; a 500 or 503 would invite a second run), and its first step is
    # pending, where the resend sweep finds it
    assert response.status_code == 201, response.content
    step = StepRun.objects.get(run_id=response.json()["run_id"])
    assert step.status == StepRun.Status.PENDING
    StepRun.objects.filter(pk=step.pk).update(updated_at=step.updated_at - dt.timedelta(seconds=11))
    monkeypatch.undo()
    assert runtime.resend_unsent_steps(older_than_seconds=10) == [step.pk]


def test_a_person_without_the_permission_cannot_start_a_run(dave, running_step) -> None:
    client = APIClient()
    client.force_login(dave)

    response = client.post("/api/v1/workflows/invoice/runs", {}, format="json")

    assert response.status_code == 403


def test_starting_a_disabled_workflow_is_a_conflict(bob, running_step) -> None:
    WorkflowTemplate.objects.filter(slug="invoice").update(enabled=False)
    client = APIClient()
    client.force_login(bob)

    response = client.post("/api/v1/workflows/invoice/runs", {}, format="json")

    assert response.status_code == 409
    assert "disabled" in response.json()["detail"]


def test_an_input_that_is_not_an_object_is_a_field_error(bob, running_step) -> None:
    client = APIClient()
    client.force_login(bob)

    response = client.post("/api/v1/workflows/invoice/runs", {"input": [1, 2]}, format="json")

    assert response.status_code == 400
    assert "input" in response.json()["fields"]
