"""Orchestration in the admin: strategies are set through the service, runs are started and explained there."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from workflows.models import Strategy, WorkflowRun
from workflows.strategy import set_strategy

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_strategy_added_in_the_admin_becomes_the_active_one_as_the_executives_change(client, alice):
    # Given the organisation's first strategy, and alice on the strategy form
    first = set_strategy(cost=25, risk=25, customer_satisfaction=25, resilience=25, by=alice)
    client.force_login(alice)

    # When she adds one that puts risk first
    response = client.post(
        reverse("admin:workflows_strategy_add"),
        {"cost": "10", "risk": "70", "customer_satisfaction": "10", "resilience": "10", "note": "Audit season"},
    )

    # Then it is the active strategy, the first is kept inactive, and the change is audited as hers
    assert response.status_code == 302
    active = Strategy.objects.get(is_active=True)
    assert (active.risk, active.note, active.created_by) == (70, "Audit season", alice)
    assert Strategy.objects.get(pk=first.pk).is_active is False
    assert AuditEvent.objects.filter(kind="strategy.changed").last().actor == alice


def test_a_run_started_from_the_admin_uses_the_workflows_sample_input(
    client, carol, invoice_workflow, clerk, fake_provider, django_capture_on_commit_callbacks
):
    # Given carol, a Policy Admin, on the workflow list
    client.force_login(carol)

    # When she starts a run of the invoice workflow
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:workflows_workflowtemplate_changelist"),
            {"action": "start_run", "_selected_action": [invoice_workflow.pk]},
        )

    # Then a run of the sample invoice was started as hers, and carried out
    run = WorkflowRun.objects.get()
    assert (run.input, run.started_by, run.status) == (
        invoice_workflow.sample_input,
        "user:carol",
        WorkflowRun.Status.SUCCEEDED,
    )
    assert messages_of(response) == [f"Started {run}."]


def test_starting_a_disabled_workflow_from_the_admin_says_why_it_cannot(client, carol, invoice_workflow):
    # Given carol on the workflow list, and the invoice workflow switched off
    invoice_workflow.enabled = False
    invoice_workflow.save()
    client.force_login(carol)

    # When she tries to start a run of it
    response = client.post(
        reverse("admin:workflows_workflowtemplate_changelist"),
        {"action": "start_run", "_selected_action": [invoice_workflow.pk]},
    )

    # Then she is told why, and no run is started
    assert response.status_code == 302
    assert messages_of(response) == ["The workflow Invoice payment is disabled."]
    assert not WorkflowRun.objects.exists()


def test_a_runs_page_shows_why_each_step_went_to_its_agent(
    client, dave, reply_workflow, hire, fake_provider, run_workflow
):
    # Given a ticket answered by the cheaper of two repliers, and dave, an Auditor
    hire("cheaper-bot", "ticket.reply", cost="0.001")
    hire("dearer-bot", "ticket.reply", cost="0.009")
    run = run_workflow(reply_workflow, {})
    client.force_login(dave)

    # When he opens the run
    response = client.get(reverse("admin:workflows_workflowrun_change", args=[run.pk]))

    # Then the step shows both candidates with their totals, the chosen one first
    assert response.status_code == 200
    assert "cheaper-bot 0.70 · dearer-bot 0.45" in response.content.decode()
