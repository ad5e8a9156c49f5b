"""One error format for the whole API.

    {"status": 400, "code": "invalid", "detail": "Some fields are not valid.",
     "fields": {"amount": ["Ensure this value is greater than or equal to 0."]}}

`fields` appears only for validation errors; errors not tied to a field are under "non_field_errors".
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from restapi.domain_errors import DomainError


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


def error_response(status_code: int, code: str, detail: str, *, fields: dict | None = None, **extra) -> Response:
    """An error in the API's one format, for views that answer with an error they did not raise."""
    body = {"status": status_code, "code": code, "detail": detail, **extra}
    if fields is not None:
        body["fields"] = fields
    return Response(body, status=status_code)


def handle_exception(exc: Exception, context: dict) -> Response | None:
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
