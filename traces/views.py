"""`POST /v1/traces`: OTLP/HTTP trace export, authenticated by the agent's API key.

Answers as the OTLP specification asks: 200 with an ExportTraceServiceResponse (a partial success names spans
refused), 400 for a body that is not an export (never retried), 401 for a missing or revoked key, 413 for a body
over API_MAX_BODY_BYTES (compressed or not), 415 for another media type, 429 and 503 with Retry-After (the API's
rate limit; overload or a store down), which exporters retry. Errors carry a google.rpc.Status in the request's
format.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from orchestration.api.authentication import AgentKeyAuthentication, IsAgent
from restapi.errors import RETRY_AFTER_SECONDS, unavailable_for
from traces import otlp
from traces.ingest import ingest


class TraceExportView(APIView):
    authentication_classes = [AgentKeyAuthentication]
    permission_classes = [IsAgent]
    parser_classes = []  # the body is read as bytes: protobuf or OTLP's JSON, which DRF's parsers do not know
    schema = None  # OTLP's, not Regent's API: documented in docs/traces.md

    def post(self, request: Request) -> HttpResponse:
        kind = self._kind(request)
        if kind is None:
            return _answer(otlp.JSON, 415, "Send application/x-protobuf or application/json.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            body = otlp.decompress(request.body, request.headers.get("Content-Encoding", ""), limit)
            export = otlp.parse(body, kind)
        except otlp.TooLarge as exc:
            return _answer(kind, 413, str(exc))
        except otlp.BadRequest as exc:
            return _answer(kind, 400, str(exc))
        received = ingest(request.auth, export)
        return HttpResponse(otlp.success(kind, received.rejected, received.message), content_type=kind)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        kind = self._kind(self.request) or otlp.JSON
        if isinstance(exc, RequestDataTooBig):
            return _answer(kind, 413, f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = _answer(kind, 401, "Send the agent's API key: Authorization: Bearer rgt_….")
            response["WWW-Authenticate"] = AgentKeyAuthentication().authenticate_header(self.request)
            return response
        if isinstance(exc, exceptions.PermissionDenied):
            return _answer(kind, 403, str(exc.detail))
        if isinstance(exc, exceptions.Throttled):
            response = _answer(kind, 429, "Too many exports from this agent; retry after the given seconds.")
            response["Retry-After"] = str(int(exc.wait or RETRY_AFTER_SECONDS))
            return response
        unavailable = unavailable_for(exc)
        if unavailable is not None:
            response = _answer(kind, 503, str(unavailable.detail))
            response["Retry-After"] = str(unavailable.wait)
            return response
        return super().handle_exception(exc)

    @staticmethod
    def _kind(request) -> str | None:
        return otlp.media_type(request.headers.get("Content-Type", ""))


def _answer(kind: str, status_code: int, message: str) -> HttpResponse:
    return HttpResponse(otlp.status(kind, status_code, message), status=status_code, content_type=kind)
