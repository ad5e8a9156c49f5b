"""Sending a message to people on the channels each chose: recorded, retried, never sent twice.

`notify(people, message)` is the one way in, for approval requests (notifications.approval_messages) and for
anything else that must reach a person. Inside the caller's transaction it writes a delivery row per person and
channel (an outbox: they commit with the change or not at all); once it commits a Celery task sends each, and a
failed attempt is tried again with the webhooks' backoff (integrations.webhooks.retry_delay) up to
NOTIFY_MAX_ATTEMPTS. Beat resends deliveries whose task was lost, and forgets those delivered or failed more than
NOTIFY_RETENTION_DAYS ago (`forget_old`). The person's channels are their Preference
(email to their account's address when they have none); email only when EMAIL_HOST is set.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from integrations.webhooks import retry_delay
from notifications import channels
from notifications.channels import DeliveryFailed, Message
from notifications.models import Channel, Delivery, Preference

logger = logging.getLogger(__name__)
RESEND_AFTER_SECONDS = 300
RESEND_BATCH = 1_000
FORGET_BATCH = 10_000

__all__ = ["Message", "notify"]


def notify(people: Iterable[User], message: Message) -> list[int]:
    """Send `message` to each person on each of their channels, after the caller's transaction commits.

    Returns the ids of the deliveries written; a delivery already recorded for the same key, person and
    channel is not written again (and not in the list).
    """
    people = [person for person in people if person.is_active]
    preferences = {p.user_id: p for p in Preference.objects.filter(user__in=people).select_related("user")}
    rows = [
        Delivery(
            recipient=person,
            channel=channel,
            key=message.key,
            kind=message.kind,
            severity=message.severity,
            subject=message.subject[:200],
            text=message.text,
            link=message.link,
        )
        for person in people
        for channel in channels_of(person, preferences.get(person.pk))
    ]
    if not rows:
        return []
    mine = Delivery.objects.filter(key=message.key, recipient__in=people)
    with transaction.atomic():
        before = set(mine.values_list("pk", flat=True))
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)  # gives no ids back: read the new rows
        ids = sorted(set(mine.values_list("pk", flat=True)) - before)
    if not ids:
        return []
    transaction.on_commit(lambda: _send(ids))
    return ids


def channels_of(person: User, preference: Preference | None) -> list[str]:
    """The channels a person hears on: their choice, or email to their account's address."""
    chosen = preference.channels() if preference else ([Channel.EMAIL.value] if person.email else [])
    if not settings.EMAIL_HOST:
        chosen = [channel for channel in chosen if channel != Channel.EMAIL]
    return chosen


def _send(delivery_ids: list[int]) -> None:
    """Queue the first attempt of each; one the broker refuses is sent again by `resend_overdue`."""
    from notifications.tasks import deliver_notification

    for delivery_id in delivery_ids:
        try:
            deliver_notification.delay(delivery_id)
        except Exception:
            logger.exception("could not queue notification %s; it will be resent", delivery_id)


def attempt(delivery_id: int) -> int | None:
    """Send one delivery once; return the seconds to wait before trying again, or None when done."""
    delivery = (
        Delivery.objects.select_related("recipient", "recipient__notification_preference")
        .filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .first()
    )
    if delivery is None:
        return None  # delivered or given up meanwhile: a task run twice sends nothing twice
    message = Message(
        subject=delivery.subject,
        text=delivery.text,
        kind=delivery.kind,
        key=delivery.key,
        severity=delivery.severity,
        link=delivery.link,
    )
    error = ""
    try:
        _send_on(delivery, message)
    except DeliveryFailed as exc:
        error = str(exc)[:500]
    return _record_attempt(delivery.pk, error)


def _send_on(delivery: Delivery, message: Message) -> None:
    person = delivery.recipient
    if delivery.channel == Channel.EMAIL:
        if not person.email:
            raise DeliveryFailed("The person has no email address.")
        channels.send_email(person.email, message)
        return
    preference = getattr(person, "notification_preference", None)
    if preference is None or preference.chat != delivery.channel or not preference.chat_webhook_url:
        raise DeliveryFailed(f"The person no longer has a {Channel(delivery.channel).label} webhook.")
    payload = channels.slack_payload(message) if delivery.channel == Channel.SLACK else channels.teams_payload(message)
    channels.post_json(preference.chat_webhook_url, payload)


@transaction.atomic
def _record_attempt(delivery_id: int, error: str) -> int | None:
    delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status != Delivery.Status.PENDING:
        return None
    delivery.attempts += 1
    delivery.last_error = error
    if not error:
        delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, timezone.now()
        delivery.save(update_fields=["attempts", "last_error", "status", "delivered_at"])
        return None
    if delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        delay = retry_delay(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
        delivery.save(update_fields=["attempts", "last_error", "next_attempt_at"])
        return delay
    delivery.status = Delivery.Status.FAILED
    delivery.save(update_fields=["attempts", "last_error", "status"])
    logger.warning(
        "notification %s to %s by %s failed: %s", delivery.pk, delivery.recipient_id, delivery.channel, error
    )
    return None


def resend_overdue(now: dt.datetime | None = None) -> int:
    """Queue again each pending delivery whose next attempt is long overdue (its task was lost). Returns how many."""
    overdue = (now or timezone.now()) - dt.timedelta(seconds=RESEND_AFTER_SECONDS)
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lt=overdue).values_list(
            "pk", flat=True
        )[:RESEND_BATCH]
    )
    _send(ids)
    return len(ids)


def forget_old(now: dt.datetime | None = None) -> int:
    """Delete the deliveries delivered or failed, written more than NOTIFY_RETENTION_DAYS ago; return how many.

    A pending one stays whatever its age (it is still being tried). In batches, each its own short transaction,
    so a first run over a long history holds no lock for long.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.NOTIFY_RETENTION_DAYS)
    done = Delivery.objects.filter(
        status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED], created_at__lt=cutoff
    ).order_by("created_at")
    forgotten = 0
    while ids := list(done.values_list("pk", flat=True)[:FORGET_BATCH]):
        forgotten += Delivery.objects.filter(pk__in=ids).delete()[0]
    return forgotten
