"""The API's conventions: one error format, cursor pages, per-caller throttling, a body size limit,
personal tokens and the browser session, and an OpenAPI schema with its docs served offline."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from integrations import tokens
from tests.factories import DecisionFactory
from tests.support.api import agent_client, token_client

pytestmark = pytest.mark.django_db


def test_a_validation_error_has_the_one_format_with_field_messages(client_for, world):
    response = client_for("alice").post("/api/v1/strategy", {"cost": 500}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {"cost": ["Ensure this value is less than or equal to 100."]},
    }


def test_a_model_rule_broken_inside_a_service_is_a_field_error_not_a_500(client_for, world):
    # When carol saves a policy whose condition does not compile
    body = {"name": "Broken", "rationale": "r", "effect": "deny", "condition": "amount >"}
    response = client_for("carol").post("/api/v1/policies", body, format="json")

    # Then she is told which field is wrong
    assert response.status_code == 400
    assert "condition" in response.json()["fields"]


def test_a_list_is_paged_by_cursor_without_repeats_or_gaps(client_for, world, finance_agent):
    # Given 7 decisions in all
    DecisionFactory.create_batch(5, agent=finance_agent)
    client = client_for("alice")

    # When alice walks the list three at a time
    seen, url = [], "/api/v1/decisions?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]

    # Then she saw each decision once, newest first
    assert len(seen) == 7
    assert seen == sorted(seen, reverse=True)


def test_a_caller_over_the_rate_is_throttled_with_the_one_format(settings, finance_agent):
    # Given a limit of two requests a minute
    settings.API_THROTTLE_RATE = "2/min"
    cache.clear()
    client = agent_client(finance_agent)

    # When the agent asks three times
    responses = [
        client.post("/api/v1/decisions/evaluate", {"action": "invoice.approve"}, format="json") for _ in range(3)
    ]

    # Then the third is refused with 429, saying when to come back
    assert [response.status_code for response in responses] == [200, 200, 429]
    refused = responses[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json() == {
        "status": 429,
        "code": "throttled",
        "detail": f"Request was throttled. Expected available in {refused['Retry-After']} seconds.",
    }
    cache.clear()


def test_a_caller_far_over_a_lowered_rate_is_still_told_when_to_retry(settings, finance_agent):
    # Given an agent that made three requests, and then a rate lowered to one a minute
    settings.API_THROTTLE_RATE = "3/min"
    cache.clear()
    client = agent_client(finance_agent)
    for _ in range(3):
        client.post("/api/v1/decisions/evaluate", {"action": "invoice.approve"}, format="json")
    settings.API_THROTTLE_RATE = "1/min"

    # When it asks again
    response = client.post("/api/v1/decisions/evaluate", {"action": "invoice.approve"}, format="json")

    # Then it is refused and told to wait until its newest request leaves the window
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    cache.clear()


def test_the_rate_is_counted_per_key(settings, finance_agent, support_agent):
    settings.API_THROTTLE_RATE = "1/min"
    cache.clear()

    first = agent_client(finance_agent).post("/api/v1/decisions/evaluate", {"action": "a.b"}, format="json")
    other = agent_client(support_agent).post("/api/v1/decisions/evaluate", {"action": "a.b"}, format="json")

    assert (first.status_code, other.status_code) == (200, 200)
    cache.clear()


def test_a_body_over_the_size_limit_is_a_413(settings, finance_agent):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = agent_client(finance_agent)

    response = client.post("/api/v1/decisions/evaluate", {"action": "a.b", "resource": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_an_expired_token_is_refused(alice):
    # Given a token whose expiry has passed
    token, raw = tokens.issue_token(alice, "old", expires_at=timezone.now() + dt.timedelta(minutes=1))
    type(token).objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    # When it is used
    response = client.get("/api/v1/departments")

    # Then it is refused with a challenge
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="regent"'


def test_a_revoked_token_is_refused(alice):
    token, raw = tokens.issue_token(alice, "bi", expires_at=timezone.now() + dt.timedelta(days=1))
    tokens.revoke_token(token, by=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert client.get("/api/v1/departments").status_code == 401


def test_a_token_secret_is_stored_only_as_a_digest(alice):
    token, raw = tokens.issue_token(alice, "bi", expires_at=timezone.now() + dt.timedelta(days=1))

    token.refresh_from_db()
    assert raw not in (token.digest, token.prefix) and raw.startswith(token.prefix)


def test_a_token_longer_than_a_year_is_a_field_error(client_for, world):
    body = {"name": "forever", "expires_at": (timezone.now() + dt.timedelta(days=400)).isoformat()}

    response = client_for("alice").post("/api/v1/tokens", body, format="json")

    assert response.status_code == 400
    assert "expires_at" in response.json()["fields"]


def test_a_person_revokes_their_own_token_and_not_anothers(client_for, world, alice, bob):
    # Given a token of alice's and one of bob's
    own, _ = tokens.issue_token(alice, "mine", expires_at=timezone.now() + dt.timedelta(days=1))
    others, _ = tokens.issue_token(bob, "his", expires_at=timezone.now() + dt.timedelta(days=1))
    client = client_for("alice")

    # When alice revokes each
    mine = client.post(f"/api/v1/tokens/{own.pk}/revoke")
    his = client.post(f"/api/v1/tokens/{others.pk}/revoke")

    # Then hers is revoked and bob's does not exist for her
    assert (mine.status_code, his.status_code) == (200, 404)
    others.refresh_from_db()
    assert others.revoked_at is None


def test_the_browser_session_works_and_needs_the_csrf_token_to_write(alice, world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.get("/api/v1/departments").status_code == 200
    assert client.post("/api/v1/strategy", {"cost": 1}, format="json").status_code == 403


def test_the_schema_is_openapi_3(client):
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/decisions/evaluate" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/redoc"])
def test_the_docs_load_their_assets_from_regent_itself(client, path):
    # When the docs page is fetched
    html = client.get(path).content.decode()

    # Then every script and stylesheet it names is served by Regent, none from a CDN
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "https://" not in html.replace("https://github.com", "")


def test_the_docs_assets_are_served(client):
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js").status_code == 200


def test_a_token_acts_with_its_persons_scope(bob, world, finance):
    body = token_client(bob).get("/api/v1/departments").json()

    assert [row["id"] for row in body["results"]] == [finance.pk]


@pytest.mark.parametrize("escaped", ["nul\\u0000inside", "lone \\udc00 surrogate"], ids=["nul", "surrogate"])
def test_text_postgresql_cannot_store_is_a_field_error_not_a_500(finance_agent, escaped):
    # Found by the schema fuzzer: PostgreSQL's jsonb refuses NUL characters and unpaired surrogates
    client = agent_client(finance_agent)
    body = '{"action": "a.b", "context": {"note": "' + escaped + '"}}'

    response = client.post("/api/v1/decisions/evaluate", body, content_type="application/json")

    assert response.status_code == 400
    assert "context" in response.json()["fields"]
