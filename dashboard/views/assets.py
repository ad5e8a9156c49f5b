from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages (like the admin's) that do not name an icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
