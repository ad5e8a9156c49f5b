"""The oversight pages' data over HTTP: the league, the interaction graph, and overriding a decision."""

from decimal import Decimal

import pytest
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEvent
from governance.models import Outcome, Override, Verdict
from governance.outcomes import report_outcome
from tests.factories import DecisionFactory
from tests.support.api import agent_client, token_client

pytestmark = pytest.mark.django_db


def rows_by_slug(response) -> dict[str, dict]:
    return {row["agent"]["slug"]: row for row in response.json()["rows"]}


def test_the_league_gives_each_agents_figures_in_the_callers_scope(finance_agent, support_agent, alice, bob):
    # Given Invoice Bot with one allowed, one denied and one flagged decision, one outcome with CSAT 4,
    # and Reply Bot (Support) with one decision
    allowed = DecisionFactory(
        agent=finance_agent, verdict=Verdict.ALLOW, amount=Decimal("100"), currency="EUR", created_at=timezone.now()
    )
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=timezone.now())
    DecisionFactory(agent=finance_agent, verdict=Verdict.FLAG, created_at=timezone.now())
    report_outcome(allowed, "success", reported_by="agent:tests", value=Decimal("250"), csat=4)
    DecisionFactory(agent=support_agent, created_at=timezone.now())

    # When the Executive and Finance's Supervisor read the league for the last 24 hours
    everyone = token_client(alice).get("/api/v1/league", {"period": "24h", "sort": "-violation_rate"})
    finance = token_client(bob).get("/api/v1/league", {"period": "24h"})

    # Then the Executive sees both agents, sorted as asked, with the figures the page shows
    assert everyone.status_code == 200, everyone.content
    assert [row["agent"]["slug"] for row in everyone.json()["rows"]] == ["invoice-bot", "reply-bot"]
    invoice = rows_by_slug(everyone)["invoice-bot"]
    assert (invoice["decisions"], invoice["violations"]) == (3, 2)
    assert invoice["violation_rate"] == pytest.approx(66.7, abs=0.05)
    assert Decimal(invoice["value"]) == Decimal("250.00")
    assert invoice["csat"] == 4
    assert everyone.json()["sort"] == "-violation_rate"
    # And the Supervisor sees Finance's agent only
    assert list(rows_by_slug(finance)) == ["invoice-bot"]


def test_an_unknown_sort_is_a_field_error(alice):
    response = token_client(alice).get("/api/v1/league", {"sort": "charm"})

    assert response.status_code == 400
    assert "sort" in response.json()["fields"]


def test_the_graph_gives_the_delegations_the_database_holds(alice, finance_agent, support_agent, team):
    # Given Invoice Bot delegated twice to Ledger Clerk and once to Reply Bot this week (the `team` fixture)
    # When the Executive reads the week's interactions
    response = token_client(alice).get("/api/v1/interactions", {"period": "7d"})

    # Then the delegation edges and each agent's counts are there
    assert response.status_code == 200, response.content
    body = response.json()
    delegations = {(e["source"], e["target"]): e["count"] for e in body["edges"] if e["kind"] == "delegation"}
    assert delegations == {(finance_agent.pk, team.pk): 2, (finance_agent.pk, support_agent.pk): 1}
    nodes = {node["agent"]["id"]: node for node in body["nodes"]}
    assert nodes[finance_agent.pk]["delegated"] == 3
    assert body["truncated"] is False


def test_a_supervisor_overrides_a_denial_of_their_department_and_it_is_audited(bob, finance_agent):
    denied = DecisionFactory(agent=finance_agent, verdict=Verdict.DENY)

    response = token_client(bob).post(
        f"/api/v1/decisions/{denied.pk}/override", {"reason": "Agreed by phone."}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["by"] == "bob" and response.json()["verdict_overridden"] == "deny"
    assert Override.objects.get(decision=denied).reason == "Agreed by phone."
    event = AuditEvent.objects.get(kind="decision.overridden", subject_id=str(denied.pk))
    assert event.actor_label == "user:bob"
    decision = token_client(bob).get(f"/api/v1/decisions/{denied.pk}").json()
    assert decision["verdict"] == "deny" and decision["override"]["reason"] == "Agreed by phone."


@pytest.mark.parametrize(
    ("verdict", "body", "status", "field"),
    [
        (Verdict.DENY, {}, 400, "reason"),
        (Verdict.DENY, {"reason": ""}, 400, "reason"),
        (Verdict.ALLOW, {"reason": "Why not."}, 409, None),
    ],
    ids=["no-reason", "blank-reason", "allowed-decision"],
)
def test_an_override_that_cannot_be_made_says_why_and_records_nothing(bob, finance_agent, verdict, body, status, field):
    decision = DecisionFactory(agent=finance_agent, verdict=verdict)

    response = token_client(bob).post(f"/api/v1/decisions/{decision.pk}/override", body, format="json")

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["fields"]
    assert not Override.objects.exists()
    assert not AuditEvent.objects.filter(kind="decision.overridden").exists()


def test_a_second_override_is_a_conflict(bob, finance_agent):
    denied = DecisionFactory(agent=finance_agent, verdict=Verdict.DENY)
    client = token_client(bob)
    client.post(f"/api/v1/decisions/{denied.pk}/override", {"reason": "First."}, format="json")

    again = client.post(f"/api/v1/decisions/{denied.pk}/override", {"reason": "Second."}, format="json")

    assert again.status_code == 409
    assert Override.objects.get(decision=denied).reason == "First."


def test_a_supervisor_cannot_override_another_departments_decision(bob, support_agent):
    denied = DecisionFactory(agent=support_agent, verdict=Verdict.DENY)

    response = token_client(bob).post(f"/api/v1/decisions/{denied.pk}/override", {"reason": "x"}, format="json")

    assert response.status_code == 404
    assert not Override.objects.exists()


def test_a_supervisor_reports_an_outcome_for_a_decision_of_their_department(bob, finance_agent):
    # Given a Finance decision, and a ticketing system that acts with Finance's Supervisor's token
    decision = DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW)
    body = {"decision": decision.pk, "result": "success", "value": "120.00", "csat": 5}

    # When it reports what happened
    response = token_client(bob).post("/api/v1/outcomes", body, format="json")

    # Then the outcome is the decision's, as if its agent had reported it, but names who reported it
    assert response.status_code == 200, response.content
    assert (decision.outcome.result, decision.outcome.csat) == ("success", 5)
    assert decision.outcome.reported_by == response.json()["reported_by"] == "user:bob"
    # And the claim is in the audit chain, made by bob, in the decision's department
    event = AuditEvent.objects.get(kind="outcome.reported")
    assert (event.actor, event.actor_label, event.subject_type, event.subject_id, event.department_id) == (
        bob,
        "user:bob",
        "decision",
        str(decision.pk),
        finance_agent.department_id,
    )
    assert (event.after["result"], event.after["value"], event.after["csat"]) == ("success", "120.00", 5)
    assert verify_chain().ok


def test_an_agent_reporting_its_outcome_is_named_on_the_outcome_and_in_the_audit_chain(finance_agent, alice):
    # Given a decision of the Finance agent
    decision = DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW)

    # When the agent reports what happened with its key
    response = agent_client(finance_agent).post(
        "/api/v1/outcomes", {"decision": decision.pk, "result": "failure", "cost": "3.00"}, format="json"
    )

    # Then the outcome and its audit event name the agent, and the chain holds
    assert response.status_code == 200, response.content
    assert response.json()["reported_by"] == "agent:invoice-bot"
    event = AuditEvent.objects.get(kind="outcome.reported")
    assert (event.actor, event.actor_label, event.after["result"], event.after["cost"]) == (
        None,
        "agent:invoice-bot",
        "failure",
        "3.00",
    )
    assert verify_chain().ok
    # And the decision's API view shows who reported its outcome
    shown = token_client(alice).get(f"/api/v1/decisions/{decision.pk}")
    assert shown.json()["outcome"]["reported_by"] == "agent:invoice-bot"


def test_a_second_report_keeps_the_first_and_adds_no_audit_event(bob, finance_agent):
    # Given an outcome the agent reported
    decision = DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW)
    agent_client(finance_agent).post("/api/v1/outcomes", {"decision": decision.pk, "result": "success"}, format="json")

    # When a system with bob's token reports another
    response = token_client(bob).post("/api/v1/outcomes", {"decision": decision.pk, "result": "failure"}, format="json")

    # Then the first report stands, with its reporter, and only it is audited
    assert (response.json()["result"], response.json()["reported_by"]) == ("success", "agent:invoice-bot")
    assert list(AuditEvent.objects.filter(kind="outcome.reported").values_list("actor_label", flat=True)) == [
        "agent:invoice-bot"
    ]


def test_a_bad_outcome_is_a_field_error_and_records_nothing(finance_agent):
    decision = DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW)

    response = agent_client(finance_agent).post(
        "/api/v1/outcomes", {"decision": decision.pk, "result": "success", "csat": 9}, format="json"
    )

    assert response.status_code == 400
    assert "csat" in response.json()["fields"]
    assert not Outcome.objects.exists()
    assert not AuditEvent.objects.filter(kind="outcome.reported").exists()


def test_an_outcome_outside_the_persons_departments_is_not_found(bob, support_agent):
    decision = DecisionFactory(agent=support_agent)

    body = {"decision": decision.pk, "result": "success"}

    response = token_client(bob).post("/api/v1/outcomes", body, format="json")

    assert response.status_code == 404
    assert not Outcome.objects.exists()


def test_a_role_that_does_not_report_outcomes_is_refused(dave, finance_agent):
    decision = DecisionFactory(agent=finance_agent)
    body = {"decision": decision.pk, "result": "success"}

    response = token_client(dave).post("/api/v1/outcomes", body, format="json")

    assert response.status_code == 403
    assert not Outcome.objects.exists()
