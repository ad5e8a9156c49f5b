"""A person's own notifications page: where they hear, the chat webhook kept secret, bad input answered 400."""

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery, Preference
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SECRET_URL = "https://hooks.slack.com/services/T000/B000/very-secret-token"


@pytest.fixture
def bobs_client(bob) -> Client:
    client = Client()
    client.login(username="bob", password=PASSWORD)
    return client


def test_bob_chooses_slack_and_the_url_is_never_shown_back(bobs_client, bob):
    # When Bob saves Slack with his channel's webhook
    response = bobs_client.post(
        reverse("notifications:preferences"),
        {"email": "on", "chat": "slack", "chat_webhook_url": SECRET_URL, "approvals": "on", "reminders": "on"},
        follow=True,
    )

    # Then it is kept, and the page says so without ever showing the URL
    preference = Preference.objects.get(user=bob)
    assert (preference.chat, preference.chat_webhook_url) == ("slack", SECRET_URL)
    assert b"Your notification preferences are saved." in response.content
    assert b"A webhook URL is saved" in response.content
    assert b"very-secret-token" not in response.content


def test_saving_again_without_the_url_keeps_it(bobs_client, bob):
    Preference.objects.create(user=bob, chat="teams", chat_webhook_url=SECRET_URL)

    bobs_client.post(reverse("notifications:preferences"), {"chat": "teams", "chat_webhook_url": ""})

    assert Preference.objects.get(user=bob).chat_webhook_url == SECRET_URL


def test_a_chat_without_a_webhook_is_a_400_naming_the_field(bobs_client, bob):
    response = bobs_client.post(reverse("notifications:preferences"), {"chat": "slack", "chat_webhook_url": ""})

    assert response.status_code == 400
    assert b"Paste the channel&#x27;s incoming webhook URL, or choose no chat." in response.content
    assert not Preference.objects.filter(user=bob).exists()


def test_a_webhook_that_is_not_a_url_is_a_400(bobs_client):
    response = bobs_client.post(reverse("notifications:preferences"), {"chat": "slack", "chat_webhook_url": "x y"})

    assert response.status_code == 400
    assert b"Enter a valid URL." in response.content


def test_the_page_is_behind_login():
    response = Client().get(reverse("notifications:preferences"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_administrator_edits_preferences_in_the_admin_without_seeing_the_secret(admin_client, bob):
    preference = Preference.objects.create(user=bob, chat="slack", chat_webhook_url=SECRET_URL)

    response = admin_client.get(reverse("admin:notifications_preference_change", args=[preference.pk]))

    assert response.status_code == 200
    assert b"very-secret-token" not in response.content


def test_a_test_message_reaches_the_chosen_channel(
    bobs_client, bob, serve, settings, tasks_run_in_process, django_capture_on_commit_callbacks
):
    # Given Bob's Slack channel (on this machine, so listed as allowed), and no email set up
    settings.EMAIL_HOST, settings.CHAT_WEBHOOK_ALLOWED_HOSTS = "", ["127.0.0.1"]
    slack = serve(lambda _request: (200, "ok"))
    Preference.objects.create(user=bob, email=False, chat="slack", chat_webhook_url=slack.url)

    # When he asks for a test message
    with django_capture_on_commit_callbacks(execute=True):
        response = bobs_client.post(reverse("notifications:send-test"), follow=True)

    # Then Slack received it, and his page lists its delivery
    assert slack.received[0].json()["blocks"][0]["text"]["text"] == "Regent test message"
    assert b"A test message is on its way" in response.content
    assert Delivery.objects.get(recipient=bob, kind="test").status == "delivered"


def test_a_test_message_with_nowhere_to_go_says_so(bobs_client, bob, settings):
    settings.EMAIL_HOST = ""

    response = bobs_client.post(reverse("notifications:send-test"), follow=True)

    assert b"There is nowhere to send it: choose a channel first." in response.content
