"""Department scope on every list, object and action: bob supervises Finance only."""

import pytest

from governance.models import Approval
from integrations import webhooks
from integrations.models import WebhookSubscription
from orchestration.models import Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/v1/departments", "/api/v1/agents", "/api/v1/decisions", "/api/v1/approvals"],
)
def test_a_supervisor_lists_only_their_departments_things(client_for, world, finance, path):
    # When bob lists
    body = client_for("bob").get(path).json()

    # Then everything listed is Finance's
    departments = {row["id"] if path.endswith("departments") else row["department"] for row in body["results"]}
    assert departments == {finance.pk}


def test_an_executive_lists_every_departments_decisions(client_for, world):
    body = client_for("alice").get("/api/v1/decisions").json()

    assert {row["id"] for row in body["results"]} == {world.decision.pk, world.support_decision.pk}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/decisions/{support_decision}", "/api/v1/agents/{support_agent}"],
)
def test_another_departments_object_is_not_found_for_a_supervisor(client_for, world, path):
    # When bob asks for a Support object by its id
    response = client_for("bob").get(
        path.format(support_decision=world.support_decision.pk, support_agent=world.support_agent.pk)
    )

    # Then it does not exist for him
    assert response.status_code == 404


def test_a_supervisor_cannot_pause_another_departments_agent(client_for, world):
    response = client_for("bob").post(
        f"/api/v1/agents/{world.support_agent.pk}/status", {"status": "paused", "reason": "Looping"}
    )

    assert response.status_code == 404
    world.support_agent.refresh_from_db()
    assert world.support_agent.status == Status.ACTIVE


def test_a_supervisor_pauses_their_own_departments_agent(client_for, world):
    response = client_for("bob").post(
        f"/api/v1/agents/{world.finance_agent.pk}/status", {"status": "paused", "reason": "Looping"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == Status.PAUSED
    world.finance_agent.refresh_from_db()
    assert world.finance_agent.status == Status.PAUSED


def test_a_supervisor_reads_only_their_departments_audit_events(client_for, world, finance, support, bob):
    # Given a status change in each department (each writes an audit event)
    from orchestration.kill_switch import change_agent_status

    change_agent_status(world.finance_agent, Status.PAUSED)
    change_agent_status(world.support_agent, Status.PAUSED)

    # When bob reads the audit log
    body = client_for("bob").get("/api/v1/audit-events").json()

    # Then he sees Finance's event and not Support's
    assert {row["department"] for row in body["results"]} == {finance.pk}


def test_an_approval_elsewhere_cannot_be_decided_by_a_supervisor(client_for, world, support):
    # Given a pending approval in Support
    from tests.factories import DecisionFactory

    approval = Approval.objects.create(
        decision=DecisionFactory(agent=world.support_agent),
        department=support,
        approver_role="Supervisor",
        deadline=world.approval.deadline,
    )

    # When bob tries to approve it
    response = client_for("bob").post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json")

    # Then it does not exist for him, and it stays pending
    assert response.status_code == 404
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING


def test_a_supervisor_sees_only_runs_their_agents_work_on(client_for, world, support_agent):
    # Given a second run whose step is worked by a Support agent
    from workflows.models import StepRun, WorkflowRun

    other = WorkflowRun.objects.create(workflow=world.workflow, started_by="test")
    StepRun.objects.create(run=other, template=world.workflow.steps.get(), agent=support_agent)

    # When bob lists runs
    body = client_for("bob").get("/api/v1/workflow-runs").json()

    # Then only the Finance run is listed
    assert [row["id"] for row in body["results"]] == [world.run.pk]


HOOK = "https://hooks.example.com/regent"


def test_a_supervisor_subscribes_to_their_departments_events(client_for, world, finance):
    response = client_for("bob").post(
        "/api/v1/webhooks", {"url": HOOK, "event_types": ["*"], "departments": [finance.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["departments"] == [finance.pk]


@pytest.mark.parametrize("departments", [["support"], ["finance", "support"], []], ids=["other", "mixed", "all"])
def test_a_supervisor_cannot_subscribe_beyond_their_departments(client_for, world, finance, support, departments):
    # Given bob, Supervisor of Finance only
    ids = [{"finance": finance.pk, "support": support.pk}[name] for name in departments]

    # When he subscribes to Support's events, or to the whole organisation's
    response = client_for("bob").post(
        "/api/v1/webhooks", {"url": HOOK, "event_types": ["*"], "departments": ids}, format="json"
    )

    # Then he is told why, on the departments field, and nothing is subscribed
    assert response.status_code == 400
    assert response.json()["fields"]["departments"]
    assert not WebhookSubscription.objects.exists()


def test_a_supervisor_sees_and_removes_only_subscriptions_within_their_departments(
    client_for, world, finance, support, bob, carol
):
    # Given subscriptions to Finance, to Support, to both, and to the whole organisation
    mine = webhooks.subscribe(HOOK, ["*"], by=bob, departments=[finance])
    others = [
        webhooks.subscribe(HOOK, ["*"], by=carol, departments=[support]),
        webhooks.subscribe(HOOK, ["*"], by=carol, departments=[finance, support]),
        webhooks.subscribe(HOOK, ["*"], by=carol),
    ]
    bobs, carols = client_for("bob"), client_for("carol")

    # When bob lists them and asks for each of the others
    listed = [row["id"] for row in bobs.get("/api/v1/webhooks").json()["results"]]
    asked = {bobs.get(f"/api/v1/webhooks/{s.pk}").status_code for s in others}
    removed = {bobs.delete(f"/api/v1/webhooks/{s.pk}").status_code for s in others}

    # Then he sees only his Finance subscription; the others do not exist for him and stay
    assert listed == [mine.pk]
    assert asked == removed == {404}
    assert WebhookSubscription.objects.count() == 4
    # And the Policy Admin sees all four
    assert len(carols.get("/api/v1/webhooks").json()["results"]) == 4
