"""POST /api/v1/events: bulk ingest of decisions and outcomes from agents orchestrated elsewhere."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from audit import chain
from audit.chain import verify_chain
from audit.models import AuditEvent
from dashboard.models import DecisionRollup
from dashboard.rollups import fold_changes
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Decision, Outcome
from tests.support.api import agent_client
from tests.support.rollups import bucket_counts, decisions_per_bucket

pytestmark = pytest.mark.django_db
URL = "/api/v1/events"


def decision_item(key: str, **fields) -> dict:
    return {
        "type": "decision",
        "idempotency_key": key,
        "action": "invoice.approve",
        "verdict": "allow",
        "amount": "120.00",
        "currency": "EUR",
        **fields,
    }


@pytest.fixture
def client(finance_agent):
    return agent_client(finance_agent)


def test_ingested_decisions_are_recorded_for_the_calling_agent(client, finance_agent):
    # When the agent sends three decisions
    response = client.post(URL, {"items": [decision_item(f"k{n}") for n in range(3)]}, format="json")

    # Then each is created, in order, and stored for the agent in its department
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["duplicates"], body["invalid"]) == (3, 0, 0)
    stored = Decision.objects.filter(pk__in=[r["id"] for r in body["results"]])
    assert {(d.agent_id, d.department_id, d.idempotency_key) for d in stored} == {
        (finance_agent.pk, finance_agent.department_id, f"k{n}") for n in range(3)
    }


def test_each_ingested_decision_is_one_link_of_an_intact_audit_chain(client):
    # When the agent sends a batch
    body = client.post(URL, {"items": [decision_item(f"k{n}") for n in range(5)]}, format="json").json()

    # Then each decision has exactly one decision.created link, and the chain verifies
    ids = sorted(str(r["id"]) for r in body["results"])
    linked = sorted(AuditEvent.objects.filter(kind="decision.created").values_list("subject_id", flat=True))
    assert linked == ids
    assert verify_chain().ok


def test_a_retried_batch_adds_nothing_twice(client):
    # Given a batch the agent already sent
    items = [decision_item(f"k{n}") for n in range(4)]
    first = client.post(URL, {"items": items}, format="json").json()

    # When it sends the same batch again
    second = client.post(URL, {"items": items}, format="json").json()

    # Then every item is a duplicate naming the decision already stored, and nothing was added
    assert (second["created"], second["duplicates"]) == (0, 4)
    assert [r["id"] for r in second["results"]] == [r["id"] for r in first["results"]]
    assert Decision.objects.count() == 4
    assert AuditEvent.objects.filter(kind="decision.created").count() == 4


def test_a_key_repeated_within_one_batch_is_recorded_once(client):
    body = client.post(URL, {"items": [decision_item("same"), decision_item("same")]}, format="json").json()

    assert [r["status"] for r in body["results"]] == ["created", "duplicate"]
    assert body["results"][0]["id"] == body["results"][1]["id"]
    assert Decision.objects.count() == 1


def test_invalid_items_are_reported_by_index_and_the_valid_ones_kept(client):
    # Given a batch with a bad verdict at index 1 and an unknown type at index 3
    items = [decision_item("a"), decision_item("b", verdict="maybe"), decision_item("c"), {"type": "nonsense"}]

    # When the agent sends it
    body = client.post(URL, {"items": items}, format="json").json()

    # Then indexes 1 and 3 are invalid with field messages, and 0 and 2 are stored
    assert [r["status"] for r in body["results"]] == ["created", "invalid", "created", "invalid"]
    assert "verdict" in body["results"][1]["errors"]
    assert "type" in body["results"][3]["errors"]
    assert set(Decision.objects.values_list("idempotency_key", flat=True)) == {"a", "c"}


def test_a_batch_larger_than_a_thousand_items_is_refused_whole(client):
    response = client.post(URL, {"items": [decision_item(f"k{n}") for n in range(1001)]}, format="json")

    assert response.status_code == 400
    assert "items" in response.json()["fields"]
    assert not Decision.objects.exists()


def test_an_outcome_names_an_ingested_decision_by_its_key(client):
    # Given an ingested decision
    client.post(URL, {"items": [decision_item("inv-1")]}, format="json")

    # When its outcome is sent by the decision's key
    outcome = {
        "type": "outcome",
        "idempotency_key": "o1",
        "decision_key": "inv-1",
        "result": "success",
        "cost": "1.50",
        "value": "20.00",
        "csat": 5,
    }
    body = client.post(URL, {"items": [outcome]}, format="json").json()

    # Then the outcome is recorded for that decision, once even when sent again
    assert body["results"][0]["status"] == "created"
    client.post(URL, {"items": [outcome]}, format="json")
    stored = Outcome.objects.get()
    assert (stored.decision.idempotency_key, stored.result, stored.csat) == ("inv-1", "success", 5)


def test_an_outcome_for_another_agents_decision_is_invalid(client, support_agent):
    # Given a decision of another agent
    other = evaluate_action(support_agent, ActionRequest(action="reply.send"))

    # When the Finance agent reports an outcome for it
    item = {"type": "outcome", "idempotency_key": "o1", "decision": other.pk, "result": "success"}
    body = client.post(URL, {"items": [item]}, format="json").json()

    # Then it is refused at its index and nothing is recorded
    assert body["results"][0]["status"] == "invalid"
    assert not Outcome.objects.exists()


def test_a_missing_risk_score_is_scored_by_regents_rule(client, finance_agent):
    body = client.post(URL, {"items": [decision_item("k", data_classes=["pii"])]}, format="json").json()

    assert Decision.objects.get(pk=body["results"][0]["id"]).risk_score > 0


def test_a_large_batch_is_stored_set_based_with_exact_ids_and_chain(client, finance_agent):
    # Given a batch above the size where PostgreSQL takes it by COPY
    items = [decision_item(f"k{n}", resource=f"invoice/{n}") for n in range(250)]

    # When the agent sends it
    body = client.post(URL, {"items": items}, format="json").json()

    # Then every id returned is the decision with that item's key, each linked once, the chain intact
    stored = dict(Decision.objects.values_list("pk", "resource"))
    assert [stored[r["id"]] for r in body["results"]] == [f"invoice/{n}" for n in range(250)]
    assert AuditEvent.objects.filter(kind="decision.created").count() == 250
    assert verify_chain().ok


def test_an_ingested_batch_counts_in_the_rollups_as_one_decision_at_a_time_would(client, finance_agent):
    # Given a batch above the COPY size, with verdicts, amounts, risks and hours that vary
    hours = [timezone.now() - dt.timedelta(hours=n % 5, minutes=n % 50) for n in range(150)]
    items = [
        decision_item(
            f"k{n}",
            verdict=["allow", "deny", "flag"][n % 3],
            amount=f"{n}.50",
            risk_score=n % 100,
            occurred_at=hours[n].isoformat(),
        )
        for n in range(150)
    ]
    # And, in the same request, the outcome of a decision ingested earlier
    client.post(URL, {"items": [decision_item("earlier")]}, format="json")
    outcome = {
        "type": "outcome",
        "idempotency_key": "o1",
        "decision_key": "earlier",
        "result": "success",
        "value": "7.00",
    }

    # When the agent sends it and the changes are folded
    body = client.post(URL, {"items": [*items, outcome]}, format="json").json()
    assert body["created"] == 151
    fold_changes()

    # Then the buckets hold every decision where the decision table says, the spend of what was allowed,
    # and the outcome (its trigger still fires after the batch's decisions)
    assert bucket_counts("hour") == decisions_per_bucket("hour")
    assert bucket_counts("day") == decisions_per_bucket("day")
    allowed = Decision.objects.filter(verdict__in=["allow", "flag"]).aggregate(total=Sum("amount"))["total"]
    totals = DecisionRollup.objects.filter(grain="day").aggregate(spend=Sum("spend"), value=Sum("value"))
    assert totals == {"spend": allowed, "value": Decimal("7.00")}


def test_ingested_outcomes_name_the_agent_and_are_audited_in_one_append_per_batch(client, monkeypatch):
    # Given three ingested decisions
    client.post(URL, {"items": [decision_item(f"inv-{n}") for n in range(3)]}, format="json")
    appends = []
    monkeypatch.setattr(chain, "append", lambda events, real=chain.append: appends.append(events) or real(events))

    # When the agent sends their outcomes in one batch
    outcomes = [
        {
            "type": "outcome",
            "idempotency_key": f"o{n}",
            "decision_key": f"inv-{n}",
            "result": "success",
            "value": "10.00",
        }
        for n in range(3)
    ]
    body = client.post(URL, {"items": outcomes}, format="json").json()

    # Then each outcome names the agent, and all three outcome.reported events came in one append
    assert body["created"] == 3
    assert set(Outcome.objects.values_list("reported_by", flat=True)) == {"agent:invoice-bot"}
    outcome_appends = [[e.kind for e in events] for events in appends if events]
    assert outcome_appends == [["outcome.reported"] * 3]
    events = AuditEvent.objects.filter(kind="outcome.reported")
    assert sorted(events.values_list("subject_id", flat=True)) == sorted(
        str(pk) for pk in Outcome.objects.values_list("decision_id", flat=True)
    )
    assert {(e.actor_label, e.after["source"]) for e in events} == {("agent:invoice-bot", "ingest")}
    assert verify_chain().ok


def test_a_resent_outcome_adds_no_second_audit_event(client):
    client.post(URL, {"items": [decision_item("inv-1")]}, format="json")
    outcome = {"type": "outcome", "idempotency_key": "o1", "decision_key": "inv-1", "result": "failure"}

    client.post(URL, {"items": [outcome]}, format="json")
    client.post(URL, {"items": [outcome]}, format="json")

    assert AuditEvent.objects.filter(kind="outcome.reported").count() == 1


def test_outcomes_in_bulk_give_back_the_spend_of_failed_actions_once_and_count_in_the_rollups(client, finance_agent):
    # Given 120 actions evaluate allowed and reserved (above the size that goes in by COPY)
    made = [
        evaluate_action(finance_agent, ActionRequest(action="invoice.approve", amount=Decimal("10.00"), currency="EUR"))
        for _ in range(120)
    ]
    assert {d.verdict for d in made} == {"allow"}
    finance_agent.refresh_from_db()
    reserved = finance_agent.month_spent

    # When their outcomes arrive in one batch, a third of them failures, and the batch is sent twice
    outcomes = [
        {
            "type": "outcome",
            "idempotency_key": f"o{n}",
            "decision": d.pk,
            "result": "failure" if n % 3 == 0 else "success",
            "value": "2.00",
            "csat": 4,
        }
        for n, d in enumerate(made)
    ]
    first = client.post(URL, {"items": outcomes}, format="json").json()
    second = client.post(URL, {"items": outcomes}, format="json").json()
    fold_changes()

    # Then the 40 failed actions gave back their 10.00 once, and the buckets count every outcome once
    assert (first["created"], second["duplicates"]) == (120, 120)
    finance_agent.refresh_from_db()
    assert finance_agent.month_spent == reserved - 40 * Decimal("10.00")
    totals = DecisionRollup.objects.filter(grain="day").aggregate(
        outcomes=Sum("outcomes"), successes=Sum("successes"), value=Sum("value")
    )
    assert totals == {"outcomes": 120, "successes": 80, "value": Decimal("240.00")}
    assert AuditEvent.objects.filter(kind="outcome.reported").count() == 120
    assert verify_chain().ok


def test_a_failure_of_an_ingested_decision_gives_back_nothing(client, finance_agent):
    # Given an agent that has spent this month, and an ingested decision (decided and spent elsewhere:
    # Regent reserved nothing for it)
    evaluate_action(finance_agent, ActionRequest(action="invoice.approve", amount=Decimal("600.00"), currency="EUR"))
    client.post(URL, {"items": [decision_item("inv-1", amount="500.00")]}, format="json")
    finance_agent.refresh_from_db()
    spent = finance_agent.month_spent

    # When its action is reported failed, in bulk and through the outcomes endpoint
    failure = {"type": "outcome", "idempotency_key": "o1", "decision_key": "inv-1", "result": "failure"}
    client.post(URL, {"items": [failure]}, format="json")

    # Then the agent's spend is what it was
    finance_agent.refresh_from_db()
    assert finance_agent.month_spent == spent
