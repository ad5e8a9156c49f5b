"""Bad input never reaches the database as a 500: a body over the size limit is a 413 in the API's one
error format and one under it is read; numbers JSON cannot store and bodies nested too deep are field
errors, for every endpoint, and nothing is written."""

import json

import pytest

from audit.models import AuditEvent
from governance.models import Decision, Policy
from restapi.parsers import MAX_DEPTH, NOT_FINITE, TOO_DEEP
from tests.support.api import agent_client, token_client
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/decisions/evaluate"
MiB = 1024 * 1024


def post_text(client, url: str, text: str, **headers):
    """POST a body exactly as written."""
    return client.generic("POST", url, text, content_type="application/json", **headers)


def rows() -> tuple[int, int, int]:
    return Decision.objects.count(), WorkflowRun.objects.count(), AuditEvent.objects.count()


def test_a_3_mb_ingest_batch_is_read_and_recorded(finance_agent):
    # Given 1,000 decisions, each with a context of 3 KB: a 3 MB body, under the 4 MiB limit
    items = [
        {
            "type": "decision",
            "idempotency_key": f"erp-{index}",
            "action": "invoice.approve",
            "verdict": "allow",
            "context": {"note": "x" * 2_900},
        }
        for index in range(1_000)
    ]
    body = json.dumps({"items": items})
    assert 3_000_000 < len(body) < 4 * MiB

    # When the agent sends it
    response = post_text(agent_client(finance_agent), "/api/v1/events", body)

    # Then every decision is recorded
    assert response.status_code == 200, response.content[:500]
    assert response.json()["created"] == 1_000


def test_a_10_mb_body_is_a_json_413_naming_the_limit(finance_agent):
    # Given nothing recorded yet
    before = rows()

    # When an agent sends a 10 MB body
    response = post_text(agent_client(finance_agent), EVALUATE, json.dumps({"action": "a.b", "resource": "x" * 10**7}))

    # Then it is told the limit, in the API's error format, and nothing is recorded
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 413,
        "code": "too_large",
        "detail": "The request body is larger than the limit of 4,194,304 bytes (4 MiB).",
        "max_bytes": 4 * MiB,
    }
    assert rows() == before


def test_a_body_over_the_limit_asked_for_as_html_is_still_the_413(bob, world):
    # When bob's browser, asking for HTML, sends a body over the limit to an endpoint for people
    body = json.dumps({"reason": "x" * 5 * MiB})
    response = post_text(
        token_client(bob), f"/api/v1/decisions/{world.decision.pk}/override", body, HTTP_ACCEPT="text/html"
    )

    # Then the browsable API shows the 413, not Django's HTML 400
    assert response.status_code == 413
    assert b"too_large" in response.content


@pytest.mark.parametrize("number", ["1e309", "-1e309", "NaN", "Infinity", "-Infinity"])
def test_a_number_json_cannot_store_is_a_field_error_where_it_stands(finance_agent, number):
    # Given an agent and nothing recorded yet
    client, before = agent_client(finance_agent), rows()

    # When it asks with a context holding a number PostgreSQL's JSON refuses
    response = post_text(client, EVALUATE, f'{{"action": "invoice.approve", "context": {{"n": {number}}}}}')

    # Then it is told which value, and nothing is recorded
    assert response.status_code == 400
    assert response.json()["fields"] == {"context": {"n": [NOT_FINITE]}}
    assert rows() == before


def test_a_number_in_a_list_is_named_by_its_index(finance_agent):
    response = post_text(agent_client(finance_agent), EVALUATE, '{"action": "a.b", "context": {"n": [1, 2.5, 1e999]}}')

    assert response.status_code == 400
    assert response.json()["fields"] == {"context": {"n": {"2": [NOT_FINITE]}}}


def test_objects_nested_5000_deep_are_refused_without_recursing(finance_agent):
    # Given a context of objects nested 5,000 deep
    deep = '{"a": ' * 5000 + "1" + "}" * 5000
    before = rows()

    # When an agent sends it
    response = post_text(agent_client(finance_agent), EVALUATE, f'{{"action": "a.b", "context": {deep}}}')

    # Then the context is refused for its depth and nothing is recorded
    assert response.status_code == 400
    assert response.json()["fields"] == {"context": [TOO_DEEP]}
    assert rows() == before


def test_lists_nested_100000_deep_are_refused_without_recursing(finance_agent):
    deep = "[" * 100_000 + "]" * 100_000

    response = post_text(agent_client(finance_agent), EVALUATE, f'{{"action": "a.b", "context": {{"l": {deep}}}}}')

    assert response.status_code == 400
    assert response.json()["fields"] == {"context": [TOO_DEEP]}


@pytest.mark.parametrize(("lists", "status"), [(MAX_DEPTH - 2, 200), (MAX_DEPTH - 1, 400)])
def test_a_body_as_deep_as_the_limit_is_read_and_one_level_more_is_not(finance_agent, lists, status):
    # Given lists nested in the context, itself in the body: the innermost at level lists + 2
    nested = "[" * lists + "]" * lists
    text = f'{{"action": "a.b", "context": {{"l": {nested}}}}}'

    response = post_text(agent_client(finance_agent), EVALUATE, text)

    assert response.status_code == status, response.json()


def test_brackets_inside_strings_do_not_count_as_nesting(finance_agent):
    body = {"action": "a.b", "context": {"note": "[{" * 1000, "quote": '\\"[[[['}}

    response = post_text(agent_client(finance_agent), EVALUATE, json.dumps(body))

    assert response.status_code == 200, response.json()


def test_a_body_that_is_too_deep_but_not_an_object_is_a_non_field_error(finance_agent):
    response = post_text(agent_client(finance_agent), EVALUATE, "[" * 40 + "]" * 40)

    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": [TOO_DEEP]}


def test_a_workflow_input_of_1e309_starts_no_run(finance_agent, invoice_workflow):
    # Given the invoice workflow, whose pay step spends the input's amount
    before = rows()

    # When an agent starts it with an amount no JSON column can store
    response = post_text(
        agent_client(finance_agent), "/api/v1/workflows/invoice-payment/runs", '{"input": {"amount": 1e309}}'
    )

    # Then the amount is the field in error and no run exists
    assert response.status_code == 400
    assert response.json()["fields"] == {"input": {"amount": [NOT_FINITE]}}
    assert rows() == before


def test_a_body_that_is_not_json_is_a_parse_error(finance_agent):
    response = post_text(agent_client(finance_agent), EVALUATE, '{"action": ')

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


RUNS = "/api/v1/workflows/invoice-payment/runs"


def test_a_workflow_amount_that_is_not_a_number_starts_no_run(finance_agent, invoice_workflow):
    # Given the invoice workflow, whose pay step spends the input's amount
    before = rows()

    # When an agent starts it with an amount of "lots"
    response = agent_client(finance_agent).post(RUNS, {"input": {"amount": "lots"}}, format="json")

    # Then the amount is the field in error and no run exists
    assert response.status_code == 400
    assert response.json()["fields"] == {"input": {"amount": ["A valid number is required."]}}
    assert rows() == before


@pytest.mark.parametrize(
    ("run_input", "field"),
    [
        ({"amount": -5}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": [1200]}, "amount"),
        ({"amount": 12.345}, "amount"),
        ({"amount": 10**20}, "amount"),
        ({"amount": 1200, "currency": "euro"}, "currency"),
        ({"amount": 1200, "currency": ""}, "currency"),
    ],
)
def test_a_workflow_input_its_steps_could_not_record_is_a_field_error(
    finance_agent, invoice_workflow, run_input, field
):
    response = agent_client(finance_agent).post(RUNS, {"input": run_input}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]["input"]) == [field]
    assert not WorkflowRun.objects.exists()


@pytest.mark.parametrize(
    "run_input",
    [{}, {"amount": None}, {"amount": 1200}, {"amount": "1200.50", "currency": "USD"}, {"vendor": ["any", "shape"]}],
)
def test_a_workflow_input_without_an_amount_or_with_a_valid_one_starts_a_run(
    finance_agent, invoice_workflow, run_input
):
    # Steps read no amount when there is none (runtime._request_for), and a number given as text, as a
    # delegated task passes it
    response = agent_client(finance_agent).post(RUNS, {"input": run_input}, format="json")

    assert response.status_code == 201, response.json()
    assert WorkflowRun.objects.get().input == run_input


def test_a_workflow_whose_steps_read_no_amount_takes_any_input(finance_agent, reply_workflow):
    response = agent_client(finance_agent).post(
        "/api/v1/workflows/ticket-reply/runs", {"input": {"amount": "lots", "currency": 7}}, format="json"
    )

    assert response.status_code == 201


def test_an_ingested_number_json_cannot_store_refuses_the_batch_naming_the_item(finance_agent):
    # Given a batch whose second decision has a context of 1e309
    item = '{"type": "decision", "idempotency_key": "k%d", "action": "a.b", "verdict": "allow", "context": %s}'
    items = [item % (index, context) for index, context in enumerate(['{"n": 1}', '{"n": 1e309}'])]
    before = rows()

    # When the agent sends it
    response = post_text(agent_client(finance_agent), "/api/v1/events", f'{{"items": [{", ".join(items)}]}}')

    # Then the batch is refused, naming the item and the value, and nothing is recorded
    assert response.status_code == 400
    assert response.json()["fields"] == {"items": {"1": {"context": {"n": [NOT_FINITE]}}}}
    assert rows() == before


@pytest.mark.parametrize("kind", [["decision"], {"decision": 1}, 7, None])
def test_an_ingested_item_whose_type_is_not_text_is_an_invalid_item(finance_agent, kind):
    body = {"items": [{"type": kind, "idempotency_key": "k", "action": "a.b", "verdict": "allow"}]}

    response = agent_client(finance_agent).post("/api/v1/events", body, format="json")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {"index": 0, "status": "invalid", "id": None, "errors": {"type": ['Use "decision" or "outcome".']}}
    ]


def test_a_nul_character_in_a_capability_is_a_field_error_and_writes_no_policy(carol):
    # Given a Policy Admin; PostgreSQL cannot even compare text that holds a NUL character
    body = {
        "name": "Cap",
        "effect": "deny",
        "actions": "invoice.*",
        "rationale": "Why",
        "capabilities": ["pay\u0000ments"],
    }

    # When one is sent as a capability of a new policy
    response = token_client(carol).post("/api/v1/policies", body, format="json")

    # Then it is a 400 naming the field, not a 500, and no policy is written
    assert response.status_code == 400
    assert response.json()["fields"] == {"capabilities": ["Null characters are not allowed."]}
    assert not Policy.objects.exists()
