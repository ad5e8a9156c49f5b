"""WSGI entry point: Django for HTTP (the API, pages, admin) behind admission control (restapi.admission).

The Procfile serves this with gunicorn's threaded workers, which make more decisions per second than Django
under ASGI on the same cores (bench/serving.py, docs/deployment.md); WebSockets stay on config.asgi.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from restapi.admission import WsgiAdmissionControl  # noqa: E402

application = WsgiAdmissionControl(django_application, limit=settings.MAX_REQUESTS_IN_FLIGHT)

# What the app holds from its start on (about 200,000 objects) stays out of the collector's full passes, which walked
# it all mid-request: 132 ms once every few dozen exports of 512 spans (bench/span_ingest.py).
gc.collect()
gc.freeze()
