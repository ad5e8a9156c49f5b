"""Swagger UI and Redoc, served from Regent's own files and kept there by the browser itself.

Both pages run under the site's Content-Security-Policy (config/csp.py): no inline script, so Swagger UI is
drf-spectacular's split view, which loads its start-up script as a file. Redoc parses the schema in a worker it
makes from a blob: URL, and embeds its fonts as data: URLs; those two sources are added for these pages only.
Redoc's bundle still names one image on its vendor's CDN (the "API docs by Redocly" logo, unconditionally);
under the policy the browser never requests it, and Redoc drops the image when it fails to load.
"""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

DOCS_SOURCES = {"worker-src": ["'self'", "blob:"], "font-src": ["data:"]}


class _LocalOnly:
    schema = None  # pages about the API, not operations of it


@method_decorator(csp_update(DOCS_SOURCES), name="get")
class SwaggerView(_LocalOnly, SpectacularSwaggerSplitView):
    pass


@method_decorator(csp_update(DOCS_SOURCES), name="get")
class RedocView(_LocalOnly, SpectacularRedocView):
    template_name = "integrations/redoc.html"
