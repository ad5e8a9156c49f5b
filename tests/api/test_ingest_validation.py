"""Bulk ingest validates items with pydantic (governance.api.ingest_items) for speed; the rules must stay the
API's: what POST /decisions/evaluate refuses in a request, ingest refuses in a decision, with field messages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.api import ingest_items
from governance.api.serializers import EvaluateRequestSerializer

REQUEST = {
    "action": "invoice.approve",
    "resource": "invoice/1",
    "amount": "120.00",
    "currency": "EUR",
    "data_classes": ["pii"],
    "context": {"vendor": "ACME"},
}

# (change to a valid request, the field the API names). None: the request stays valid.
REQUEST_CASES = [
    ({}, None),
    ({"action": ""}, "action"),
    ({"action": "Invoice Approve"}, "action"),
    ({"action": "x" * 81}, "action"),
    ({"action": 5}, "action"),
    ({"resource": "r" * 256}, "resource"),
    ({"resource": "bad\x00text"}, "resource"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "1.234"}, "amount"),
    ({"amount": "1" * 13 + ".00"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"amount": 99.5}, None),
    ({"amount": None, "currency": ""}, None),
    ({"currency": ""}, "currency"),
    ({"currency": "eur"}, "currency"),
    ({"data_classes": ["not a slug"]}, "data_classes"),
    ({"data_classes": ["x"] * 21}, "data_classes"),
    ({"data_classes": "pii"}, "data_classes"),
    ({"context": []}, "context"),
    ({"context": {"note": "nul\x00"}}, "context"),
    ({"context": {"note": "\ud800"}}, "context"),
    ({"context": {"blob": "x" * 17_000}}, "context"),
]


def ingest_errors(item: dict) -> dict:
    _valid, errors = ingest_items.parse([item])
    return errors.get(0, {})


def decision(**changes) -> dict:
    return {"type": "decision", "idempotency_key": "k1", "verdict": "allow", **REQUEST, **changes}


@pytest.mark.parametrize(("change", "field"), REQUEST_CASES)
def test_ingest_refuses_what_evaluate_refuses_and_names_the_same_field(change, field):
    serializer = EvaluateRequestSerializer(data={**REQUEST, **change})
    api_fields = set() if serializer.is_valid() else set(serializer.errors)

    errors = ingest_errors(decision(**change))

    assert api_fields == ({field} if field else set())
    assert set(errors) == api_fields
    assert all(isinstance(message, str) and message for messages in errors.values() for message in messages)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"verdict": "maybe"}, "verdict"),
        ({"verdict": None}, "verdict"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 101}, "idempotency_key"),
        ({"risk_score": 101}, "risk_score"),
        ({"risk_score": 2.5}, "risk_score"),
        ({"explanation": "e" * 2001}, "explanation"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": (timezone.now() + dt.timedelta(hours=1)).isoformat()}, "occurred_at"),
    ],
)
def test_ingest_checks_the_fields_only_a_reported_decision_has(change, field):
    assert set(ingest_errors(decision(**change))) == {field}


def test_a_valid_decision_is_read_as_the_api_reads_it():
    ((index, item),) = ingest_items.parse(
        [decision(amount="120", data_classes=["pii", "pii"], resource=" r ", occurred_at="2026-12-01T10:00:00")]
    )[0]

    assert index == 0
    assert item.amount == Decimal("120.00") and str(item.amount) == "120.00"  # quantised like DRF's field
    assert item.data_classes == ["pii"]  # repeated classes once, as evaluate reads them
    assert item.resource == "r"  # trimmed, as DRF's CharField does
    assert item.occurred_at == timezone.make_aware(dt.datetime(2026, 12, 1, 10))  # a naive time in server time


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"result": "success"}, "non_field_errors"),
        ({"result": "success", "decision": 1, "decision_key": "k"}, "non_field_errors"),
        ({"result": "great", "decision": 1}, "result"),
        ({"result": "success", "decision": 0}, "decision"),
        ({"result": "success", "decision": 1, "csat": 6}, "csat"),
        ({"result": "success", "decision": 1, "cost": "-1"}, "cost"),
    ],
)
def test_an_outcome_is_checked_field_by_field(item, field):
    assert set(ingest_errors({"type": "outcome", "idempotency_key": "o1", **item})) == {field}


@pytest.mark.parametrize("item", [[], "decision", None, {"type": "other"}, {}])
def test_an_item_that_is_neither_kind_says_which_kinds_exist(item):
    assert ingest_errors(item) == {"type": ['Use "decision" or "outcome".']}
