"""Who opened a socket, from the session cookie, read once when it connects.

Channels' AuthMiddlewareStack also wraps `send` to save the session after every frame, which costs
about 3 µs a frame for a stream that never writes the session; this reads the user once instead.

When the session cannot be read because a store cannot serve (the database is down, or no pooled connection
came free: `restapi.errors.unavailable_for`), the user is left unknown and the reason put in the scope under
`unavailable`: the consumer then refuses the socket with "try again later" instead of the server answering
the handshake with a 500.
"""

from http.cookies import SimpleCookie
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections

from restapi.errors import unavailable_for


def user_for_session(session_key: str | None):
    if not session_key:
        return AnonymousUser()
    close_old_connections()
    try:
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return get_user(SimpleNamespace(session=session))
    finally:
        close_old_connections()


class SessionUserMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        cookie = dict(scope.get("headers", [])).get(b"cookie", b"").decode("latin-1")
        morsel = SimpleCookie(cookie).get(settings.SESSION_COOKIE_NAME)
        try:
            user = await sync_to_async(user_for_session, thread_sensitive=False)(morsel.value if morsel else None)
        except Exception as exc:
            if unavailable_for(exc) is None:
                raise
            return await self.app({**scope, "user": AnonymousUser(), "unavailable": exc}, receive, send)
        return await self.app({**scope, "user": user}, receive, send)
