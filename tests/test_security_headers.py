"""Every response carries the Content-Security-Policy (config/csp.py, django-csp): scripts from this origin only,
never inline; the stream's port added when it is served apart; the API docs' two extra sources on theirs only."""

import pytest

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize(
    "path", ["/", "/decisions/", "/accounts/login/", "/admin/login/", "/api/v1/agents", "/api/v1/docs", "/nowhere"]
)
def test_every_kind_of_response_allows_scripts_from_this_origin_only(client, alice, path):
    client.force_login(alice)
    policy = directives(client.get(path))
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["connect-src"] == ["'self'"]


def test_with_the_stream_on_its_own_port_pages_may_connect_to_it_on_the_host_they_came_to(client, alice, settings):
    settings.STREAM_PORT = "8001"
    settings.ALLOWED_HOSTS = ["regent.example.com"]
    client.force_login(alice)
    policy = directives(client.get("/", HTTP_HOST="regent.example.com:8000"))
    assert policy["connect-src"] == ["'self'", "ws://regent.example.com:8001", "wss://regent.example.com:8001"]


def test_only_the_api_docs_may_start_a_worker_from_a_blob(client, alice):
    client.force_login(alice)
    assert directives(client.get("/api/v1/redoc"))["worker-src"] == ["'self'", "blob:"]
    assert "worker-src" not in directives(client.get("/"))
