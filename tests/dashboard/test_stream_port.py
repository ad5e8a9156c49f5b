"""Pages open the live stream's socket where it is served: their own host and port, or STREAM_PORT (the Procfile's
`stream` process beside the WSGI `web`), which static/js/stream.js reads from the page."""

import pytest
from django.urls import reverse

STREAM_PORT_META = '<meta name="regent-stream-port" content="8001">'


@pytest.mark.django_db
def test_with_a_stream_port_pages_name_it(client, alice, settings):
    settings.STREAM_PORT = "8001"
    client.force_login(alice)

    page = client.get(reverse("dashboard:overview"))

    assert page.status_code == 200
    assert STREAM_PORT_META in page.content.decode()


@pytest.mark.django_db
def test_without_one_pages_use_their_own_host(client, alice, settings):
    settings.STREAM_PORT = ""
    client.force_login(alice)

    page = client.get(reverse("dashboard:overview"))

    assert page.status_code == 200
    assert 'name="regent-stream-port"' not in page.content.decode()
