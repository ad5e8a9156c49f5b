"""Chat webhooks reach the internet only: a URL on Regent's own machine or network (loopback, private, link-local,
the cloud's metadata service) is refused when saved, on the preferences page and in the admin, and again at each
send, on the addresses its host resolves to then; CHAT_WEBHOOK_ALLOWED_HOSTS lets a named host through."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from notifications import delivery as notify_module
from notifications.chat_hosts import is_public
from notifications.delivery import Message, notify
from notifications.models import Delivery, Preference
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
MESSAGE = Message(subject="Alert: budget", text="Invoice Bot is at 91% of its budget.", kind="alert.fired", key="a-1")
PRIVATE_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.7/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.10/hook",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://localhost:9000/hook",
    "https://metadata.localhost/hook",
]


@pytest.fixture
def bobs_client(bob) -> Client:
    client = Client()
    client.login(username="bob", password=PASSWORD)
    return client


NOT_PUBLIC = ["127.0.0.1", "10.1.2.3", "172.31.255.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "224.0.0.1"]
NOT_PUBLIC += ["0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "::"]  # noqa: S104 (refused, not bound)


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_local_private_and_link_local_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.1", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public(address)


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_private_webhook_url_is_a_field_error_on_the_preferences_page(bobs_client, bob, url):
    # When Bob pastes a webhook URL pointing inside Regent's network
    response = bobs_client.post(reverse("notifications:preferences"), {"chat": "slack", "chat_webhook_url": url})

    # Then the page answers 400 with the reason on the field, and nothing is saved
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["chat_webhook_url"]
    assert "private or local address" in errors["chat_webhook_url"][0]
    assert not Preference.objects.filter(user=bob).exists()


def test_a_private_webhook_url_is_a_field_error_in_the_admin(admin_client, bob):
    # Given Bob's preferences
    preference = Preference.objects.create(user=bob)

    # When an administrator gives him the cloud's metadata address as his Teams webhook
    response = admin_client.post(
        reverse("admin:notifications_preference_change", args=[preference.pk]),
        {"user": bob.pk, "email": "on", "chat": "teams", "chat_webhook_url": "http://169.254.169.254/x"},
    )

    # Then the admin shows the error by the field and keeps the preferences as they were
    assert response.status_code == 200
    assert "private or local address" in response.context["adminform"].form.errors["chat_webhook_url"][0]
    preference.refresh_from_db()
    assert (preference.chat, preference.chat_webhook_url) == ("", "")


def test_a_listed_host_may_be_saved(bobs_client, bob, settings):
    # Given a chat server on the company's network, listed as allowed
    settings.CHAT_WEBHOOK_ALLOWED_HOSTS = ["chat.internal.example", "10.0.0.7"]

    # When Bob saves a webhook on it
    response = bobs_client.post(
        reverse("notifications:preferences"), {"chat": "slack", "chat_webhook_url": "http://10.0.0.7/hook"}
    )

    # Then it is kept
    assert response.status_code == 302
    assert Preference.objects.get(user=bob).chat_webhook_url == "http://10.0.0.7/hook"


class _Receiver:
    """An HTTP server on 127.0.0.1 that counts what reaches it and answers `status` (with `location`, if any)."""

    def __init__(self, status: int = 200, location: str = "") -> None:
        self.hits: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[type[_Receiver]]:
    started: list[_Receiver] = []

    def start(*args, **kwargs) -> _Receiver:
        started.append(_Receiver(*args, **kwargs))
        return started[-1]

    yield start
    for one in started:
        one.stop()


def chat_user(url: str) -> UserFactory:
    """Erin, whose Slack webhook was saved before the check existed (written straight to the table)."""
    erin = UserFactory(username="erin")
    Preference.objects.create(user=erin, email=False, chat="slack", chat_webhook_url=url)
    return erin


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_send_to_a_local_address_is_refused_and_recorded(receiver, settings, host):
    # Given a receiver on this machine, not listed, and Erin's webhook naming it by address or by a name that
    # resolves to it
    settings.EMAIL_HOST = ""
    local = receiver()
    erin = chat_user(f"http://{host}:{local.port}/services/x")
    (delivery_id,) = notify([erin], MESSAGE)

    # When the delivery is attempted
    notify_module.attempt(delivery_id)

    # Then nothing reached the receiver, and the delivery records why
    assert local.hits == []
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert f"The webhook's host {host} is at 127.0.0.1, a private or local address." == delivery.last_error


def test_a_listed_host_is_posted_to(receiver, settings):
    settings.EMAIL_HOST, settings.CHAT_WEBHOOK_ALLOWED_HOSTS = "", ["127.0.0.1"]
    local = receiver()
    erin = chat_user(f"http://127.0.0.1:{local.port}/services/x")
    (delivery_id,) = notify([erin], MESSAGE)

    notify_module.attempt(delivery_id)

    assert local.hits == ["/services/x"]
    assert Delivery.objects.get(pk=delivery_id).status == "delivered"


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver, settings):
    # Given an allowed webhook that redirects to another local service
    settings.EMAIL_HOST, settings.CHAT_WEBHOOK_ALLOWED_HOSTS = "", ["127.0.0.1"]
    inner = receiver()
    hook = receiver(status=307, location=f"http://127.0.0.1:{inner.port}/admin")
    erin = chat_user(f"http://127.0.0.1:{hook.port}/services/x")
    (delivery_id,) = notify([erin], MESSAGE)

    # When the delivery is attempted
    notify_module.attempt(delivery_id)

    # Then the redirect's target got nothing, and the attempt failed with the status
    assert (hook.hits, inner.hits) == (["/services/x"], [])
    assert Delivery.objects.get(pk=delivery_id).last_error == "HTTP 307"
