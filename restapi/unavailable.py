"""503 with Retry-After, never a traceback, for views outside DRF when a store cannot serve in time.

DRF views are answered by `restapi.errors.handle_exception`; this middleware answers the same failures raised by
any other view: in the API's error format under /api/, as a plain page elsewhere (even with DEBUG on). Errors
raised by other middleware do not reach it (Django turns them into responses where they happen).
"""

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

from restapi.errors import ServiceUnavailable, error_body, unavailable_for

API_PREFIX = "/api/"

logger = logging.getLogger(__name__)


def answer(path: str, unavailable: ServiceUnavailable) -> tuple[str, bytes]:
    """The content type and body of a 503 for `path` (relative to the application's root)."""
    if path.startswith(API_PREFIX):
        body = error_body(unavailable.status_code, unavailable.get_codes(), str(unavailable.detail))
        return "application/json", json.dumps(body).encode()
    return "text/html; charset=utf-8", render_to_string("503.html", {"detail": unavailable.detail}).encode()


def unavailable_response(path: str, unavailable: ServiceUnavailable) -> HttpResponse:
    content_type, body = answer(path, unavailable)
    return HttpResponse(
        body, status=unavailable.status_code, content_type=content_type, headers={"Retry-After": str(unavailable.wait)}
    )


class ServiceUnavailableMiddleware(MiddlewareMixin):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        unavailable = unavailable_for(exception)
        if unavailable is None:
            return None
        logger.warning("answering 503 (%s): %s: %s", unavailable.get_codes(), type(exception).__name__, exception)
        return unavailable_response(request.path_info, unavailable)
