"""One error format for the whole API.

    {"status": 400, "code": "invalid", "detail": "Some fields are not valid.",
     "fields": {"amount": ["Ensure this value is greater than or equal to 0."]}}

`fields` appears only for validation errors; errors not tied to a field are under "non_field_errors".
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from restapi.domain_errors import DomainError


def error_response(status_code: int, code: str, detail: str, *, fields: dict | None = None, **extra) -> Response:
    """An error in the API's one format, for views that answer with an error they did not raise."""
    body = {"status": status_code, "code": code, "detail": detail, **extra}
    if fields is not None:
        body["fields"] = fields
    return Response(body, status=status_code)


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
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_response(response.status_code, "invalid", "Some fields are not valid.", fields=fields).data
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = error_response(response.status_code, code if isinstance(code, str) else "error", str(detail)).data
    response.data = body
    return response
