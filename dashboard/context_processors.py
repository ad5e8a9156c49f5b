from django.conf import settings
from django.http import HttpRequest

from dashboard.navigation import items_for, role_label


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": items_for(user), "role_label": role_label(user)}


def live_stream(request: HttpRequest) -> dict:
    """Where pages open the live stream's socket (static/js/stream.js): settings.STREAM_PORT, or the page's own."""
    return {"stream_port": settings.STREAM_PORT}
