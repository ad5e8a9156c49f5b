"""One error format for the whole API.

    {"status": 400, "code": "invalid", "detail": "Some fields are not valid.",
     "fields": {"amount": ["Ensure this value is greater than or equal to 0."]}}

`fields` appears only for validation errors; errors not tied to a field are under "non_field_errors".

Overload is an answer, not an error: when a store Regent needs cannot serve in time (no pooled database connection
came free, the database or Redis is unreachable), the caller gets a 503 in this format with `Retry-After`.
"""

import logging

import psycopg
import redis
from django import db
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from psycopg_pool import PoolTimeout
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from restapi.domain_errors import DomainError

logger = logging.getLogger(__name__)


# Overload passes in about a second: an admitted request takes milliseconds, a pool wait at most DB_POOL_TIMEOUT.
RETRY_AFTER_SECONDS = 1
# SQLSTATE classes that mean the database cannot take work now: connection exception, insufficient resources
# (too many connections), operator intervention (shutting down, starting up, a query cancelled by a timeout).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


class ServiceUnavailable(exceptions.APIException):
    """This process cannot serve the request now; the caller should retry after `wait` seconds."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = "Regent cannot serve this request now."

    def __init__(self, detail: str, code: str, wait: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(detail, code)
        self.wait = wait  # DRF's handler sends it as Retry-After


def error_body(status_code: int, code: str, detail: str, *, fields: dict | None = None, **extra) -> dict:
    body = {"status": status_code, "code": code, "detail": detail, **extra}
    if fields is not None:
        body["fields"] = fields
    return body


def error_response(status_code: int, code: str, detail: str, *, fields: dict | None = None, **extra) -> Response:
    """An error in the API's one format, for views that answer with an error they did not raise."""
    return Response(error_body(status_code, code, detail, fields=fields, **extra), status=status_code)


def unavailable_for(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 to answer when `exc` says a store could not serve in time; None for every other error.

    Django raises its own OperationalError and InterfaceError from psycopg's, which stay as the cause.
    """
    cause = exc.__cause__ if isinstance(exc, db.OperationalError | db.InterfaceError) else exc
    if isinstance(cause, PoolTimeout):
        return ServiceUnavailable("No database connection came free in time.", "overloaded")
    if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError) and (
        cause.sqlstate is None or cause.sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES
    ):
        return ServiceUnavailable("The database cannot be reached or cannot take work now.", "unavailable")
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return ServiceUnavailable("Redis cannot be reached or did not answer in time.", "unavailable")
    return None


def too_large() -> Response:
    """Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF reads it: an HTML 400 left to itself."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = f"The request body is larger than the limit of {limit:,} bytes ({limit / 2**20:.3g} MiB)."
    return error_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large", detail, max_bytes=limit)


def handle_exception(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return too_large()
    if isinstance(exc, DomainError):
        if exc.field:
            return error_response(400, "invalid", "Some fields are not valid.", fields={exc.field: [str(exc)]})
        return error_response(exc.status_code, exc.code, str(exc), **exc.extra())
    if isinstance(exc, DjangoValidationError):  # raised by model validation inside a service
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if unavailable := unavailable_for(exc):
        logger.warning("answering 503 (%s): %s: %s", unavailable.get_codes(), type(exc).__name__, exc)
        exc = unavailable
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(response.status_code, "invalid", "Some fields are not valid.", fields=fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = error_body(response.status_code, code if isinstance(code, str) else "error", str(detail))
    response.data = body
    return response
