"""Signed-in pages under a plain uvicorn process, as production serves them.

The browser tests lift Django's async-safety check for their own process (see tests/browser/);
a server started here runs without that, so a lazy database read inside the event loop fails here as it
would in production.
"""

import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from orchestration.roles import Role
from tests.factories import UserFactory
from tests.support.servers import StartServer

pytestmark = pytest.mark.processes
PAGES = ["/", "/risk/", "/decisions/", "/approvals/", "/agents/"]


@pytest.fixture
def test_database_url(transactional_db) -> str:
    """The test database, which the server process reads: committed rows only, hence transactional_db."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the server process reads the test database")
    return f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}"


@pytest.mark.postgres
@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_page_renders_under_a_plain_asgi_server(
    start_server: StartServer, test_database_url: str, path: str
) -> None:
    executive = UserFactory(username="erika", roles=[Role.EXECUTIVE])
    browser = Client()
    browser.force_login(executive)
    server = start_server(DATABASE_URL=test_database_url, SECRET_KEY=settings.SECRET_KEY, DEBUG="true")

    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    request = urllib.request.Request(f"{server}{path}", headers=cookie)  # noqa: S310 (a local test server)
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        status, body = response.status, response.read().decode()

    assert status == 200
    assert "erika" in body
