"""The board pack's PDF: the printable page's HTML, printed by WeasyPrint.

WeasyPrint fetches what the HTML links to (the stylesheet); it is given a fetcher that serves only
this project's static files from disk, so rendering never reaches the network, and the fonts are the
machine's own (fontconfig; DejaVu on Debian). With DEBUG off the page links hashed names
(`css/board.<hash>.css`, the manifest storage's): the file is read where collectstatic put it, or, when it
has not run, found under its own name.
"""

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

PDF_ORIGIN = "https://regent.invalid"  # never contacted: the fetcher answers from disk
CONTENT_TYPES = {"css": "text/css", "svg": "image/svg+xml", "png": "image/png", "woff2": "font/woff2"}


class NotAStaticFile(ValueError):
    pass


def static_file(url: str) -> tuple[bytes, str]:
    """A static file of ours, read from disk, and its content type; any other URL is refused."""
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.lstrip("/")
    ours = f"{parts.scheme}://{parts.netloc}" == PDF_ORIGIN and parts.path.startswith(prefix)
    if not ours or ".." in parts.path.split("/"):
        raise NotAStaticFile(f"The board pack fetches only its own static files, not {url}")
    found = _on_disk(parts.path.removeprefix(prefix))
    if not found:
        raise NotAStaticFile(f"No static file at {parts.path}")
    with open(found, "rb") as file:
        body = file.read()
    return body, CONTENT_TYPES.get(parts.path.rsplit(".", 1)[-1], "application/octet-stream")


def _on_disk(name: str) -> str | None:
    """The file a static URL's name stands for: collected (hashed or not), else the source under its own name."""
    try:
        collected = Path(staticfiles_storage.path(name))
    except NotImplementedError:  # a storage off the local disk: only the finders can say
        collected = None
    if collected is not None and collected.is_file():
        return str(collected)
    unhashed = {hashed: original for original, hashed in getattr(staticfiles_storage, "hashed_files", {}).items()}
    return finders.find(unhashed.get(name, name))


def render_pdf(html: str) -> bytes:
    """The PDF of a page whose links are root-relative (`/static/…`), as Django's templates write them."""
    from weasyprint import HTML  # imported on first use: it loads Pango, which only the PDF needs

    return HTML(string=html, base_url=PDF_ORIGIN + "/", url_fetcher=_fetcher()).write_pdf()


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url: str, headers=None) -> URLFetcherResponse:
            body, content_type = static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticFilesOnly()
