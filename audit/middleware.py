"""Who is acting, for audit events recorded during a request without an explicit actor.

Some changes are recorded from signals that do not know the request (a role given in the admin arrives
as an m2m signal). The request is kept in a context variable for the duration of the request;
`audit.chain.record` reads its user only when an event names no actor.

The request, not `request.user`: under ASGI, asgiref compares context values when it hops between the
event loop and a sync thread, and comparing the lazy user loads it from the database inside the loop
(SynchronousOnlyOperation on every signed-in page).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.chain import acting_request


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = acting_request.set(request)
        try:
            return self.get_response(request)
        finally:
            acting_request.reset(token)
