"""Outbound webhooks: live events POSTed to outside systems, signed, retried, recorded.

Deliveries hang off the one event publication (audit.events): inside the transaction of a change,
each of its events becomes a delivery row per interested subscription (an outbox), and once it commits a
Celery task sends each; a beat task resends those whose task was lost. A receiver verifies
`X-Regent-Signature: sha256=HMAC-SHA256(secret, "{X-Regent-Timestamp}.{body}")` and rejects old
timestamps. A failed attempt is retried with exponential backoff; a subscription whose deliveries
keep failing every attempt is disabled, so a dead receiver does not queue work for ever.

Scope: a subscription naming departments receives only events whose department is one of them; an event
that belongs to no department (policy.changed, token events, events of a subscription that names no single
department) goes only to organisation-wide subscriptions, those naming no department. Only people who see
the whole organisation may create those; a Supervisor subscribes for departments they oversee, and sees,
changes and removes only subscriptions whose departments are all theirs
(orchestration.scoping.scope_to_all_departments).
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit import chain
from fastpath import reads
from integrations.models import WebhookDelivery, WebhookSubscription
from orchestration.models import Department
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments

logger = logging.getLogger(__name__)
FIRST_RETRY_SECONDS = 10
RESEND_AFTER_SECONDS = 300  # longer than a queued first attempt should ever wait behind others
RESEND_BATCH = 1_000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the given number of failed attempts: 10, 20, 40, 80…"""
    return FIRST_RETRY_SECONDS * 2 ** (attempts - 1)


def record_deliveries(events: list[dict]) -> None:
    """Transaction listener on appended events: a delivery row per interested subscription, written in the
    change's own transaction (an outbox: the rows commit with the change or not at all), sent once it commits.

    A failure to write them is logged and undone to a savepoint; it never undoes the change itself.
    """
    subscriptions = _active_subscriptions()
    if not subscriptions:
        return
    scopes = _department_scopes([s.pk for s in subscriptions])
    deliveries = [
        WebhookDelivery(subscription=s, event_id=event["id"], event_type=event["type"], payload=event)
        for event in events
        for s in subscriptions
        if s.wants(event["type"]) and _covers(scopes.get(s.pk), event["department_id"])
    ]
    if not deliveries:
        return
    try:
        with transaction.atomic():
            created = WebhookDelivery.objects.bulk_create(deliveries)
    except DatabaseError:
        logger.exception("could not record webhook deliveries for %d event(s)", len(events))
        return
    ids = [delivery.pk for delivery in created]
    transaction.on_commit(lambda: _send(ids))


def _send(delivery_ids: list[int]) -> None:
    """Queue the first attempt of each delivery; one the broker refuses is sent by `resend_overdue`."""
    from integrations.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception:
            logger.exception("could not queue webhook delivery %s; it will be resent", delivery_id)


def resend_overdue(now: dt.datetime | None = None) -> int:
    """Queue again each pending delivery whose next attempt is RESEND_AFTER_SECONDS overdue: its task was lost
    (the process died between commit and queueing, or the broker refused it). Returns how many.

    A receiver may then get a delivery twice: `X-Regent-Delivery` names it, so it can tell.
    """
    overdue = (now or timezone.now()) - dt.timedelta(seconds=RESEND_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=overdue, subscription__active=True
        ).values_list("pk", flat=True)[:RESEND_BATCH]
    )
    _send(ids)
    return len(ids)


def _active_subscriptions() -> list[WebhookSubscription]:
    """Read after every committed change, so in plain SQL: the ORM's compilation cost more than the read."""
    with connection.cursor() as cursor:
        cursor.execute(_active_subscriptions_sql(connection.vendor), [True])
        return [reads.instances(row, (WebhookSubscription,))[0][0] for row in cursor.fetchall()]


@cache
def _active_subscriptions_sql(vendor: str) -> str:
    quote, meta = connection.ops.quote_name, WebhookSubscription._meta
    return (
        f"SELECT {reads.columns(WebhookSubscription, 'w')} FROM {quote(meta.db_table)} w "  # noqa: S608
        f"WHERE w.{quote(meta.get_field('active').column)} = %s "
        f"ORDER BY w.{quote(meta.get_field('created_at').column)} DESC"
    )


def _department_scopes(subscription_ids: list[int]) -> dict[int, set[int]]:
    """Each department-scoped subscription's departments, in one query; organisation-wide ones are absent."""
    scopes: dict[int, set[int]] = defaultdict(set)
    links = WebhookSubscription.departments.through.objects.filter(webhooksubscription_id__in=subscription_ids)
    for subscription_id, department_id in links.values_list("webhooksubscription_id", "department_id"):
        scopes[subscription_id].add(department_id)
    return scopes


def _covers(departments: set[int] | None, department_id: int | None) -> bool:
    return not departments or department_id in departments


def attempt(delivery_id: int) -> int | None:
    """Send one delivery once; return the seconds to wait before trying again, or None when done."""
    delivery = (
        WebhookDelivery.objects.select_related("subscription")
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, subscription__active=True)
        .first()
    )
    if delivery is None:
        return None  # delivered, given up, or its subscription was disabled meanwhile
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (a URL a manager of webhooks set, http or https)
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Regent-Webhooks/1",
            "X-Regent-Event": delivery.event_type,
            "X-Regent-Delivery": str(delivery.pk),
            "X-Regent-Timestamp": timestamp,
            "X-Regent-Signature": f"sha256={signature(subscription.secret, timestamp, body)}",
        },
    )
    status_code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    return _record_attempt(delivery.pk, status_code, error)


@transaction.atomic
def _record_attempt(delivery_id: int, status_code: int | None, error: str) -> int | None:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error
    subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    if not error and status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
        delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at"])
        subscriptions.update(consecutive_failures=0)
        return None
    if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = retry_delay(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
        delivery.save(update_fields=["attempts", "last_status_code", "last_error", "next_attempt_at"])
        return delay
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status"])
    subscriptions.update(consecutive_failures=F("consecutive_failures") + 1)
    # NO KEY: a change recording a delivery to this subscription holds the audit chain's head and key-share
    # locks this row (the foreign key); a plain FOR UPDATE here, then the head for `disable`, could deadlock.
    subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=delivery.subscription_id)
    if subscription.active and subscription.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        disable(subscription, f"{subscription.consecutive_failures} deliveries in a row failed; last: {error}")
    return None


def disable(subscription: WebhookSubscription, reason: str) -> None:
    subscription.active, subscription.disabled_reason = False, reason[:200]
    subscription.save(update_fields=["active", "disabled_reason"])
    _record(
        "webhook.disabled",
        subscription,
        actor_label="system:webhooks",
        after={"url": subscription.url, "reason": reason},
    )


def check_scope(departments: Iterable[Department], *, by) -> None:
    """Refuse a subscription reaching beyond what the person sees: the rule of the module docstring."""
    if sees_whole_organisation(by):
        return
    if not departments:
        raise ValidationError(
            {
                "departments": [
                    "Name the departments to hear from: only organisation-wide roles may subscribe to every event."
                ]
            }
        )
    visible = set(visible_departments(by).values_list("pk", flat=True))
    outside = sorted(d.pk for d in departments if d.pk not in visible)
    if outside:
        listed = ", ".join(map(str, outside))
        raise ValidationError({"departments": [f"You do not oversee department(s) {listed}."]})


@transaction.atomic
def subscribe(url: str, event_types: list[str], *, by, departments: Iterable[Department] = ()) -> WebhookSubscription:
    departments = list(departments)
    check_scope(departments, by=by)
    subscription = WebhookSubscription.objects.create(url=url, event_types=sorted(set(event_types)), created_by=by)
    subscription.departments.set(departments)
    _record("webhook.subscribed", subscription, actor=by, after=_described(subscription))
    return subscription


@transaction.atomic
def change_subscription(
    subscription: WebhookSubscription,
    *,
    by,
    url: str | None = None,
    event_types: list[str] | None = None,
    departments: Iterable[Department] | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what a subscription hears, where it sends, or whether it is on; what is not given stays.

    New departments follow the scope rule of `subscribe`. Turning a subscription back on forgets its failed
    deliveries, so it is not disabled again by the first failure after a receiver is mended.
    """
    subscription = WebhookSubscription.objects.select_for_update(no_key=True).get(pk=subscription.pk)
    before = _described(subscription)
    if departments is not None:
        departments = list(departments)
        check_scope(departments, by=by)
        subscription.departments.set(departments)
    if url is not None:
        subscription.url = url
    if event_types is not None:
        subscription.event_types = sorted(set(event_types))
    if active is not None and active != subscription.active:
        subscription.active = active
        subscription.consecutive_failures = 0 if active else subscription.consecutive_failures
        subscription.disabled_reason = "" if active else f"Turned off by {by.get_username()}."
    subscription.save()
    after = _described(subscription)
    if after != before:
        _record("webhook.changed", subscription, actor=by, before=before, after=after)
    return subscription


@transaction.atomic
def unsubscribe(subscription: WebhookSubscription, *, by) -> None:
    _record("webhook.unsubscribed", subscription, actor=by, before=_described(subscription))
    subscription.delete()


def _record(kind: str, subscription: WebhookSubscription, **event) -> None:
    """Audit a subscription's event; it belongs to the subscription's department when it names exactly one,
    so a Supervisor's audit log shows their own subscriptions. The secret is never part of it."""
    departments = list(subscription.departments.values_list("pk", flat=True)[:2])
    department_id = departments[0] if len(departments) == 1 else None
    chain.record(
        kind, subject_type="webhook_subscription", subject_id=subscription.pk, department_id=department_id, **event
    )


def _described(subscription: WebhookSubscription) -> dict:
    departments = sorted(subscription.departments.values_list("pk", flat=True))
    return {
        "url": subscription.url,
        "event_types": subscription.event_types,
        "departments": departments,
        "active": subscription.active,
    }
