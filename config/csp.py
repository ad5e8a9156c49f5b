"""The Content-Security-Policy of every response (django-csp), and the one thing it cannot know in advance.

Pages open the live stream's socket on their own origin, which 'self' allows, or, with STREAM_PORT set (the
Procfile's stream process), on the same host at that port: another origin, added here for the host the
request came to. No script runs inline anywhere, so script-src is 'self' alone.
"""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.http.request import split_domain_port


class StreamPortCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if settings.STREAM_PORT and not report_only:
            host, _ = split_domain_port(request.get_host())
            sockets = [f"{scheme}://{host}:{settings.STREAM_PORT}" for scheme in ("ws", "wss")]
            update = dict(parts.update or {})
            update["connect-src"] = [*update.get("connect-src", []), *sockets]
            parts.update = update
        return parts
