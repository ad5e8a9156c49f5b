"""POST /api/v1/agents/<id>/status: the same change as the agent page's controls, with the same mandatory
reason, recorded in the audit chain. alice is an Executive, bob supervises Finance, dave is an Auditor."""

import pytest

from audit.models import AuditEvent
from orchestration.models import Agent, Status

pytestmark = pytest.mark.django_db


def status_url(agent: Agent) -> str:
    return f"/api/v1/agents/{agent.pk}/status"


@pytest.mark.parametrize("body", [{"status": "paused"}, {"status": "paused", "reason": "  "}])
def test_a_change_without_a_reason_is_a_400_naming_the_field(client_for, world, body):
    response = client_for("alice").post(status_url(world.finance_agent), body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["reason"] == ["Say why: the reason is kept in the audit log with your name."]
    assert Agent.objects.get(pk=world.finance_agent.pk).status == Status.ACTIVE


def test_an_executive_kills_an_agent_and_the_reason_is_in_the_chain(client_for, world, alice):
    response = client_for("alice").post(
        status_url(world.finance_agent), {"status": "killed", "reason": "Leaking customer data"}, format="json"
    )

    assert response.status_code == 200 and response.json()["status"] == Status.KILLED
    event = AuditEvent.objects.get(kind="agent.status_changed", subject_id=str(world.finance_agent.pk))
    assert (event.actor, event.after) == (alice, {"status": "killed", "reason": "Leaking customer data"})


@pytest.mark.parametrize(("caller", "status"), [("bob", "killed"), ("dave", "paused")])
def test_a_role_that_may_not_gets_403_even_without_a_reason(client_for, world, caller, status):
    response = client_for(caller).post(status_url(world.finance_agent), {"status": status}, format="json")

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(kind="agent.status_changed").exists()
