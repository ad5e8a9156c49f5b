"""ASGI entry point: Django for HTTP, the live stream for WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 (needs Django set up first)

from dashboard.stream.auth import SessionUserMiddleware  # noqa: E402
from dashboard.stream.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": SessionUserMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
