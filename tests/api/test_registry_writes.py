"""Writing capabilities, model providers and workflow templates through the API: validated, audited,
and never deleting what something depends on. Who may write is in test_authorization_matrix.py."""

import pytest

from audit.chain import verify_chain
from audit.models import AuditEvent
from orchestration.models import Capability, ModelProvider
from tests.factories import CapabilityFactory, ModelProviderFactory, StepTemplateFactory
from tests.support.api import token_client
from workflows.models import StepRun, WorkflowRun, WorkflowTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(carol):
    return token_client(carol)


@pytest.fixture
def capabilities(db) -> dict[str, Capability]:
    return {code: CapabilityFactory(code=code) for code in ("refund.check", "refund.issue")}


def refund(capabilities, **changes) -> dict:
    """A two-step workflow: check, then issue (the second named by its capability's id)."""
    return {
        "name": "Refund",
        "slug": "refund",
        "sample_input": {"amount": 40},
        "steps": [
            {"key": "check", "capability": "refund.check", "action": "refund.check"},
            {
                "key": "issue",
                "capability": capabilities["refund.issue"].pk,
                "action": "refund.issue",
                "amount_field": "amount",
                "data_classes": ["pii"],
                "dependencies": ["check"],
            },
        ],
        **changes,
    }


def test_a_capability_created_is_audited_as_the_person_who_created_it(admin, carol):
    response = admin.post("/api/v1/capabilities", {"code": "refund.issue", "description": "Refunds"}, format="json")

    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(kind="capability.created")
    assert (event.actor, event.subject_id, event.after) == (
        carol,
        str(response.json()["id"]),
        {"code": "refund.issue", "description": "Refunds"},
    )


def test_a_badly_named_capability_is_a_field_error(admin):
    response = admin.post("/api/v1/capabilities", {"code": "Refund Issue"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["fields"]
    assert not Capability.objects.exists()


def test_a_provider_changed_is_audited_before_and_after_without_its_secret(admin):
    # Given a provider
    provider = ModelProviderFactory(name="Acme AI", region="eu-west")

    # When its cost changes
    response = admin.patch(f"/api/v1/providers/{provider.pk}", {"cost_per_unit": "0.5"}, format="json")

    # Then the change is audited with both sides, and the signing secret is on neither
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(kind="modelprovider.changed")
    assert (event.before["cost_per_unit"], event.after["cost_per_unit"]) == ("0.002000", "0.500000")
    assert "signing_secret" not in event.before | event.after
    assert verify_chain().ok


def test_a_provider_that_calls_out_needs_an_endpoint(admin):
    response = admin.post("/api/v1/providers", {"name": "Acme AI", "kind": "http_webhook"}, format="json")

    assert response.status_code == 400
    assert "endpoint" in response.json()["fields"]
    assert not ModelProvider.objects.exists()


@pytest.mark.parametrize("path", ["capabilities", "providers"])
def test_deleting_what_agents_use_is_a_conflict_saying_what_uses_it(admin, finance_agent, path):
    # Given the Finance agent's provider and a capability it holds
    capability = CapabilityFactory(code="invoice.approve")
    finance_agent.capabilities.add(capability)
    entry = capability if path == "capabilities" else finance_agent.provider

    # When the Policy Admin deletes it
    response = admin.delete(f"/api/v1/{path}/{entry.pk}")

    # Then it is refused with what depends on it, and nothing is deleted or audited
    assert response.status_code == 409
    assert "1 agents" in response.json()["detail"]
    assert type(entry).objects.filter(pk=entry.pk).exists()
    assert not AuditEvent.objects.filter(kind__endswith=".deleted").exists()


def test_a_capability_a_workflow_step_needs_cannot_be_deleted(admin):
    step = StepTemplateFactory(capability=CapabilityFactory(code="refund.issue"))

    response = admin.delete(f"/api/v1/capabilities/{step.capability_id}")

    assert response.status_code == 409
    assert "1 workflow steps need it" in response.json()["detail"]


def test_an_unused_capability_is_deleted_and_audited(admin, capabilities):
    capability = capabilities["refund.check"]

    response = admin.delete(f"/api/v1/capabilities/{capability.pk}")

    assert response.status_code == 204
    assert not Capability.objects.filter(pk=capability.pk).exists()
    event = AuditEvent.objects.get(kind="capability.deleted")
    assert (event.subject_id, event.before["code"]) == (str(capability.pk), "refund.check")


def test_a_workflow_is_written_with_its_steps_in_order(admin, capabilities):
    # When the Policy Admin creates a workflow naming one capability by code and one by id
    response = admin.post("/api/v1/workflows", refund(capabilities), format="json")

    # Then the template and its steps are stored as given, in order, and shown as they are read
    assert response.status_code == 201, response.content
    steps = WorkflowTemplate.objects.get(slug="refund").steps.order_by("position")
    assert [(s.key, s.capability.code, s.dependencies, s.amount_field) for s in steps] == [
        ("check", "refund.check", [], ""),
        ("issue", "refund.issue", ["check"], "amount"),
    ]
    assert [s["capability"] for s in response.json()["steps"]] == ["refund.check", "refund.issue"]
    # And the audit event holds the steps too
    event = AuditEvent.objects.get(kind="workflowtemplate.created")
    assert [s["key"] for s in event.after["steps"]] == ["check", "issue"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"key": "a", "dependencies": ["b"]}], "do not exist: b"),
        ([{"key": "a", "dependencies": ["b"]}, {"key": "b", "dependencies": ["a"]}], "in a circle: a, b"),
        ([{"key": "a", "dependencies": ["a"]}], "in a circle: a"),
        ([{"key": "a"}, {"key": "a"}], "repeated: a"),
    ],
    ids=["unknown-dependency", "circle", "self", "duplicate-key"],
)
def test_steps_that_could_not_all_run_are_a_field_error(admin, capabilities, steps, message):
    # Given steps that name a dependency that does not exist, wait for each other, or share a key
    body = refund(capabilities, steps=[{"capability": "refund.check", "action": "refund.check", **s} for s in steps])

    # When the Policy Admin writes them
    response = admin.post("/api/v1/workflows", body, format="json")

    # Then they are refused on the steps field, saying why, and nothing is stored
    assert response.status_code == 400
    assert message in " ".join(response.json()["fields"]["steps"])
    assert not WorkflowTemplate.objects.exists()


def test_a_step_naming_an_unknown_capability_is_a_field_error(admin, capabilities):
    body = refund(capabilities)
    body["steps"][0]["capability"] = "refund.unknown"

    response = admin.post("/api/v1/workflows", body, format="json")

    assert response.status_code == 400
    assert "refund.unknown" in response.json()["fields"]["steps"]["0"]["capability"][0]


def test_rewriting_a_workflow_keeps_steps_by_key_and_removes_those_left_out(admin, capabilities):
    # Given the refund workflow
    admin.post("/api/v1/workflows", refund(capabilities), format="json")
    check = WorkflowTemplate.objects.get(slug="refund").steps.get(key="check")

    # When it is rewritten with "check" changed and "issue" left out
    steps = [{"key": "check", "capability": "refund.check", "action": "refund.check", "data_classes": ["pii"]}]
    response = admin.put("/api/v1/workflows/refund", refund(capabilities, steps=steps), format="json")

    # Then "check" is the same row, changed, "issue" is gone, and the change is audited with both sides
    assert response.status_code == 200, response.content
    assert [(s.pk, s.key, s.data_classes) for s in WorkflowTemplate.objects.get(slug="refund").steps.all()] == [
        (check.pk, "check", ["pii"])
    ]
    event = AuditEvent.objects.get(kind="workflowtemplate.changed")
    assert ([s["key"] for s in event.before["steps"]], [s["key"] for s in event.after["steps"]]) == (
        ["check", "issue"],
        ["check"],
    )


def test_a_step_with_runs_on_record_cannot_be_removed(admin, capabilities):
    # Given the refund workflow with a run of its "issue" step
    admin.post("/api/v1/workflows", refund(capabilities), format="json")
    workflow = WorkflowTemplate.objects.get(slug="refund")
    run = WorkflowRun.objects.create(workflow=workflow, started_by="test")
    StepRun.objects.create(run=run, template=workflow.steps.get(key="issue"))

    # When a rewrite leaves "issue" out
    steps = [{"key": "check", "capability": "refund.check", "action": "refund.check"}]
    response = admin.put("/api/v1/workflows/refund", refund(capabilities, steps=steps), format="json")

    # Then it is a conflict naming the step, and the workflow is as it was
    assert response.status_code == 409
    assert "issue" in response.json()["detail"]
    assert sorted(workflow.steps.values_list("key", flat=True)) == ["check", "issue"]


def test_a_workflow_with_runs_is_not_deleted_but_may_be_disabled(admin, capabilities):
    admin.post("/api/v1/workflows", refund(capabilities), format="json")
    WorkflowRun.objects.create(workflow=WorkflowTemplate.objects.get(slug="refund"), started_by="test")

    deleted = admin.delete("/api/v1/workflows/refund")
    disabled = admin.patch("/api/v1/workflows/refund", {"enabled": False}, format="json")

    assert deleted.status_code == 409
    assert "disable it instead" in deleted.json()["detail"]
    assert disabled.status_code == 200
    assert WorkflowTemplate.objects.get(slug="refund").enabled is False


def test_an_unused_workflow_is_deleted_with_its_steps_and_audited(admin, capabilities):
    admin.post("/api/v1/workflows", refund(capabilities), format="json")

    response = admin.delete("/api/v1/workflows/refund")

    assert response.status_code == 204
    assert not WorkflowTemplate.objects.exists()
    assert AuditEvent.objects.filter(kind="workflowtemplate.deleted").count() == 1
    assert verify_chain().ok


def test_steps_patched_in_are_given_whole(admin, capabilities):
    admin.post("/api/v1/workflows", refund(capabilities), format="json")

    response = admin.patch("/api/v1/workflows/refund", {"steps": [{"key": "check"}]}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]["steps"]["0"]) == {"capability", "action"}
    assert WorkflowTemplate.objects.get(slug="refund").steps.count() == 2
