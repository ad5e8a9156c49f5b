"""Static files are served by the app itself, in the demo's mode and in production's."""

import subprocess
import sys
import urllib.request

import pytest

from tests.support.servers import PROJECT_ROOT, StartServer

pytestmark = pytest.mark.processes
PRODUCTION = {"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false"}


def fetch(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.status, response.read(), response.headers.get("Cache-Control", "")


def test_the_demo_mode_serves_static_files_without_collectstatic(start_server: StartServer, sqlite_url: str) -> None:
    server = start_server(DATABASE_URL=sqlite_url)

    status, body, _ = fetch(f"{server}/static/css/regent.css")

    assert status == 200
    assert body == (PROJECT_ROOT / "static/css/regent.css").read_bytes()


def test_production_serves_collected_files_with_hashed_names_and_long_caching(
    start_server: StartServer, sqlite_url: str, tmp_path
) -> None:
    static_root = tmp_path / "collected"
    settings = {
        **PRODUCTION,
        "DATABASE_URL": sqlite_url,
        "STATIC_ROOT": str(static_root),
        "WHITENOISE_USE_FINDERS": "false",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **settings},
        check=True,
    )
    hashed = next(static_root.glob("css/regent.*.css")).name
    server = start_server(**settings)

    status, body, cache_control = fetch(f"{server}/static/css/{hashed}")

    assert status == 200
    assert body == (PROJECT_ROOT / "static/css/regent.css").read_bytes()
    assert "immutable" in cache_control
