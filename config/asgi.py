"""ASGI entry point: Django for HTTP behind admission control (restapi.admission), the live stream for WebSockets,
and the MCP gateway at /mcp/."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402 (needs Django set up first)
from django.conf import settings  # noqa: E402

from dashboard.stream.auth import SessionUserMiddleware  # noqa: E402
from dashboard.stream.routing import websocket_urlpatterns  # noqa: E402
from gateway.server import MCP_PATH, mcp_gateway  # noqa: E402
from restapi.admission import AdmissionControl  # noqa: E402

pages_api_and_stream = AdmissionControl(
    ProtocolTypeRouter(
        {
            "http": django_application,
            "websocket": SessionUserMiddleware(URLRouter(websocket_urlpatterns)),
        }
    ),
    limit=settings.MAX_REQUESTS_IN_FLIGHT,
)
# The app's start-up objects stay out of the collector's full passes (as in config.wsgi).
gc.collect()
gc.freeze()


async def application(scope, receive, send) -> None:
    """The MCP gateway is not admitted through the bound: like a socket, a tool call waiting for a person or an
    upstream holds no database connection, and its database work runs on a few worker threads of its own."""
    if scope["type"] == "http" and scope["path"].rstrip("/") == MCP_PATH:
        await mcp_gateway(scope, receive, send)
    else:
        await pages_api_and_stream(scope, receive, send)
