"""regent_client against a live Regent (uvicorn in a thread, sharing the test database)."""

from decimal import Decimal

import pytest

from governance.models import Decision, Effect, Outcome
from orchestration.keys import issue_key
from regent_client import NotAllowed, Regent, RegentError


@pytest.fixture
def regent(asgi_server, finance_agent) -> Regent:
    return Regent(asgi_server.url, issue_key(finance_agent))


def test_evaluate_returns_regents_decision(regent):
    decision = regent.evaluate("invoice.approve", resource="invoice/7", amount=Decimal("120.00"), currency="EUR")

    assert (decision.verdict, decision.proceeds) == ("allow", True)
    stored = Decision.objects.get(pk=decision.decision_id)
    assert (stored.resource, stored.amount) == ("invoice/7", Decimal("120.00"))


def test_report_outcome_records_it(regent):
    decision = regent.evaluate("invoice.approve")

    regent.report_outcome(decision.decision_id, "success", cost="0.40", value="25", csat=5)

    outcome = Outcome.objects.get(decision_id=decision.decision_id)
    assert (outcome.result, outcome.cost, outcome.csat) == ("success", Decimal("0.40"), 5)


def test_a_governed_function_runs_when_allowed_and_its_success_is_reported(regent):
    calls = []

    @regent.governed(
        "invoice.approve",
        resource=lambda invoice: invoice["id"],
        amount=lambda invoice: invoice["total"],
        currency="EUR",
    )
    def approve(invoice):
        calls.append(invoice["id"])
        return "approved"

    assert approve({"id": "inv-9", "total": "80.00"}) == "approved"
    assert calls == ["inv-9"]
    decision = Decision.objects.get(resource="inv-9")
    assert (decision.amount, decision.outcome.result) == (Decimal("80.00"), "success")


def test_a_governed_function_does_not_run_when_denied(regent, make_policy):
    make_policy(name="No payments", effect=Effect.DENY, actions="payment.send", rationale="Frozen.")
    calls = []

    @regent.governed("payment.send")
    def pay():
        calls.append(1)

    with pytest.raises(NotAllowed) as refused:
        pay()

    assert calls == []
    assert refused.value.decision.verdict == "deny"
    assert "No payments" in refused.value.decision.explanation


def test_a_governed_function_that_raises_reports_a_failure(regent):
    @regent.governed("invoice.approve")
    def approve():
        raise RuntimeError("ledger down")

    with pytest.raises(RuntimeError):
        approve()

    assert Outcome.objects.get().result == "failure"


def test_bad_input_is_a_regent_error_with_field_messages(regent):
    with pytest.raises(RegentError) as error:
        regent.evaluate("Not An Action")

    assert error.value.status == 400
    assert "action" in error.value.fields


def test_a_wrong_key_is_a_401(asgi_server):
    with pytest.raises(RegentError) as error:
        Regent(asgi_server.url, "rgt_not-a-key").evaluate("invoice.approve")

    assert error.value.status == 401
