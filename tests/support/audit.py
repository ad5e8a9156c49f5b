"""Waiting for queued audit events (AUDIT_SEQUENCING=queued) to reach the chain, with a bounded wait."""

import time

import pytest
from django.conf import settings
from django.db import connection

from audit import chain
from audit.models import PendingEvent

SEQUENCED_SECONDS = 10.0


def wait_until_sequenced(timeout: float = SEQUENCED_SECONDS) -> None:
    """Return once no committed event waits in the queue (at once under inline sequencing); fail after `timeout`.

    Inside a transaction, the events it queued are visible to it alone: it integrates them itself.
    """
    if settings.AUDIT_SEQUENCING != "queued":
        return
    if connection.in_atomic_block:
        chain.integrate_all()
        return
    deadline = time.monotonic() + timeout
    while PendingEvent.objects.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{PendingEvent.objects.count()} audit events still queued after {timeout}s")
        time.sleep(0.01)
