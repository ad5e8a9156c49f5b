"""Whatever JSON a client sends to evaluate, ingest or start a workflow, the answer is a 2xx, or a 4xx in
the API's one error format that wrote nothing: never a 5xx, never half a change.

Each test tries 60 bodies from tests/support/json_text.py, the same ones on every run (the "bad-input"
profile registered here derandomizes), in the test's transaction. `--hypothesis-show-statistics` shows how
the answers were spread.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import Model
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from governance.models import Decision, Outcome, Verdict
from tests.support.api import agent_client
from tests.support.json_text import bodies, json_objects, names, objects
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db

settings.register_profile(
    "bad-input",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
bad_input = settings.get_profile("bad-input")

ROWS: tuple[type[Model], ...] = (Decision, Outcome, WorkflowRun, StepRun, AuditEvent)

# Values each member takes; bodies() puts bad values among them.
amounts = st.integers(0, 10**9) | st.decimals(min_value=0, max_value=Decimal("1e12"), places=2).map(str)
currencies = st.sampled_from(["EUR", "USD"])
evaluate_members = {
    "action": st.sampled_from(["invoice.approve", "payment.send"]),
    "resource": names,
    "amount": amounts,
    "currency": currencies,
    "data_classes": st.lists(st.sampled_from(["pii", "payment"]), max_size=3),
    "context": json_objects,
}
decision_items = objects(
    {
        **evaluate_members,
        "type": st.just("decision"),
        "idempotency_key": names,
        "verdict": st.sampled_from(Verdict.values),
        "risk_score": st.integers(0, 100),
        "explanation": names,
        "occurred_at": st.sampled_from(["2026-01-02T03:04:05Z", "2026-01-02T03:04:05+02:00"]),
    },
    required=("type", "idempotency_key", "action", "verdict"),
)
outcome_items = objects(
    {
        "type": st.just("outcome"),
        "idempotency_key": names,
        "decision": st.integers(1, 10**6),
        "decision_key": names,
        "result": st.sampled_from(Outcome.Result.values),
        "cost": amounts,
        "value": amounts,
        "csat": st.integers(1, 5),
    },
    required=("type", "idempotency_key", "result", "decision"),
)
evaluate_bodies = bodies(
    evaluate_members,
    required=("action",),
    places=[("context", "n"), ("context", "n", "m"), ("context",), *((name,) for name in evaluate_members)],
)
ingest_bodies = bodies(
    {
        "items": st.builds(
            lambda first, more: [first, *more], decision_items, st.lists(decision_items | outcome_items, max_size=5)
        )
    },
    required=("items",),
    places=[
        ("items", 0),
        *[("items", 0, "context", "n")] * 3,  # where a bad value would be stored: three times as often
        *(("items", 0, name) for name in ("type", "amount", "idempotency_key")),
    ],
)
input_members = {"amount": amounts, "currency": currencies, "vendor": json_objects}
run_bodies = bodies(
    {"input": objects(input_members)},
    required=("input",),
    places=[("input",), ("input", "vendor", "n"), *(("input", name) for name in input_members)],
)


@pytest.fixture
def post(settings, finance_agent) -> Callable[[str, str], tuple]:
    """POST a body as an agent; the response and the rows each table gained."""
    settings.API_THROTTLE_RATE = "100000/min"
    cache.clear()
    client = agent_client(finance_agent)

    def send(url: str, text: str):
        note(f"body: {text[:2000]!r}")
        before = [model.objects.count() for model in ROWS]
        response = client.generic("POST", url, text.encode("utf-8", "surrogatepass"), content_type="application/json")
        gained = {model: model.objects.count() - count for model, count in zip(ROWS, before, strict=True)}
        return response, gained

    return send


def answered_well(response, gained: dict) -> dict:
    """Never a 5xx; a 4xx in the one error format that wrote nothing. The body, for a 2xx's own checks."""
    assert response.status_code < 500, response.content[:1000]
    assert response["Content-Type"] == "application/json", response.content[:1000]
    body = response.json()
    event(f"{response.status_code} {body.get('code', '')} {sorted(body.get('fields', {}))}")
    if response.status_code >= 400:
        assert body["status"] == response.status_code
        assert isinstance(body["code"], str) and isinstance(body["detail"], str)
        assert body["code"] != "invalid" or isinstance(body["fields"], dict)
        assert not any(gained.values()), gained
    return body


@bad_input
@given(text=evaluate_bodies)
def test_evaluate_answers_any_body_without_a_5xx_or_half_a_decision(post, text):
    response, gained = post("/api/v1/decisions/evaluate", text)

    answered_well(response, gained)
    if response.status_code == 200:
        assert gained[Decision] == 1


@bad_input
@given(text=ingest_bodies)
def test_ingest_answers_any_batch_without_a_5xx_or_a_row_it_does_not_report(post, text):
    response, gained = post("/api/v1/events", text)

    body = answered_well(response, gained)
    if response.status_code == 200:
        assert gained[Decision] + gained[Outcome] == body["created"]


@bad_input
@given(text=run_bodies)
def test_starting_a_workflow_answers_any_input_without_a_5xx_or_half_a_run(post, invoice_workflow, text):
    response, gained = post("/api/v1/workflows/invoice-payment/runs", text)

    answered_well(response, gained)
    if response.status_code == 201:
        assert (gained[WorkflowRun], gained[StepRun]) == (1, 3)
