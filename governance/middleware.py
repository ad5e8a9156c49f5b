"""Who is acting, for audit events recorded during a request without an explicit actor.

Some changes are recorded from signals that do not know the request (a role given in the admin arrives
as an m2m signal). The request's user is kept in a context variable for the duration of the request;
`governance.audit.record` reads it only when an event names no actor, so the lazy user is resolved
only then.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from governance.audit import acting_user


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = acting_user.set(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            acting_user.reset(token)
