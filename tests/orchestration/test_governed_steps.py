"""Governed execution: every step asks the decision point first; a hold parks the run until a person decides."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.approvals import decide_approval, escalate_overdue
from governance.models import Approval, Effect, Verdict
from tests.support.workflows import steps_of
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments_need_a_supervisor(make_policy):
    return make_policy(
        name="Payments need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="payment.send",
        approver_role="Supervisor",
        approval_deadline_minutes=60,
        rationale="Money leaves only with a person's yes.",
    )


@pytest.fixture
def parked_run(invoice_workflow, clerk, fake_provider, payments_need_a_supervisor, run_workflow) -> WorkflowRun:
    """An invoice run read and approved, its payment held for a Finance supervisor."""
    return run_workflow(invoice_workflow)


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    """A person decides the request held for the run's payment; the tasks that follow run."""

    def decide(run: WorkflowRun, *, approve: bool, by) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            decide_approval(
                steps_of(run)["pay"].decision.approval.pk,
                approve=approve,
                by=by,
                comment="" if approve else "Not this vendor.",
            )
        run.refresh_from_db()

    return decide


def test_a_denied_step_fails_with_the_policys_explanation_and_fails_the_run(
    invoice_workflow, clerk, fake_provider, make_policy, run_workflow
):
    # Given a policy that denies payments to new vendors
    make_policy(
        name="No payments to new vendors",
        effect=Effect.DENY,
        actions="payment.send",
        rationale="Vendors are vetted before they are paid.",
    )

    # When an invoice run reaches its payment
    run = run_workflow(invoice_workflow)

    # Then paying failed with the policy's explanation, was never attempted, and the run failed
    pay = steps_of(run)["pay"]
    assert (pay.status, pay.decision.verdict) == (StepRun.Status.FAILED, Verdict.DENY)
    assert pay.error == pay.decision.explanation
    assert "Denied by “No payments to new vendors” (v1): Vendors are vetted before they are paid." in pay.error
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve"]
    assert run.status == WorkflowRun.Status.FAILED


def test_a_step_held_for_approval_parks_the_run_with_no_task_pending(
    invoice_workflow, clerk, fake_provider, payments_need_a_supervisor, run_workflow, queued_steps
):
    # Given payments need a supervisor's yes, and every task queued is watched

    # When an invoice run reaches its payment
    run = run_workflow(invoice_workflow)

    # Then the payment awaits approval and so does the run; its one task ran and ended, and nothing more is queued
    steps = steps_of(run)
    assert steps["pay"].status == StepRun.Status.AWAITING_APPROVAL
    assert steps["pay"].decision.approval.status == Approval.Status.PENDING
    assert run.status == WorkflowRun.Status.AWAITING_APPROVAL
    assert queued_steps == [steps["read"].pk, steps["approve"].pk, steps["pay"].pk]
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve"]


def test_approving_the_held_step_resumes_the_run_to_success(parked_run, fake_provider, decide, bob):
    # Given a run parked on a payment held for a Finance supervisor

    # When bob, who supervises Finance, approves it
    decide(parked_run, approve=True, by=bob)

    # Then the payment is made and the run succeeds
    assert steps_of(parked_run)["pay"].status == StepRun.Status.SUCCEEDED
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"]
    assert parked_run.status == WorkflowRun.Status.SUCCEEDED


def test_rejecting_the_held_step_fails_it_and_the_run(parked_run, fake_provider, decide, bob):
    # Given a run parked on a payment held for a Finance supervisor

    # When bob rejects it
    decide(parked_run, approve=False, by=bob)

    # Then the payment fails, unattempted, with the reason, and so does the run
    pay = steps_of(parked_run)["pay"]
    assert (pay.status, pay.error) == (StepRun.Status.FAILED, "a person rejected the request")
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve"]
    assert parked_run.status == WorkflowRun.Status.FAILED


def test_a_held_step_fails_when_its_request_expires_undecided_at_the_top(parked_run, fake_provider):
    # Given a run parked on a payment whose request has gone unanswered past the supervisors' deadline,
    # and so was escalated to the Executives
    approval = steps_of(parked_run)["pay"].decision.approval
    escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))
    approval.refresh_from_db()
    assert approval.approver_role == "Executive"

    # When the Executives' deadline passes too
    escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))

    # Then the request expired, the payment failed unattempted, saying so, and the run failed
    approval.refresh_from_db()
    pay = steps_of(parked_run)["pay"]
    assert approval.status == Approval.Status.EXPIRED
    assert (pay.status, pay.error) == (StepRun.Status.FAILED, "the request expired without a decision")
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve"]
    parked_run.refresh_from_db()
    assert parked_run.status == WorkflowRun.Status.FAILED
    assert parked_run.finished_at <= timezone.now()
