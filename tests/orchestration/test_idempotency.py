"""Idempotent tasks: a step's task delivered twice does the work once, asks governance once, spends once."""

from collections import Counter
from decimal import Decimal

import pytest

from governance.models import Decision, Outcome
from orchestration.models import Agent
from tests.factories import CapabilityFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.workflows import steps_of
from workflows import runtime
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


class WorkerLost(BaseException):
    """The worker process died mid-call: nothing after the call ran (not even an except Exception)."""


@pytest.fixture
def teller(hire) -> Agent:
    """A Finance agent with 10000 to spend this month."""
    return hire("teller", "payment.send", monthly_budget=Decimal("10000"))


@pytest.fixture
def payment_step(teller) -> StepRun:
    """A payment of 1200, started but not yet carried out: the test delivers its task itself."""
    workflow = WorkflowTemplateFactory(slug="pay-invoice")
    StepTemplateFactory(workflow=workflow, key="pay", capability__code="payment.send", amount_field="amount")
    run = runtime.start_workflow(workflow, {"amount": 1200, "currency": "EUR"}, started_by="user:alice")
    return run.steps.get()


def test_a_step_task_delivered_twice_calls_the_provider_once(payment_step, fake_provider):
    # Given a payment step

    # When its task is delivered twice
    runtime.run_step(payment_step.pk)
    runtime.run_step(payment_step.pk)

    # Then the provider was called once, and the step succeeded
    assert fake_provider.agents_called == ["teller"]
    payment_step.refresh_from_db()
    assert payment_step.status == StepRun.Status.SUCCEEDED


def test_a_step_task_delivered_twice_asks_governance_once(payment_step, fake_provider):
    # Given a payment step

    # When its task is delivered twice
    runtime.run_step(payment_step.pk)
    runtime.run_step(payment_step.pk)

    # Then one decision was made, with one outcome
    assert Decision.objects.count() == 1
    assert Outcome.objects.count() == 1


def test_a_step_task_delivered_twice_spends_the_budget_once(payment_step, teller, fake_provider):
    # Given a payment step of 1200

    # When its task is delivered twice
    runtime.run_step(payment_step.pk)
    runtime.run_step(payment_step.pk)

    # Then 1200 is spent from the teller's budget and from Finance's, once
    teller.refresh_from_db()
    teller.department.refresh_from_db()
    assert (teller.month_spent, teller.department.month_spent) == (Decimal("1200"), Decimal("1200"))


def test_a_task_redelivered_after_its_worker_died_mid_call_repeats_the_call_under_the_same_key(
    payment_step, teller, fake_provider
):
    # Given the payment's worker died while the provider was at work
    def die_on_the_first_call(agent, order):
        if len(fake_provider.calls) == 1:
            raise WorkerLost

    fake_provider.while_working = die_on_the_first_call
    with pytest.raises(WorkerLost):
        runtime.run_step(payment_step.pk)

    # When the task is delivered again
    runtime.run_step(payment_step.pk)

    # Then the provider was asked again under the same idempotency key (so it can tell it is the same work),
    # and governance was asked, and the budget spent, once
    first, second = fake_provider.calls
    assert first.idempotency_key == second.idempotency_key
    payment_step.refresh_from_db()
    assert payment_step.status == StepRun.Status.SUCCEEDED
    assert (Decision.objects.count(), Outcome.objects.count()) == (1, 1)
    teller.refresh_from_db()
    assert teller.month_spent == Decimal("1200")


def test_each_step_of_a_run_is_queued_once(hire, fake_provider, run_workflow, queued_steps):
    # Given a month-end close: reconcile and report side by side, then close once both are done; and every task
    # queued is watched
    hire("controller", "ledger.reconcile", "ledger.report", "ledger.close")
    workflow = WorkflowTemplateFactory(slug="month-end")
    for key, depends_on in [("reconcile", ""), ("report", ""), ("close", "reconcile, report")]:
        StepTemplateFactory(
            workflow=workflow, key=key, capability=CapabilityFactory(code=f"ledger.{key}"), depends_on=depends_on
        )

    # When a run is carried out
    run = run_workflow(workflow, {})

    # Then each step's task was queued exactly once: a second copy of a step that has not started yet could
    # run alongside the first and call the provider twice
    assert run.status == WorkflowRun.Status.SUCCEEDED
    assert Counter(queued_steps) == {step.pk: 1 for step in steps_of(run).values()}


def test_a_payment_rerouted_after_a_provider_failure_spends_the_department_budget_once(
    payment_step, teller, hire, fake_provider, django_capture_on_commit_callbacks
):
    # Given a payment of 1200 whose first choice, the teller, is down, and a second teller who is up
    hire("second-teller", "payment.send", cost="0.009")
    fake_provider.down = {"teller"}

    # When the payment's task runs, and the retries and re-routing that follow
    with django_capture_on_commit_callbacks(execute=True):
        runtime.run_step(payment_step.pk)

    # Then the second teller paid, and Finance's month shows the one payment of 1200
    payment_step.refresh_from_db()
    assert (payment_step.status, payment_step.agent.slug) == (StepRun.Status.SUCCEEDED, "second-teller")
    teller.department.refresh_from_db()
    assert teller.department.month_spent == Decimal("1200")
