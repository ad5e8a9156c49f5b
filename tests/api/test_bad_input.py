"""Bad input never reaches the database as a 500: a body over the size limit is a 413 in the API's one
error format, and one at the limit is read."""

import json

import pytest

from audit.models import AuditEvent
from governance.models import Decision
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
