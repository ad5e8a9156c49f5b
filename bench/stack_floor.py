"""The stack floor for bench/serving.py: a bare Django + DRF endpoint doing one INSERT + COMMIT, no auth, no
middleware, as WSGI and as ASGI; and the same work as an async Django view on an async psycopg pool.

`threaded_application` is the WSGI handler run by an ASGI server in a thread pool (bench/threaded_wsgi.py).
Serve it with any server: `uvicorn bench.stack_floor:asgi_application`, `gunicorn bench.stack_floor:wsgi_application`,
`granian --interface wsgi bench.stack_floor:wsgi_application`. FLOOR_DATABASE_URL names the database (its table
`bench_floor` must exist); the Django pool is PostgreSQL's psycopg pool, as Regent's.
"""

import json
import os

import django
from django.conf import settings

DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/regent_bench_serving")
INSERT = "INSERT INTO bench_floor (payload) VALUES (%s) RETURNING id"

if not settings.configured:
    import dj_database_url

    database = dj_database_url.parse(DATABASE_URL)
    database["OPTIONS"] = {"pool": {"min_size": 1, "max_size": int(os.environ.get("FLOOR_POOL_MAX", "8"))}}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-stack-floor-not-secret",  # noqa: S106 (a loopback benchmark)
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["rest_framework"],
        MIDDLEWARE=[],
        DATABASES={"default": database},
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
            "UNAUTHENTICATED_USER": None,
        },
        USE_TZ=True,
    )
    django.setup()

from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class InsertView(APIView):
    """DRF parses the JSON body, one INSERT commits (autocommit), DRF renders the id."""

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [json.dumps(request.data)])
            (row_id,) = cursor.fetchone()
        return Response({"id": row_id})


_pool: AsyncConnectionPool | None = None


async def insert_async(request: HttpRequest) -> JsonResponse:
    """The same work with no thread hop: an async view on a pool opened in the server's event loop."""
    global _pool
    if _pool is None:
        _pool = AsyncConnectionPool(DATABASE_URL, min_size=1, max_size=8, open=False)
        await _pool.open()
    payload = json.dumps(json.loads(request.body))
    async with _pool.connection() as conn:
        row = await (await conn.execute(INSERT, [payload])).fetchone()
    return JsonResponse({"id": row[0]})


urlpatterns = [path("insert", InsertView.as_view()), path("insert-async", insert_async)]

from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from bench.threaded_wsgi import ThreadedWsgi  # noqa: E402

asgi_application = get_asgi_application()
wsgi_application = get_wsgi_application()
threaded_application = ThreadedWsgi(wsgi_application, threads=int(os.environ.get("FLOOR_THREADS", "8")))
