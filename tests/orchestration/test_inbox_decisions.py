"""A run parked for a person moves on when the person decides in the approvals inbox (dashboard), as it
does through the API: both call governance.approvals.decide_approval."""

import pytest
from django.urls import reverse

from governance.models import Effect
from tests.support.workflows import steps_of
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def parked(invoice_workflow, clerk, fake_provider, make_policy, run_workflow) -> WorkflowRun:
    make_policy(
        name="Payments need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="payment.send",
        approver_role="Supervisor",
        rationale="Money leaves only with a person's yes.",
    )
    run = run_workflow(invoice_workflow)
    assert steps_of(run)["pay"].status == StepRun.Status.AWAITING_APPROVAL
    return run


def decide_in_the_inbox(client, run: WorkflowRun, form: dict, capture) -> None:
    approval = steps_of(run)["pay"].decision.approval
    with capture(execute=True):
        client.post(reverse("dashboard:approval-decide", args=[approval.pk]), form)
    run.refresh_from_db()


def test_approving_in_the_inbox_resumes_the_parked_run(
    client, bob, parked, fake_provider, django_capture_on_commit_callbacks
):
    client.force_login(bob)

    decide_in_the_inbox(client, parked, {"verdict": "approve"}, django_capture_on_commit_callbacks)

    assert steps_of(parked)["pay"].status == StepRun.Status.SUCCEEDED
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"]
    assert parked.status == WorkflowRun.Status.SUCCEEDED


def test_rejecting_in_the_inbox_fails_the_parked_run(
    client, bob, parked, fake_provider, django_capture_on_commit_callbacks
):
    client.force_login(bob)

    decide_in_the_inbox(
        client, parked, {"verdict": "reject", "comment": "Unknown vendor."}, django_capture_on_commit_callbacks
    )

    pay = steps_of(parked)["pay"]
    assert (pay.status, pay.error) == (StepRun.Status.FAILED, "a person rejected the request")
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve"]
    assert parked.status == WorkflowRun.Status.FAILED
