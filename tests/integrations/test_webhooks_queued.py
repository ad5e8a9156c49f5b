"""Webhooks with queued audit sequencing: deliveries are written by the sequencer as it chains the events, with
decisions committed by concurrent threads, and each subscribed event reaches its receiver exactly once."""

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from audit.models import AuditEvent
from config.celery import app as celery_app
from integrations import webhooks
from integrations.models import WebhookDelivery
from tests.support.audit import wait_until_sequenced

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 5
DECISIONS_PER_WRITER = 12
DELIVERED_SECONDS = 30


@pytest.fixture
def received() -> Iterator[tuple[str, list[dict]]]:
    """A receiver on localhost that answers 200 and keeps each body it was sent; its URL and those bodies."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", bodies
    server.shutdown()
    thread.join(5)


@pytest.fixture
def deliveries_sent_by_the_sequencer() -> Iterator[None]:
    """Deliveries are attempted in the process that commits them (the sequencer thread), as a worker would."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def write_decisions(decide, agent, errors: list) -> None:
    try:
        for n in range(DECISIONS_PER_WRITER):
            decide(agent, action="invoice.approve" if n % 2 else "report.read")
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def test_each_subscribed_event_is_delivered_once_when_the_sequencer_chains_it(
    queued, sequencer, deliveries_sent_by_the_sequencer, received, decide, finance_agent, carol
):
    # Given a subscription to decisions and a sequencer chaining the queue
    url, bodies = received
    subscription = webhooks.subscribe(url, ["decision.created"], by=carol)

    # When threads commit decisions concurrently
    errors: list[BaseException] = []
    writers = [threading.Thread(target=write_decisions, args=(decide, finance_agent, errors)) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert errors == []
    wait_until_sequenced()
    chained = list(AuditEvent.objects.filter(kind="decision.created").values_list("seq", flat=True))
    deadline = time.monotonic() + DELIVERED_SECONDS
    while time.monotonic() < deadline and WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED):
        time.sleep(0.05)

    # Then each chained decision event was delivered once, with its chain seq as its id, and nothing else was sent
    assert len(chained) == WRITERS * DECISIONS_PER_WRITER
    assert Counter(body["id"] for body in bodies) == Counter(chained)
    assert {body["type"] for body in bodies} == {"decision.created"}
    # And the deliveries were recorded in chain order, one per event, all delivered
    recorded = list(WebhookDelivery.objects.filter(subscription=subscription).order_by("pk"))
    assert [delivery.event_id for delivery in recorded] == sorted(chained)
    assert {delivery.status for delivery in recorded} == {WebhookDelivery.Status.DELIVERED}
