"""Celery tasks: thin callers of integrations.webhooks. They take ids and are safe to run twice."""

from celery import shared_task

from integrations import webhooks


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> None:
    """Send one delivery; on failure, queue the next attempt after an exponentially growing delay."""
    delay = webhooks.attempt(delivery_id)
    if delay is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=delay)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resend_overdue_webhooks() -> int:
    return webhooks.resend_overdue()
