"""The admin as people use it: bad input is a form error, each role sees and does only what it may."""

import hashlib
import json
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from governance.models import Decision
from orchestration.admin import CapabilityAdmin
from orchestration.models import Agent, AgentKey, Capability, Department, ModelProvider, Status
from tests.factories import (
    CapabilityFactory,
    DecisionFactory,
    ModelProviderFactory,
    StepTemplateFactory,
    WorkflowTemplateFactory,
)
from workflows.models import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate

pytestmark = pytest.mark.django_db

NO_INLINE_ROWS = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def inline_management(prefix: str) -> dict[str, str]:
    return {f"{prefix}-{name}": value for name, value in NO_INLINE_ROWS.items()}


def agent_form(department: Department | None, /, **overrides) -> dict:
    provider = ModelProviderFactory(name="Simulator")
    data = {
        "name": "Ledger Bot",
        "slug": "ledger-bot",
        "department": department.pk if department else "",
        "owner": "",
        "supervisor": "",
        "provider": provider.pk,
        "model_name": "sim-1",
        "risk_tier": "2",
        "monthly_budget": "500.00",
        "status": Status.ACTIVE,
        **inline_management("keys"),
    }
    return {**data, **overrides}


def department_form(**overrides) -> dict:
    data = {
        "name": "Legal",
        "slug": "legal",
        "head": "",
        "monthly_budget": "25000.00",
        "risk_appetite": "40",
        "status": Status.ACTIVE,
        **inline_management("agents"),
    }
    return {**data, **overrides}


def admin_url(model: type, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def changelist_rows(client, model: type) -> list:
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def run_action(client, model: type, action: str, *objects):
    return client.post(
        admin_url(model, "changelist"), {"action": action, "_selected_action": [obj.pk for obj in objects]}
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def decisions(finance_agent, support_agent):
    """One decision in Finance and one in Support."""
    return DecisionFactory(agent=finance_agent), DecisionFactory(agent=support_agent)


# Bad input: a form error on the field, not a 500, and nothing saved.


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"monthly_budget": "-1.00"}, "monthly_budget", id="negative-budget"),
        pytest.param({"slug": "invoice-bot"}, "slug", id="duplicate-slug"),
        pytest.param({"department": ""}, "department", id="no-department"),
    ],
)
def test_bad_agent_input_is_a_form_error_and_saves_nothing(client, carol, finance, finance_agent, overrides, field):
    # Given carol on the agent add form
    client.force_login(carol)
    agents_before = Agent.objects.count()

    # When she submits bad input
    response = client.post(admin_url(Agent, "add"), agent_form(finance, **overrides))

    # Then the form comes back with an error on that field and no agent is added
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Agent.objects.count() == agents_before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"monthly_budget": "-0.01"}, "monthly_budget", id="negative-budget"),
        pytest.param({"risk_appetite": "101"}, "risk_appetite", id="risk-appetite-over-100"),
    ],
)
def test_bad_department_input_is_a_form_error_and_saves_nothing(admin_client, overrides, field):
    # When a superuser submits a department with bad input
    response = admin_client.post(admin_url(Department, "add"), department_form(**overrides))

    # Then the form comes back with an error on that field and no department is added
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Department.objects.filter(slug="legal").exists()


@pytest.mark.parametrize("kind", [ModelProvider.Kind.HTTP_WEBHOOK, ModelProvider.Kind.OPENAI_COMPATIBLE])
def test_a_provider_that_is_not_simulated_needs_an_endpoint(client, carol, kind):
    # Given carol on the provider add form
    client.force_login(carol)

    # When she adds a real provider without an endpoint
    response = client.post(
        admin_url(ModelProvider, "add"),
        {"name": "Vendor", "kind": kind, "endpoint": "", "region": "eu", "cost_per_unit": "0.01"},
    )

    # Then the endpoint is flagged and nothing is saved
    assert response.status_code == 200
    assert "endpoint" in response.context["adminform"].form.errors
    assert not ModelProvider.objects.filter(name="Vendor").exists()


@pytest.mark.parametrize("code", ["Invoice Approve", "invoice", "invoice.", "1invoice.approve", "invoice..approve"])
def test_an_invalid_capability_code_is_a_form_error(client, carol, code):
    # Given carol on the capability add form
    client.force_login(carol)

    # When she submits a code that is not dotted lower-case words
    response = client.post(admin_url(Capability, "add"), {"code": code, "description": ""})

    # Then the code is flagged and nothing is saved
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert not Capability.objects.exists()


# Scoping: a Supervisor sees their own department only.


def test_a_supervisor_sees_only_their_departments_agents(client, bob, finance_agent, support_agent):
    client.force_login(bob)

    assert changelist_rows(client, Agent) == [finance_agent]


def test_a_supervisor_is_turned_away_from_another_departments_agent(client, bob, support_agent):
    # Given bob, who supervises Finance only
    client.force_login(bob)

    # When he opens the Support agent's page
    response = client.get(admin_url(Agent, "change", support_agent.pk))

    # Then the admin treats it as missing and sends him to the index
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert messages_of(response) == [f"agent with ID “{support_agent.pk}” doesn’t exist. Perhaps it was deleted?"]


def test_a_supervisor_cannot_change_another_departments_agent(client, bob, finance, support_agent):
    # Given bob, who supervises Finance only
    client.force_login(bob)

    # When he posts a change to the Support agent
    response = client.post(
        admin_url(Agent, "change", support_agent.pk),
        agent_form(finance, name="Hijacked", slug=support_agent.slug, monthly_budget="0.00"),
    )

    # Then he is refused and the agent is unchanged
    assert response.status_code == 403
    support_agent.refresh_from_db()
    assert (support_agent.name, support_agent.department.slug) == ("Reply Bot", "support")
    assert support_agent.monthly_budget == Decimal("10000.00")


def test_a_supervisor_sees_only_their_departments_decisions(client, bob, decisions):
    # Given one decision in Finance and one in Support
    finance_decision, _ = decisions
    client.force_login(bob)

    # When bob lists decisions
    rows = changelist_rows(client, Decision)

    # Then only the Finance one is there
    assert rows == [finance_decision]


def test_a_supervisor_cannot_add_agents(client, bob):
    client.force_login(bob)

    response = client.get(admin_url(Agent, "add"))

    assert response.status_code == 403


def test_the_agent_list_does_not_name_another_department_to_a_supervisor(client, bob, finance_agent, support_agent):
    # Given bob, who supervises Finance only
    client.force_login(bob)

    # When he opens the agent list, filters included
    response = client.get(admin_url(Agent, "changelist"))

    # Then Support is named nowhere on the page
    assert response.status_code == 200
    assert "Customer Support" not in response.content.decode()


# An Auditor sees everything and changes nothing.


def test_an_auditor_sees_every_departments_agents(client, dave, finance_agent, support_agent):
    client.force_login(dave)

    assert changelist_rows(client, Agent) == [finance_agent, support_agent]


def test_an_auditor_gets_a_read_only_agent_page(client, dave, finance_agent):
    # Given dave, an Auditor
    client.force_login(dave)

    # When he opens an agent
    response = client.get(admin_url(Agent, "change", finance_agent.pk))

    # Then he sees it without a way to save
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content


def test_an_auditor_cannot_change_an_agent(client, dave, finance, finance_agent):
    # Given dave, an Auditor
    client.force_login(dave)

    # When he posts a change anyway
    response = client.post(
        admin_url(Agent, "change", finance_agent.pk), agent_form(finance, name="Renamed", slug="invoice-bot")
    )

    # Then he is refused and the agent keeps its name
    assert response.status_code == 403
    finance_agent.refresh_from_db()
    assert finance_agent.name == "Invoice Bot"


# A Policy Admin manages the registry.


def test_a_policy_admin_adds_an_agent(client, carol, finance):
    # Given carol on the agent add form
    client.force_login(carol)

    # When she submits a valid agent
    response = client.post(admin_url(Agent, "add"), agent_form(finance))

    # Then it is saved in Finance and she returns to the list
    assert response.status_code == 302
    assert response.url == admin_url(Agent, "changelist")
    agent = Agent.objects.get(slug="ledger-bot")
    assert (agent.name, agent.department, agent.monthly_budget) == ("Ledger Bot", finance, Decimal("500.00"))


# Actions.


def test_a_supervisor_pauses_their_agent(client, bob, finance_agent):
    # Given bob and an active Finance agent
    client.force_login(bob)

    # When he runs "pause" on it
    response = run_action(client, Agent, "pause", finance_agent)

    # Then it is paused
    assert response.status_code == 302
    finance_agent.refresh_from_db()
    assert finance_agent.status == Status.PAUSED


def test_a_supervisor_cannot_pause_another_departments_agent(client, bob, finance_agent, support_agent):
    # Given bob, who supervises Finance only
    client.force_login(bob)

    # When he runs "pause" with the Support agent's id
    run_action(client, Agent, "pause", support_agent)

    # Then the Support agent is still active
    support_agent.refresh_from_db()
    assert support_agent.status == Status.ACTIVE


def test_the_kill_action_is_not_offered_to_a_supervisor(client, bob, finance_agent):
    # Given bob on the agent list
    client.force_login(bob)

    # When the list renders
    response = client.get(admin_url(Agent, "changelist"))

    # Then he may pause and resume, not kill
    actions = {name for name, _ in response.context["action_form"].fields["action"].choices if name}
    assert actions == {"pause", "resume"}


def test_a_supervisor_posting_kill_anyway_kills_nothing(client, bob, finance_agent):
    # Given bob on the agent list
    client.force_login(bob)

    # When he posts the kill action by hand
    run_action(client, Agent, "kill", finance_agent)

    # Then the agent is still active
    finance_agent.refresh_from_db()
    assert finance_agent.status == Status.ACTIVE


def test_a_policy_admin_rotates_a_key_and_sees_it_once(client, carol, finance_agent):
    # Given carol on the agent list
    client.force_login(carol)

    # When she runs "rotate_key" on the Finance agent
    response = run_action(client, Agent, "rotate_key", finance_agent)

    # Then the message shows a key whose digest is the one stored for the agent
    (message,) = messages_of(response)
    raw_key = re.search(r"rgt_[A-Za-z0-9_-]+", message).group()
    key = AgentKey.objects.get(agent=finance_agent, revoked_at__isnull=True)
    assert key.digest == hashlib.sha256(raw_key.encode()).hexdigest()


# Decisions are written only by the governance service.

EVERYONE = ["alice", "bob", "carol", "dave", "erin", "admin_user"]


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_adds_a_decision_in_the_admin(request, client, person):
    client.force_login(request.getfixturevalue(person))

    response = client.get(admin_url(Decision, "add"))

    assert response.status_code == 403


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_changes_a_decision_in_the_admin(request, client, decisions, person):
    # Given a Finance decision and someone signed in
    finance_decision, _ = decisions
    client.force_login(request.getfixturevalue(person))

    # When they post a change to it
    response = client.post(admin_url(Decision, "change", finance_decision.pk), {"verdict": "deny", "risk_score": "0"})

    # Then they are refused and the verdict stands
    assert response.status_code == 403
    finance_decision.refresh_from_db()
    assert finance_decision.verdict == "allow"


@pytest.mark.parametrize("person", EVERYONE)
def test_nobody_deletes_a_decision_in_the_admin(request, client, decisions, person):
    # Given a Finance decision and someone signed in
    finance_decision, _ = decisions
    client.force_login(request.getfixturevalue(person))

    # When they confirm its deletion
    response = client.post(admin_url(Decision, "delete", finance_decision.pk), {"post": "yes"})

    # Then they are refused and it is still there
    assert response.status_code == 403
    assert Decision.objects.filter(pk=finance_decision.pk).exists()


def test_an_executive_lists_every_decision(client, alice, decisions):
    client.force_login(alice)

    assert set(changelist_rows(client, Decision)) == set(decisions)


# Registry edits in the admin go through the registry's services (orchestration.entries): audited as the API's are.


def audit_events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("seq"))


def workflow_form(capability: Capability, steps: list[dict], *, existing: list[StepTemplate] = (), **overrides) -> dict:
    """The workflow change form with one inline row per step; existing steps first, by their ids."""
    data = {
        "name": "Refund",
        "slug": "refund",
        "description": "",
        "sample_input": "{}",
        "enabled": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(len(existing)),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        **overrides,
    }
    for index, step in enumerate(steps):
        row = {
            "position": index + 1,
            "capability": capability.pk,
            "action": capability.code,
            "amount_field": "",
            "data_classes": "[]",
            "depends_on": "",
            **step,
        }
        if index < len(existing):
            row["id"] = existing[index].pk
        data.update({f"steps-{index}-{name}": value for name, value in row.items()})
    return data


def test_adding_a_capability_in_the_admin_is_audited(client, carol):
    # Given carol on the capability add form
    client.force_login(carol)

    # When she adds one
    response = client.post(admin_url(Capability, "add"), {"code": "refund.issue", "description": "Refunds"})

    # Then it is saved and the audit log says she created it, with what
    assert response.status_code == 302
    (event,) = audit_events("capability.created")
    assert (event.actor, event.subject_id, event.after) == (
        carol,
        str(Capability.objects.get(code="refund.issue").pk),
        {"code": "refund.issue", "description": "Refunds"},
    )


def test_changing_a_provider_in_the_admin_is_audited_without_its_secret(client, carol):
    # Given a provider, and carol on its change form
    provider = ModelProviderFactory(name="Spare AI", region="eu")
    client.force_login(carol)

    # When she moves it to another region
    response = client.post(
        admin_url(ModelProvider, "change", provider.pk),
        {
            "name": "Spare AI",
            "kind": "simulated",
            "endpoint": "",
            "region": "us",
            "cost_per_unit": "0.002",
            "signing_secret": provider.signing_secret,
        },
    )

    # Then the change is audited, before and after, and the secret is nowhere in it
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    (event,) = audit_events("modelprovider.changed")
    assert (event.actor, event.before["region"], event.after["region"]) == (carol, "eu", "us")
    assert provider.signing_secret not in json.dumps([event.before, event.after])


def test_deleting_a_capability_in_the_admin_is_audited(client, carol):
    # Given a capability nothing uses
    capability = CapabilityFactory(code="spare.work")
    client.force_login(carol)

    # When carol confirms its deletion
    response = client.post(admin_url(Capability, "delete", capability.pk), {"post": "yes"})

    # Then it is gone, and the audit log keeps what it was
    assert response.status_code == 302
    assert not Capability.objects.filter(pk=capability.pk).exists()
    (event,) = audit_events("capability.deleted")
    assert (event.actor, event.before["code"]) == (carol, "spare.work")


def test_deleting_capabilities_from_the_list_is_audited_for_each(client, carol):
    # Given two capabilities nothing uses
    spare = [CapabilityFactory(code="spare.one"), CapabilityFactory(code="spare.two")]
    client.force_login(carol)

    # When carol deletes both with the list's action, and confirms
    response = client.post(
        admin_url(Capability, "changelist"),
        {"action": "delete_selected", "_selected_action": [c.pk for c in spare], "post": "yes"},
    )

    # Then both are gone, each with its audit event
    assert response.status_code == 302
    assert not Capability.objects.exists()
    assert sorted(event.before["code"] for event in audit_events("capability.deleted")) == ["spare.one", "spare.two"]


def test_a_capability_agents_hold_is_not_deleted_in_the_admin(client, carol, finance_agent):
    # Given a capability the Finance agent holds
    capability = CapabilityFactory(code="invoice.approve")
    finance_agent.capabilities.add(capability)
    client.force_login(carol)

    # When carol opens its delete page and confirms anyway
    page = client.get(admin_url(Capability, "delete", capability.pk))
    response = client.post(admin_url(Capability, "delete", capability.pk), {"post": "yes"})

    # Then both pages say what uses it, and the agent still holds it
    for shown in (page, response):
        assert shown.status_code == 200
        assert "1 agents hold it" in shown.content.decode()
    assert list(finance_agent.capabilities.all()) == [capability]
    assert not audit_events("capability.deleted")


def test_a_capability_that_came_into_use_after_its_delete_page_is_a_message_not_an_error(
    client, carol, finance_agent, monkeypatch
):
    # Given a capability that looked unused when its delete page was shown, and is held by an agent now
    capability = CapabilityFactory(code="invoice.approve")
    finance_agent.capabilities.add(capability)
    monkeypatch.setattr(CapabilityAdmin, "get_deleted_objects", admin.ModelAdmin.get_deleted_objects)
    client.force_login(carol)

    # When carol confirms the deletion
    response = client.post(admin_url(Capability, "delete", capability.pk), {"post": "yes"}, follow=True)

    # Then she is told what uses it, and it stays
    assert response.status_code == 200
    assert any("1 agents hold it" in message for message in messages_of(response))
    assert Capability.objects.filter(pk=capability.pk).exists()


def test_adding_a_workflow_with_steps_in_the_admin_is_one_audited_change(client, carol):
    # Given carol on the workflow add form, with two steps, the second after the first
    capability = CapabilityFactory(code="refund.issue")
    client.force_login(carol)
    steps = [{"key": "check"}, {"key": "pay", "depends_on": "check"}]

    # When she saves it
    response = client.post(admin_url(WorkflowTemplate, "add"), workflow_form(capability, steps))

    # Then the workflow and its steps are saved, and one audit event records both
    assert response.status_code == 302, response.context and response.context["inline_admin_formsets"][0].formset.errors
    workflow = WorkflowTemplate.objects.get(slug="refund")
    assert [(s.key, s.dependencies) for s in workflow.steps.order_by("position")] == [("check", []), ("pay", ["check"])]
    (event,) = audit_events("workflowtemplate.created")
    assert (event.actor, [s["key"] for s in event.after["steps"]]) == (carol, ["check", "pay"])


@pytest.mark.parametrize(
    "steps",
    [
        [{"key": "check", "depends_on": "pay"}, {"key": "pay", "depends_on": "check"}],
        [{"key": "check", "depends_on": "audit"}],
    ],
    ids=["cycle", "unknown-step"],
)
def test_steps_that_cannot_run_are_a_form_error_in_the_admin(client, carol, steps):
    # Given carol on the workflow add form
    capability = CapabilityFactory(code="refund.issue")
    client.force_login(carol)

    # When she gives steps that could never all run
    response = client.post(admin_url(WorkflowTemplate, "add"), workflow_form(capability, steps))

    # Then the steps are flagged on the page, and nothing is saved or audited
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert not WorkflowTemplate.objects.filter(slug="refund").exists()
    assert not audit_events("workflowtemplate.created")


def test_a_step_with_runs_cannot_be_renamed_away_in_the_admin(client, carol):
    # Given a workflow whose "check" step has run
    capability = CapabilityFactory(code="refund.issue")
    workflow = WorkflowTemplateFactory(name="Refund", slug="refund")
    check = StepTemplateFactory(workflow=workflow, key="check", capability=capability, position=1)
    StepRun.objects.create(run=WorkflowRun.objects.create(workflow=workflow, started_by="test"), template=check)
    client.force_login(carol)

    # When carol changes that step's key (steps are known by their keys: the step with runs would go)
    form = workflow_form(capability, [{"key": "verify"}], existing=[check])
    response = client.post(admin_url(WorkflowTemplate, "change", workflow.pk), form)

    # Then the page says why, and the step stays as it was
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert errors == ["Steps check have runs on record and cannot be removed; disable the workflow instead."]
    assert [step.key for step in workflow.steps.all()] == ["check"]
    assert not audit_events("workflowtemplate.changed")


def test_changing_a_workflows_steps_in_the_admin_is_audited_before_and_after(client, carol):
    # Given a workflow with one step
    capability = CapabilityFactory(code="refund.issue")
    workflow = WorkflowTemplateFactory(name="Refund", slug="refund")
    check = StepTemplateFactory(workflow=workflow, key="check", capability=capability, position=1)
    client.force_login(carol)

    # When carol adds a second step after it
    form = workflow_form(capability, [{"key": "check"}, {"key": "pay", "depends_on": "check"}], existing=[check])
    response = client.post(admin_url(WorkflowTemplate, "change", workflow.pk), form)

    # Then the change is audited with the steps before and after
    assert response.status_code == 302
    (event,) = audit_events("workflowtemplate.changed")
    keys = ([s["key"] for s in event.before["steps"]], [s["key"] for s in event.after["steps"]])
    assert (event.actor, keys) == (carol, (["check"], ["check", "pay"]))
