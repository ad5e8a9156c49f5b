"""The admin as people use it: bad input is a form error, each role sees and does only what it may."""

import hashlib
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from governance.models import Decision
from orchestration.models import Agent, AgentKey, Capability, Department, ModelProvider, Status
from tests.factories import DecisionFactory, ModelProviderFactory

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
