"""Overload is an answer, not an error: when a store cannot serve in time the caller gets a 503 with Retry-After,
in the API's error format under /api/ and as a plain page elsewhere, never a 500 or a traceback."""

from collections.abc import Callable

import psycopg
import pytest
import redis
from django.db import connections
from django.test import RequestFactory
from psycopg_pool import PoolTimeout

from restapi.errors import unavailable_for
from restapi.unavailable import ServiceUnavailableMiddleware
from tests.support.api import agent_client
from tests.support.servers import free_port

EVALUATE = "/api/v1/decisions/evaluate"


def as_django_raises(error: Exception) -> Exception:
    """The exception Django raises for a driver error: its own class, with the driver's error as the cause."""
    try:
        with connections["default"].wrap_database_errors:
            raise error
    except Exception as raised:
        return raised
    raise AssertionError("unreachable")


@pytest.fixture
def database_fails(monkeypatch) -> Callable[[Exception], None]:
    """From now on, every query of this test fails with the given driver error, raised as Django raises it."""

    def fail_with(error: Exception) -> None:
        def ensure_connection(self) -> None:
            raise as_django_raises(error)

        monkeypatch.setattr(type(connections["default"]), "ensure_connection", ensure_connection)

    return fail_with


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (as_django_raises(PoolTimeout("couldn't get a connection after 1.00 sec")), "overloaded"),
        (as_django_raises(psycopg.OperationalError("connection failed: Connection refused")), "unavailable"),
        (as_django_raises(psycopg.InterfaceError("the connection is closed")), "unavailable"),
        (as_django_raises(psycopg.errors.TooManyConnections("too many clients already")), "unavailable"),
        (as_django_raises(psycopg.errors.AdminShutdown("terminating connection")), "unavailable"),
        (as_django_raises(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")), "unavailable"),
        (redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), "unavailable"),
        (redis.TimeoutError("Timeout reading from socket"), "unavailable"),
        (as_django_raises(psycopg.errors.DeadlockDetected("deadlock detected")), None),
        (as_django_raises(psycopg.errors.UniqueViolation("duplicate key value")), None),
        (ValueError("a bug"), None),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_only_a_store_that_cannot_serve_is_answered_503(error, code):
    unavailable = unavailable_for(error)

    assert (unavailable and unavailable.get_codes()) == code


@pytest.mark.django_db
def test_no_free_database_connection_is_a_503_with_retry_after(finance_agent, database_fails):
    # Given an agent, and a pool with no connection free
    client = agent_client(finance_agent)
    database_fails(PoolTimeout("couldn't get a connection after 1.00 sec"))

    # When the agent asks for a decision
    response = client.post(EVALUATE, {"action": "invoice.approve"}, format="json")

    # Then it is told to come back in a second, in the API's error format
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "status": 503,
        "code": "overloaded",
        "detail": "No database connection came free in time.",
    }


@pytest.mark.django_db
def test_an_unreachable_database_is_a_503_with_retry_after(finance_agent, database_fails):
    client = agent_client(finance_agent)
    database_fails(psycopg.OperationalError("connection failed: Connection refused"))

    response = client.post(EVALUATE, {"action": "invoice.approve"}, format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "unavailable"


@pytest.mark.django_db
def test_redis_down_is_a_503_with_retry_after(settings, finance_agent):
    # Given throttle counters kept in a Redis that refuses connections
    client = agent_client(finance_agent)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    # When the agent asks for a decision
    response = client.post(EVALUATE, {"action": "invoice.approve"}, format="json")

    # Then it is told to come back, not given a 500
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "status": 503,
        "code": "unavailable",
        "detail": "Redis cannot be reached or did not answer in time.",
    }


@pytest.mark.django_db
def test_a_page_is_a_plain_503_page_not_a_traceback(settings, client, alice, database_fails):
    # Given alice signed in, DEBUG on, and no database connection to be had
    settings.DEBUG = True
    client.force_login(alice)
    database_fails(PoolTimeout("couldn't get a connection after 1.00 sec"))

    # When she opens the overview
    response = client.get("/")

    # Then she sees a short page asking her to come back, not Django's debug page
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Regent is busy" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_an_api_path_outside_drf_is_answered_in_the_error_format():
    # Given a view under /api/ that is not a DRF view, failing for want of a database connection
    request = RequestFactory().get("/api/v1/somewhere")
    error = as_django_raises(PoolTimeout("couldn't get a connection after 1.00 sec"))

    # When the middleware sees the exception
    response = ServiceUnavailableMiddleware(lambda request: None).process_exception(request, error)

    # Then the answer is the API's JSON 503
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/json"
    assert (
        response.content
        == b'{"status": 503, "code": "overloaded", "detail": "No database connection came free in time."}'
    )


def test_other_errors_are_left_to_django():
    request = RequestFactory().get("/api/v1/somewhere")

    response = ServiceUnavailableMiddleware(lambda request: None).process_exception(request, ValueError("a bug"))

    assert response is None
