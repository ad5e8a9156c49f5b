"""Swagger UI and Redoc, served from Regent's own files and kept there by the browser itself.

Both pages carry a Content-Security-Policy that allows only this origin (plus the inline styles and
scripts the two UIs are built with, and data: images). Redoc's bundle still names one image on its
vendor's CDN (the "API docs by Redocly" logo, unconditionally); under this policy the browser never
requests it, and Redoc drops the image when it fails to load.
"""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    ]
)


class _LocalOnly:
    schema = None  # pages about the API, not operations of it

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class SwaggerView(_LocalOnly, SpectacularSwaggerView):
    pass


class RedocView(_LocalOnly, SpectacularRedocView):
    template_name = "integrations/redoc.html"
