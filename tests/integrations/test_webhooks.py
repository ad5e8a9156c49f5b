"""Outbound webhooks against a receiver on localhost: signed deliveries, retries, recorded, disabled."""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from config.celery import app as celery_app
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Decision
from integrations import tasks, webhooks
from integrations.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    url: str
    status: int = 200
    received: list[tuple[dict, bytes]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP endpoint on localhost that records each POST and answers with `status`."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.paths.append(self.path)
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/regent"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def tasks_run_in_process() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def decide(finance_agent, django_capture_on_commit_callbacks):
    """Make a decision and run what its commit triggers (live events, webhook deliveries)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return evaluate_action(finance_agent, ActionRequest(action="invoice.approve"))

    return run


def test_a_committed_decision_is_delivered_signed_to_its_subscriber(receiver, decide, carol):
    # Given a subscription to decisions
    subscription = webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    # When a decision is made
    decision = decide()

    # Then the receiver got the live event once, signed over its timestamp and body with the secret
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    expected = hmac.new(
        subscription.secret.encode(), f"{headers['x-regent-timestamp']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["x-regent-signature"] == f"sha256={expected}"
    assert abs(int(headers["x-regent-timestamp"]) - time.time()) < 60
    event = json.loads(body)
    assert (event["type"], event["data"]["id"]) == ("decision.created", decision.pk)


def test_a_delivery_is_recorded(receiver, decide, carol):
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    decide()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_event_types_not_subscribed_to_are_not_sent(receiver, decide, carol):
    webhooks.subscribe(receiver.url, ["approval.requested"], by=carol)

    decide()

    assert receiver.received == []


def test_a_failed_attempt_is_queued_again_with_exponential_backoff(receiver, decide, carol, monkeypatch):
    # Given a receiver that fails, and the queued tasks recorded instead of run
    receiver.status = 500
    webhooks.subscribe(receiver.url, ["*"], by=carol)
    queued = []
    monkeypatch.setattr(
        tasks.deliver_webhook, "apply_async", lambda args=None, kwargs=None, countdown=0, **_: queued.append(countdown)
    )

    # When a decision is made and three attempts run as a worker would run them
    decide()
    delivery = WebhookDelivery.objects.get(event_type="decision.created")
    for _ in range(3):
        tasks.deliver_webhook(delivery.pk)

    # Then the delivery was queued at once, and after each failure twice as late as the time before
    assert queued == [0, 10, 20, 40]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 3, 500)


def test_a_delivery_that_fails_every_attempt_is_given_up(receiver, decide, carol, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 503
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    decide()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(receiver.received) == 3


def test_a_subscription_is_disabled_after_repeated_failed_deliveries(receiver, decide, carol, settings):
    # Given a dead receiver, one attempt per delivery, and disabling after two failed deliveries
    settings.WEBHOOK_MAX_ATTEMPTS, settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1, 2
    receiver.status = 500
    subscription = webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    # When three decisions are made
    for _ in range(3):
        decide()

    # Then the subscription was disabled after the second, and the third was not sent
    subscription.refresh_from_db()
    assert not subscription.active
    assert "2 deliveries in a row failed" in subscription.disabled_reason
    assert len(receiver.received) == 2


def test_a_success_resets_the_failure_count(receiver, decide, carol, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    subscription = webhooks.subscribe(receiver.url, ["decision.created"], by=carol)
    receiver.status = 500
    decide()

    receiver.status = 204
    decide()

    subscription.refresh_from_db()
    assert (subscription.active, subscription.consecutive_failures) == (True, 0)


def test_an_unreachable_receiver_is_a_recorded_failure_not_an_error(decide, carol, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    webhooks.subscribe("http://127.0.0.1:9/nothing-listens", ["decision.created"], by=carol)

    decide()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error


def received_by_path(receiver: Receiver) -> dict[str, list[tuple[str, int | None]]]:
    """Each path's deliveries as (event type, department id)."""
    sent: dict[str, list[tuple[str, int | None]]] = {}
    for path, (_, body) in zip(receiver.paths, receiver.received, strict=True):
        event = json.loads(body)
        sent.setdefault(path, []).append((event["type"], event["department_id"]))
    return sent


def test_a_department_subscription_hears_only_its_departments_events(
    receiver,
    carol,
    bob,
    finance,
    support,
    finance_agent,
    support_agent,
    make_policy,
    django_capture_on_commit_callbacks,
):
    # Given bob's subscription to Finance's events and carol's organisation-wide one
    finance_only = webhooks.subscribe(f"{receiver.url}/finance", ["*"], by=bob, departments=[finance])
    everything = webhooks.subscribe(f"{receiver.url}/all", ["*"], by=carol)

    # When Finance and Support each decide, and a policy (no department's) changes
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_action(finance_agent, ActionRequest(action="invoice.approve"))
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_action(support_agent, ActionRequest(action="reply.send"))
    with django_capture_on_commit_callbacks(execute=True):
        make_policy(name="Watch refunds", actions="refund.*")

    # Then Finance's subscription received Finance's decision only; the organisation's received all three
    sent = {path: sorted(types, key=str) for path, types in received_by_path(receiver).items()}
    assert sent == {
        "/hooks/regent/finance": [("decision.created", finance.pk)],
        "/hooks/regent/all": sorted(
            [("decision.created", finance.pk), ("decision.created", support.pk), ("policy.changed", None)],
            key=str,
        ),
    }
    assert set(WebhookDelivery.objects.values_list("subscription", flat=True)) == {finance_only.pk, everything.pk}


# Deliveries are an outbox: written in the change's transaction, sent after it commits, resent if lost.


def test_a_delivery_is_written_with_the_change_and_resent_when_its_task_was_lost(
    receiver, finance_agent, carol, django_capture_on_commit_callbacks
):
    # Given a subscription to decisions
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    # When a decision commits but the process dies before it queues the delivery (its on-commit work is lost)
    with django_capture_on_commit_callbacks(execute=False):
        decision = evaluate_action(finance_agent, ActionRequest(action="invoice.approve"))

    # Then the delivery is on record, not sent; the resend pass leaves it while it is young, then sends it
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, receiver.received) == ("pending", 0, [])
    assert webhooks.resend_overdue() == 0
    later = delivery.next_attempt_at + dt.timedelta(seconds=webhooks.RESEND_AFTER_SECONDS + 1)
    assert webhooks.resend_overdue(now=later) == 1
    [(headers, body)] = receiver.received
    assert (json.loads(body)["data"]["id"], headers["x-regent-delivery"]) == (decision.pk, str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_change_that_rolls_back_leaves_no_delivery(receiver, finance_agent, carol):
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    with pytest.raises(RuntimeError), transaction.atomic():
        evaluate_action(finance_agent, ActionRequest(action="invoice.approve"))
        raise RuntimeError("rolled back")

    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_failure_to_record_deliveries_never_undoes_the_change(receiver, decide, carol, monkeypatch):
    # Given a subscription, and a delivery table that refuses writes
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)

    def refuse(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")  # a real database error, inside the savepoint

    monkeypatch.setattr(WebhookDelivery.objects, "bulk_create", refuse)

    # When a decision is made
    decision = decide()

    # Then the decision and its audit event stand, and nothing was sent
    assert Decision.objects.filter(pk=decision.pk).exists()
    assert AuditEvent.objects.filter(kind="decision.created", subject_id=str(decision.pk)).exists()
    assert receiver.received == []


def test_a_retry_that_is_due_later_is_not_resent_early(receiver, decide, carol):
    # Given a delivery whose first attempt failed, its retry due in FIRST_RETRY_SECONDS
    webhooks.subscribe(receiver.url, ["decision.created"], by=carol)
    receiver.status = 500
    send = tasks.deliver_webhook.apply_async
    with pytest.MonkeyPatch.context() as retries_dropped:
        retries_dropped.setattr(
            tasks.deliver_webhook,
            "apply_async",
            lambda args=None, kwargs=None, countdown=0, **options: None if countdown else send(args, kwargs, **options),
        )
        decide()
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1

    # Then the resend pass leaves it alone until it is long overdue
    assert webhooks.resend_overdue() == 0
    assert webhooks.resend_overdue(now=delivery.next_attempt_at + dt.timedelta(seconds=1)) == 0
    overdue = delivery.next_attempt_at + dt.timedelta(seconds=webhooks.RESEND_AFTER_SECONDS + 1)
    assert webhooks.resend_overdue(now=overdue) == 1
