"""Schemathesis against the OpenAPI schema: no 5xx, and every documented response matches the schema.

A bounded fuzzing phase (FUZZ_EXAMPLES per operation, default 10) with a fixed seed: minutes at most in CI,
and the same from run to run. People's endpoints are called as carol (Policy Admin, who may write most
things) with a personal token; the agents' endpoints with the Finance agent's key.
"""

import json
import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONOpenAPIRenderer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.support.api import agent_client, token_client

AGENT_PATHS = {"/api/v1/decisions/evaluate", "/api/v1/outcomes", "/api/v1/events", "/api/v1/steps/{step_id}/delegate"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


def load_schema() -> schemathesis.schemas.BaseSchema:
    """The schema as /api/v1/schema serves it, called in process through Django's WSGI handler."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    config = SchemathesisConfig.from_dict(
        {"seed": 9, "phases": {"coverage": {"enabled": False}}, "generation": {"max-examples": EXAMPLES}}
    )  # the coverage phase enumerates every case the schema allows: unbounded time; fuzzing is bounded
    loaded = schemathesis.openapi.from_dict(json.loads(JSONOpenAPIRenderer().render(raw)), config=config)
    loaded.app = get_wsgi_application()
    return loaded


schema = load_schema()
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Requests share the test's connection and transaction, as with Django's test client."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db, in_test_transaction, settings, world, carol) -> dict[str, dict[str, str]]:
    settings.API_THROTTLE_RATE = "100000/min"
    return {
        "agent": {"Authorization": agent_client(world.finance_agent)._credentials["HTTP_AUTHORIZATION"]},
        "person": {"Authorization": token_client(carol)._credentials["HTTP_AUTHORIZATION"]},
    }


def fuzzed_cases(operation: APIOperation) -> st.SearchStrategy:
    """Requests the schema allows (positive) and ones it forbids (negative), as schemathesis's fuzzing phase makes."""
    return st.one_of(
        *(operation.as_strategy(generation_mode=mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    )


# One test per operation, named by it. Not schema.parametrize(): under pytest 9 its items share one node id,
# and pytest-xdist, which schedules by node id, then runs one operation of the 74.
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
@given(data=st.data())
@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@seed(9)
def test_no_request_breaks_the_api_or_its_schema(operation: APIOperation, credentials, data):
    case = data.draw(fuzzed_cases(operation))
    headers = credentials["agent" if operation.path in AGENT_PATHS else "person"]
    case.call_and_validate(
        headers=headers, checks=[not_a_server_error, content_type_conformance, response_schema_conformance]
    )
