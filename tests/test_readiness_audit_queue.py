"""Readiness with queued audit sequencing: a queue whose oldest event has waited past AUDIT_QUEUE_MAX_AGE_SECONDS
means the sequencer is down or behind, and /readyz says so; liveness does not look."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from audit.models import PendingEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def queue_event(waited_seconds: float) -> PendingEvent:
    return PendingEvent.objects.create(
        occurred_at=timezone.now(),
        queued_at=timezone.now() - dt.timedelta(seconds=waited_seconds),
        actor_label="system",
        kind="decision.created",
        subject_type="decision",
        subject_id="1",
    )


def test_readiness_fails_naming_the_audit_queue_when_its_oldest_event_waited_too_long(queued, settings, client):
    # Given the oldest queued event has waited longer than the bound: no sequencer has chained it
    settings.AUDIT_QUEUE_MAX_AGE_SECONDS = 5
    queue_event(waited_seconds=60)
    queue_event(waited_seconds=0)

    # When a probe asks whether this process is ready
    response = client.get("/readyz")

    # Then it is not, and the answer names the audit queue and what to look at
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["audit_queue"]
    error = body["checks"]["audit_queue"]["error"]
    assert float(re.search(r"has waited ([\d.]+) s", error).group(1)) >= 60
    assert "AUDIT_QUEUE_MAX_AGE_SECONDS=5" in error
    assert "sequencer" in error


def test_readiness_holds_while_queued_events_are_younger_than_the_bound(queued, settings, client):
    # Given events queued a moment ago, as a running sequencer leaves them between its batches
    settings.AUDIT_QUEUE_MAX_AGE_SECONDS = 5
    queue_event(waited_seconds=1)

    # When a probe asks
    response = client.get("/readyz")

    # Then the process is ready
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["audit_queue"]["ok"] is True


def test_readiness_holds_with_an_empty_queue(queued, client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["audit_queue"]["ok"] is True


def test_liveness_ignores_a_stalled_audit_queue(queued, client):
    # Given a queue the sequencer has not touched for ten minutes
    queue_event(waited_seconds=600)

    # When the liveness probe asks, then the process is alive: restarting it would not chain anything
    response = client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_inline_sequencing_does_not_check_the_queue(inline, client):
    response = client.get("/readyz")

    assert "audit_queue" not in response.json()["checks"]
