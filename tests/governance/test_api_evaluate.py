"""POST /api/v1/decisions/evaluate: an agent, by its API key, asks whether it may act.

Bad bodies are 400 naming the field and write nothing; missing, unknown or revoked keys are 401 with a
challenge; a signed-in person is not an agent.
"""

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from governance.models import Approval, Decision, Effect, Mode, Verdict
from orchestration.keys import issue_key, revoke_keys
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, Status

pytestmark = pytest.mark.django_db

URL = reverse("decision-evaluate")
INVOICE = {"action": "invoice.approve", "resource": "invoice/4711", "amount": "120.00", "currency": "EUR"}
RESPONSE_KEYS = {"decision_id", "verdict", "risk_score", "matched_policies", "explanation", "approval_id"}
MATCHED_POLICY_KEYS = {"id", "version", "name", "effect", "rationale"}


@pytest.fixture
def finance_key(finance_agent: Agent) -> str:
    return issue_key(finance_agent)


@pytest.fixture
def evaluate(client, finance_key):
    """POST a body (a dict as JSON, or raw text as is) with the Finance agent's key unless told otherwise."""

    def post(body, *, key: str | None = finance_key):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        content = body if isinstance(body, str) else json.dumps(body)
        return client.post(URL, content, content_type="application/json", headers=headers)

    return post


# An agent asks and is answered.


def test_a_valid_request_is_answered_with_the_decision(evaluate):
    # When the Finance agent asks to approve an invoice
    response = evaluate(INVOICE)

    # Then it is told the verdict, and the answer holds exactly the documented fields
    assert response.status_code == 200
    body = response.json()
    assert set(body) == RESPONSE_KEYS
    assert (body["verdict"], body["matched_policies"], body["approval_id"]) == (Verdict.ALLOW, [], None)
    assert isinstance(body["risk_score"], int)
    assert "the Finance default (allow) stands" in body["explanation"]


def test_an_answered_request_is_recorded_as_a_decision_with_its_audit_event(evaluate, finance_agent):
    # When the Finance agent asks to approve an invoice
    body = evaluate(INVOICE).json()

    # Then the decision it was told about is stored as asked, and the audit chain records it
    decision = Decision.objects.get(pk=body["decision_id"])
    assert (decision.agent, decision.action, decision.resource) == (finance_agent, "invoice.approve", "invoice/4711")
    assert (str(decision.amount), decision.currency, decision.verdict) == ("120.00", "EUR", body["verdict"])
    assert AuditEvent.objects.filter(kind="decision.created", subject_id=str(decision.pk)).count() == 1


def test_a_fired_policy_is_listed_with_its_version_and_rationale(make_policy, evaluate):
    # Given an enforced policy flagging invoice approvals
    policy = make_policy(name="Watch invoices", effect=Effect.FLAG, actions="invoice.approve", rationale="Fraud wave.")

    # When the Finance agent asks
    body = evaluate(INVOICE).json()

    # Then the policy is listed with exactly its id, version, name, effect and rationale
    assert body["verdict"] == Verdict.FLAG
    assert body["matched_policies"] == [
        {"id": policy.pk, "version": 1, "name": "Watch invoices", "effect": "flag", "rationale": "Fraud wave."}
    ]
    assert set(body["matched_policies"][0]) == MATCHED_POLICY_KEYS


def test_a_request_held_for_approval_returns_the_pending_approval(make_policy, evaluate):
    # Given a policy holding invoice approvals for a supervisor
    make_policy(effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor", actions="invoice.approve")

    # When the Finance agent asks
    body = evaluate(INVOICE).json()

    # Then it is told to wait, with the id of a pending approval for its decision
    assert body["verdict"] == Verdict.REQUIRE_APPROVAL
    approval = Approval.objects.get(pk=body["approval_id"])
    assert (approval.status, approval.decision_id) == (Approval.Status.PENDING, body["decision_id"])


def test_shadow_policies_are_not_listed_to_the_agent(make_policy, evaluate):
    # Given an enforced flag policy and a shadow deny policy, both on invoices
    enforced = make_policy(name="Watch invoices", effect=Effect.FLAG)
    make_policy(name="Trial: no invoices", effect=Effect.DENY, mode=Mode.SHADOW)

    # When the Finance agent asks
    body = evaluate(INVOICE).json()

    # Then only the enforced policy is listed, though the decision records both
    assert [p["id"] for p in body["matched_policies"]] == [enforced.pk]
    assert len(Decision.objects.get(pk=body["decision_id"]).matched_policies) == 2


def test_a_killed_agent_is_denied_with_the_reason(evaluate, finance_agent):
    # Given the Finance agent has been killed
    change_agent_status(finance_agent, Status.KILLED)

    # When it asks anyway, with its still valid key
    response = evaluate(INVOICE)

    # Then it is answered, denied, and told why
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == Verdict.DENY
    assert body["explanation"] == "Agent invoice-bot is killed: it may not act."


def test_a_simple_request_costs_a_bounded_number_of_queries(evaluate, django_assert_max_num_queries):
    # Given the policy index already built by an earlier request
    evaluate(INVOICE)

    # When the Finance agent asks again, it costs at most the 17 queries measured: the key and its two last-used
    # stamps, the policy-set version, the agent, its capabilities and its lock, the budget reservation in a
    # savepoint (4), the decision, the chain head lock, the event and the head update, and the outer savepoint (2)
    with django_assert_max_num_queries(17):
        response = evaluate(INVOICE)

    assert response.status_code == 200


# Bad bodies: 400 naming the field, and nothing written.


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        pytest.param({**INVOICE, "action": "Approve Invoice!"}, "action", "dotted lower-case", id="bad-action-name"),
        pytest.param({**INVOICE, "amount": "-1.00"}, "amount", "greater than or equal to 0", id="negative-amount"),
        pytest.param(
            {"action": "invoice.approve", "amount": "120.00"}, "currency", "Give the currency", id="amount-no-currency"
        ),
        pytest.param({**INVOICE, "currency": "EURO"}, "currency", "ISO 4217", id="currency-not-3-letters"),
        pytest.param({**INVOICE, "currency": "eur"}, "currency", "ISO 4217", id="currency-lower-case"),
        pytest.param({**INVOICE, "data_classes": "pii"}, "data_classes", "Expected a list", id="data-classes-str"),
        pytest.param({**INVOICE, "context": ["po", 7]}, "context", "Expected a dictionary", id="context-list"),
        pytest.param(
            {**INVOICE, "context": {"note": "x" * 16_400}}, "context", "larger than 16384 bytes", id="context-16kb"
        ),
        pytest.param({"resource": "invoice/4711"}, "action", "required", id="no-action"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field_and_writes_nothing(evaluate, body, field, message):
    # When the Finance agent sends a bad body
    response = evaluate(body)

    # Then it is told which field is wrong and why, and no decision is made
    assert response.status_code == 400
    errors = response.json()["fields"]
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert not Decision.objects.exists()


def test_malformed_json_is_a_400_and_writes_nothing(evaluate):
    # When the Finance agent sends a body that is not JSON
    response = evaluate('{"action": "invoice.approve",')

    # Then it is told the body does not parse, and no decision is made
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Decision.objects.exists()


def test_context_just_under_16kb_is_accepted(evaluate):
    # When the context is within the limit once serialised
    response = evaluate({**INVOICE, "context": {"note": "x" * 16_000}})

    # Then the request is decided
    assert response.status_code == 200


# Who may ask: agents with a live key, nobody else.


def test_no_key_is_a_401_with_a_challenge(evaluate):
    response = evaluate(INVOICE, key=None)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="regent"'
    assert not Decision.objects.exists()


def test_an_unknown_key_is_a_401_with_a_challenge(evaluate):
    response = evaluate(INVOICE, key="rgt_" + "A" * 43)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="regent"'
    assert response.json()["detail"] == "Unknown or revoked API key."
    assert not Decision.objects.exists()


def test_a_revoked_key_is_a_401_with_a_challenge(evaluate, finance_agent, finance_key):
    # Given the Finance agent's key was revoked
    revoke_keys(finance_agent)

    # When it is used
    response = evaluate(INVOICE, key=finance_key)

    # Then it is refused
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="regent"'
    assert not Decision.objects.exists()


def test_a_signed_in_person_without_a_key_is_refused(client, alice):
    # Given alice signed in to the dashboard
    client.force_login(alice)

    # When her browser session posts a request
    response = client.post(URL, json.dumps(INVOICE), content_type="application/json")

    # Then she is refused: only agents ask for decisions
    assert response.status_code in (401, 403)
    assert not Decision.objects.exists()
