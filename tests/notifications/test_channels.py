"""Each channel against a real receiver: an SMTP server gets the email, a local HTTP server the Slack and Teams
messages (their JSON checked against the documented formats), and a failing receiver is retried and recorded."""

from collections.abc import Iterator

import pytest

from config.celery import app as celery_app
from notifications import delivery as notify_module
from notifications import tasks
from notifications.delivery import Message, notify
from notifications.models import Delivery, Preference
from tests.factories import UserFactory
from tests.support.endpoints import Received
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db
MESSAGE = Message(
    subject="Approval needed: Invoice Bot, €900.00",
    text="A request waits for your decision.\n\nInvoice Bot asks to pay <@channel> & more.",
    kind="approval.requested",
    key="approval-1-requested-1",
    severity="warning",
    link="https://regent.example.com/notifications/approvals/abc/",
)


@pytest.fixture(autouse=True)
def tasks_run_in_process() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings) -> None:
    """The receivers here listen on 127.0.0.1, which chat webhooks may reach only when listed."""
    settings.CHAT_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def ok(_request: Received) -> tuple[int, object]:
    return 200, "ok"


def test_an_email_reaches_a_real_smtp_server(mailbox, django_capture_on_commit_callbacks):
    # Given Bob, who keeps the default: email to his account's address
    bob = UserFactory(username="bob", email="bob@finance.example.com")

    # When a message is sent to him and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        notify([bob], MESSAGE)

    # Then the SMTP server received it, with the subject, the words and the link, and the delivery is recorded
    email = mailbox.wait_for("bob@finance.example.com")
    assert email["Subject"].strip() == MESSAGE.subject
    body = email.get_content()
    assert "A request waits for your decision." in body and MESSAGE.link in body
    delivery = Delivery.objects.get(recipient=bob)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("email", "delivered", 1)


def test_without_email_host_no_email_is_written(settings):
    settings.EMAIL_HOST = ""
    bob = UserFactory(username="bob", email="bob@finance.example.com")

    assert notify([bob], MESSAGE) == []


def test_a_slack_message_follows_the_incoming_webhook_format(serve, django_capture_on_commit_callbacks, settings):
    # Given Carol, who chose Slack only
    settings.EMAIL_HOST = ""
    slack = serve(ok)
    carol = UserFactory(username="carol")
    Preference.objects.create(user=carol, email=False, chat="slack", chat_webhook_url=f"{slack.url}/services/T1/B1/x")

    # When a message is sent to her
    with django_capture_on_commit_callbacks(execute=True):
        notify([carol], MESSAGE)

    # Then her webhook got one JSON body in Slack's format: fallback text, then header, mrkdwn section, link button
    (request,) = slack.received
    assert request.path == "/services/T1/B1/x"
    assert request.headers["Content-Type"] == "application/json"
    payload = request.json()
    assert isinstance(payload["text"], str) and MESSAGE.subject in payload["text"]
    header, section, actions = payload["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": MESSAGE.subject}}
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "&lt;@channel&gt; &amp; more" in section["text"]["text"]  # an agent's words cannot ping or link
    assert len(header["text"]["text"]) <= 150 and len(section["text"]["text"]) <= 3000
    (button,) = actions["elements"]
    assert actions["type"] == "actions"
    assert button == {"type": "button", "text": {"type": "plain_text", "text": "Open in Regent"}, "url": MESSAGE.link}
    assert Delivery.objects.get(recipient=carol).status == "delivered"


def test_a_teams_message_is_an_adaptive_card_in_an_attachment(serve, django_capture_on_commit_callbacks, settings):
    # Given Dave, who chose Microsoft Teams beside his email
    settings.EMAIL_HOST = ""
    teams = serve(ok)
    dave = UserFactory(username="dave")
    Preference.objects.create(user=dave, chat="teams", chat_webhook_url=f"{teams.url}/webhookb2/abc")

    # When a message is sent to him
    with django_capture_on_commit_callbacks(execute=True):
        notify([dave], MESSAGE)

    # Then Teams got a message whose one attachment is an Adaptive Card with the words and an OpenUrl action
    payload = teams.received[0].json()
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert isinstance(card["version"], str)
    assert all(block["type"] == "TextBlock" and isinstance(block["text"], str) for block in card["body"])
    assert card["body"][0]["text"] == MESSAGE.subject
    assert [block["text"] for block in card["body"][1:]] == MESSAGE.text.split("\n\n")
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Regent", "url": MESSAGE.link}]


def test_a_failing_chat_webhook_is_retried_with_backoff_and_recorded(serve, monkeypatch, settings):
    # Given Erin's Slack webhook, which answers 500, and the next attempts recorded instead of waited for
    settings.EMAIL_HOST = ""
    slack = serve(lambda _request: (500, "no"))
    erin = UserFactory(username="erin")
    Preference.objects.create(user=erin, email=False, chat="slack", chat_webhook_url=slack.url)
    queued = []
    monkeypatch.setattr(
        tasks.deliver_notification, "apply_async", lambda args=None, countdown=0, **_: queued.append(countdown)
    )
    (delivery_id,) = notify([erin], MESSAGE)

    # When three attempts run, as a worker would run them
    for _ in range(3):
        tasks.deliver_notification(delivery_id)

    # Then each failure queued the next attempt twice as late, and the record says how it went
    assert len(slack.received) == 3
    assert queued == [10, 20, 40]
    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 3, "HTTP 500")


def test_a_delivery_failing_every_attempt_is_given_up_and_a_later_run_sends_nothing(serve, settings):
    settings.EMAIL_HOST, settings.NOTIFY_MAX_ATTEMPTS = "", 2
    slack = serve(lambda _request: (503, "busy"))
    erin = UserFactory(username="erin")
    Preference.objects.create(user=erin, email=False, chat="slack", chat_webhook_url=slack.url)
    (delivery_id,) = notify([erin], MESSAGE)

    assert notify_module.attempt(delivery_id) == 10
    assert notify_module.attempt(delivery_id) is None
    assert notify_module.attempt(delivery_id) is None  # a task delivered twice

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert len(slack.received) == 2


def test_an_unreachable_smtp_server_is_recorded_and_retried(settings):
    # Given an SMTP host where nothing listens
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    bob = UserFactory(username="bob", email="bob@finance.example.com")
    (delivery_id,) = notify([bob], MESSAGE)

    # When one attempt runs
    delay = notify_module.attempt(delivery_id)

    # Then it is to be tried again, and the record names the error
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delay == 10
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in delivery.last_error


def test_the_same_occasion_reaches_nobody_twice(django_capture_on_commit_callbacks, mailbox):
    bob = UserFactory(username="bob", email="bob@finance.example.com")

    with django_capture_on_commit_callbacks(execute=True):
        first = notify([bob], MESSAGE)
        second = notify([bob], MESSAGE)

    assert len(first) == 1 and second == []
    assert Delivery.objects.filter(recipient=bob).count() == 1
