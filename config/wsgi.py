"""WSGI entry point: Django for HTTP (the API, pages, admin) behind admission control (restapi.admission).

The Procfile serves this with gunicorn's threaded workers, which make more decisions per second than Django
under ASGI on the same cores (bench/serving.py, docs/deployment.md); WebSockets stay on config.asgi.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from restapi.admission import WsgiAdmissionControl  # noqa: E402

application = WsgiAdmissionControl(django_application, limit=settings.MAX_REQUESTS_IN_FLIGHT)
