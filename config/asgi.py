"""ASGI entry point: Django for HTTP behind admission control (restapi.admission), the live stream for WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 (needs Django set up first)
from django.conf import settings  # noqa: E402

from dashboard.stream.auth import SessionUserMiddleware  # noqa: E402
from dashboard.stream.routing import websocket_urlpatterns  # noqa: E402
from restapi.admission import AdmissionControl  # noqa: E402

application = AdmissionControl(
    ProtocolTypeRouter(
        {
            "http": django_application,
            "websocket": SessionUserMiddleware(URLRouter(websocket_urlpatterns)),
        }
    ),
    limit=settings.MAX_REQUESTS_IN_FLIGHT,
)
