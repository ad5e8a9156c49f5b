"""Workflows: a run carries out its steps in dependency order, and start_workflow refuses what cannot run."""

import pytest

from audit.chain import verify_chain
from audit.models import AuditEvent
from tests.factories import CapabilityFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.workflows import INVOICE, steps_of
from workflows.models import StepRun, WorkflowRun
from workflows.runtime import WorkflowError, start_workflow

pytestmark = pytest.mark.django_db


def test_a_run_carries_out_its_three_steps_in_dependency_order(invoice_workflow, clerk, fake_provider, run_workflow):
    # Given the invoice workflow (read → approve → pay) and a clerk who can do every step

    # When a run starts
    run = run_workflow(invoice_workflow)

    # Then each step was done once, in dependency order, by the clerk, and the run succeeded
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"]
    assert {key: (step.status, step.agent) for key, step in steps_of(run).items()} == {
        key: (StepRun.Status.SUCCEEDED, clerk) for key in ("read", "approve", "pay")
    }
    assert run.status == WorkflowRun.Status.SUCCEEDED


def test_dependencies_decide_the_order_whatever_the_positions_say(clerk, fake_provider, run_workflow):
    # Given a workflow listing "pay" first and "read" last, though pay needs approve and approve needs read
    workflow = WorkflowTemplateFactory(slug="listed-backwards")
    for position, (key, code, depends_on) in enumerate(
        [("pay", "payment.send", "approve"), ("approve", "invoice.approve", "read"), ("read", "invoice.read", "")]
    ):
        StepTemplateFactory(
            workflow=workflow,
            key=key,
            capability=CapabilityFactory(code=code),
            depends_on=depends_on,
            position=position,
        )

    # When a run starts
    run = run_workflow(workflow)

    # Then the steps ran read, approve, pay
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"]
    assert run.status == WorkflowRun.Status.SUCCEEDED


def test_each_step_records_when_it_was_routed_started_and_finished(
    invoice_workflow, clerk, fake_provider, run_workflow
):
    # Given the invoice workflow and a clerk who can do every step

    # When a run completes
    run = run_workflow(invoice_workflow)

    # Then every step was routed, started and finished in that order, each after the one it depends on
    # finished, and the run finished with its last step
    read, approve, pay = (steps_of(run)[key] for key in ("read", "approve", "pay"))
    for step in (read, approve, pay):
        assert step.created_at <= step.routed_at <= step.started_at <= step.finished_at
    assert read.finished_at <= approve.routed_at
    assert approve.finished_at <= pay.routed_at
    assert pay.finished_at <= run.finished_at


def test_a_step_whose_dependency_failed_is_cancelled_without_being_routed(
    invoice_workflow, hire, fake_provider, run_workflow
):
    # Given a clerk who can read invoices and pay them, but nobody who may approve them
    hire("clerk", "invoice.read", "payment.send")

    # When a run starts
    run = run_workflow(invoice_workflow)

    # Then approving failed for want of an agent, paying was cancelled before anyone was asked, and the run failed
    steps = steps_of(run)
    assert (steps["approve"].status, steps["approve"].error) == (
        StepRun.Status.FAILED,
        "no active agent holds invoice.approve",
    )
    assert (steps["pay"].status, steps["pay"].error) == (StepRun.Status.CANCELLED, "step approve failed")
    assert (steps["pay"].agent, steps["pay"].decision, steps["pay"].routed_at) == (None, None, None)
    assert run.status == WorkflowRun.Status.FAILED
    assert fake_provider.agents_called == ["clerk"]


def test_a_disabled_workflow_cannot_be_started(invoice_workflow):
    # Given the invoice workflow, switched off
    invoice_workflow.enabled = False
    invoice_workflow.save()

    # When someone starts it, then it is refused and no run exists
    with pytest.raises(WorkflowError, match="The workflow Invoice payment is disabled"):
        start_workflow(invoice_workflow, INVOICE, started_by="user:alice")
    assert not WorkflowRun.objects.exists()


def test_a_workflow_without_steps_cannot_be_started(db):
    # Given a workflow with no steps
    workflow = WorkflowTemplateFactory(name="Empty")

    # When someone starts it, then it is refused and no run exists
    with pytest.raises(WorkflowError, match="The workflow Empty has no steps"):
        start_workflow(workflow, {}, started_by="user:alice")
    assert not WorkflowRun.objects.exists()


def test_a_workflow_whose_steps_depend_on_unknown_steps_cannot_be_started(invoice_workflow):
    # Given a step that depends on steps the workflow does not have
    pay = invoice_workflow.steps.get(key="pay")
    pay.depends_on = "approve, sign, countersign"
    pay.save()

    # When someone starts it, then it is refused, naming the missing steps, and no run exists
    with pytest.raises(WorkflowError, match="Steps depend on steps that do not exist: countersign, sign"):
        start_workflow(invoice_workflow, INVOICE, started_by="user:alice")
    assert not WorkflowRun.objects.exists()


def test_a_workflow_whose_steps_depend_on_each_other_in_a_circle_cannot_be_started(invoice_workflow):
    # Given reading waits for paying, which waits (through approving) for reading
    read = invoice_workflow.steps.get(key="read")
    read.depends_on = "pay"
    read.save()

    # When someone starts it, then it is refused, naming the steps that could never start, and no run exists
    with pytest.raises(WorkflowError, match="Steps wait for each other in a circle: approve, pay, read"):
        start_workflow(invoice_workflow, INVOICE, started_by="user:alice")
    assert not WorkflowRun.objects.exists()


def test_a_succeeded_steps_outcome_is_the_orchestrators_and_its_figures_are_in_the_step_event(
    invoice_workflow, clerk, fake_provider, run_workflow
):
    # Given the invoice workflow and a clerk whose work costs 0.50, is worth 20.00 and satisfies 4 of 5

    # When a run carries out its steps
    run = run_workflow(invoice_workflow)

    # Then each step's outcome names the orchestrator as its reporter
    steps = steps_of(run)
    assert {key: step.decision.outcome.reported_by for key, step in steps.items()} == dict.fromkeys(
        ("read", "approve", "pay"), "system:orchestrator"
    )
    # And each step's succeeded event carries the outcome's figures, with no outcome event of its own
    succeeded = AuditEvent.objects.filter(kind="workflow.step_changed", after__status=StepRun.Status.SUCCEEDED)
    assert [(e.after["cost"], e.after["value"], e.after["csat"]) for e in succeeded] == [("0.50", "20.00", 4)] * 3
    assert not AuditEvent.objects.filter(kind="outcome.reported").exists()
    assert verify_chain().ok
