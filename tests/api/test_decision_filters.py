"""GET /api/v1/decisions filters (governance.filtersets.DecisionFilterSet), one parameter per test."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Approval, Override, Verdict
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(client_for, world):
    client = client_for("alice")

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/decisions?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    return ids


def test_by_agent_repeatable(listed, world):
    assert listed(f"agent={world.finance_agent.pk}") == {world.decision.pk}
    assert listed(f"agent={world.finance_agent.pk}&agent={world.support_agent.pk}") == {
        world.decision.pk,
        world.support_decision.pk,
    }


def test_by_department(listed, world, support):
    assert listed(f"department={support.pk}") == {world.support_decision.pk}


def test_by_action_exactly(listed, world):
    assert listed("action=reply.send") == {world.support_decision.pk}
    assert listed("action=reply") == set()


def test_by_verdict_repeatable(listed, world):
    assert listed("verdict=require_approval") == {world.decision.pk}
    assert listed("verdict=require_approval&verdict=allow") == {world.decision.pk, world.support_decision.pk}


def test_by_what_became_of_the_request_to_a_person(listed, world, finance_agent, alice):
    # Given the world's held decision, whose request a person rejected, and another whose request was approved
    world.decision.approval.status = "rejected"
    world.decision.approval.save(update_fields=["status"])
    approved = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL)
    Approval.objects.create(
        decision=approved,
        department=finance_agent.department,
        approver_role="Supervisor",
        deadline=timezone.now() + dt.timedelta(hours=1),
        status="approved",
    )

    assert listed("approval=rejected") == {world.decision.pk}
    assert listed("approval=rejected&approval=approved") == {world.decision.pk, approved.pk}


def test_by_override(listed, world, alice):
    Override.objects.create(decision=world.support_decision, verdict_overridden="deny", reason="Fine.", by=alice)

    assert listed("overridden=true") == {world.support_decision.pk}
    assert listed("overridden=false") == {world.decision.pk}


def test_an_unknown_request_outcome_or_override_value_is_a_field_error(client_for, world):
    response = client_for("alice").get("/api/v1/decisions?approval=maybe&overridden=perhaps")

    assert response.status_code == 400
    assert {"approval", "overridden"} <= set(response.json()["fields"])


def test_by_risk_range(listed, world, finance_agent):
    risky = DecisionFactory(agent=finance_agent, risk_score=90)

    assert listed("risk_min=80&risk_max=100") == {risky.pk}


def test_a_risk_outside_0_to_100_is_a_field_error(client_for, world):
    response = client_for("alice").get("/api/v1/decisions?risk_min=101")

    assert response.status_code == 400
    assert "risk_min" in response.json()["fields"]


def test_by_time_window(listed, world, finance_agent):
    old = DecisionFactory(agent=finance_agent, created_at=timezone.now() - dt.timedelta(days=10))
    since = (timezone.now() - dt.timedelta(days=11)).isoformat().replace("+00:00", "Z")
    until = (timezone.now() - dt.timedelta(days=9)).isoformat().replace("+00:00", "Z")

    assert listed(f"since={since}&until={until}") == {old.pk}


def fired(policy_id: int) -> list[dict]:
    """matched_policies as governance.evaluation.describe_hits stores them."""
    return [
        {
            "id": policy_id,
            "version": 1,
            "version_id": 1,
            "name": "P",
            "effect": "flag",
            "rationale": "r",
            "mode": "enforce",
        }
    ]


def test_by_a_policy_that_fired(listed, world, finance_agent):
    hit = DecisionFactory(agent=finance_agent, matched_policies=fired(world.policy.pk))
    DecisionFactory(agent=finance_agent, matched_policies=fired(world.policy.pk + 1))

    assert listed(f"policy={world.policy.pk}") == {hit.pk}


def test_by_text_in_action_resource_or_explanation(listed, world, finance_agent):
    by_resource = DecisionFactory(agent=finance_agent, resource="invoice/ACME-77")
    by_explanation = DecisionFactory(agent=finance_agent, explanation="Held: acme is on the watch list")

    assert listed("q=acme") == {by_resource.pk, by_explanation.pk}


def test_filters_never_widen_scope(client_for, world, support):
    response = client_for("bob").get(f"/api/v1/decisions?department={support.pk}")

    assert response.json()["results"] == []


def test_the_filter_set_works_outside_the_api(world):
    from governance.filtersets import DecisionFilterSet
    from governance.models import Decision

    filtered = DecisionFilterSet({"verdict": [Verdict.ALLOW]}, queryset=Decision.objects.all()).qs

    assert list(filtered) == [world.support_decision]


@pytest.mark.parametrize(
    ("moment", "status"),
    [("0055-03-24T00:41:23+23:46", 200), ("0001-01-01T00:00:00+05:00", 400)],
    ids=["offset-beyond-postgresql", "before-year-one-in-utc"],
)
def test_a_moment_postgresql_cannot_compare_is_normalised_or_refused_never_a_500(client_for, world, moment, status):
    # Found by the schema fuzzer: ISO 8601 allows offsets PostgreSQL refuses, and UTC can fall before year 1
    response = client_for("alice").get("/api/v1/decisions", {"until": moment})

    assert response.status_code == status


def test_an_id_past_64_bits_is_a_field_error_not_a_500(client_for, world):
    # Found by the schema fuzzer on SQLite: pk__in with such an id crashed the driver
    response = client_for("alice").get("/api/v1/decisions", {"agent": 349803749962160985065127936})

    assert response.status_code == 400
    assert "agent" in response.json()["fields"]
