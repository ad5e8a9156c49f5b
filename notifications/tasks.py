"""Celery tasks: thin callers of notifications.delivery and .approval_messages; they take ids, safe to run twice."""

from celery import shared_task

from notifications import approval_messages, delivery


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_notification(delivery_id: int) -> None:
    """Send one delivery; on failure, queue the next attempt after an exponentially growing delay."""
    delay = delivery.attempt(delivery_id)
    if delay is not None:
        deliver_notification.apply_async((delivery_id,), countdown=delay)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def tell_approvers(notice_id: int) -> int:
    return approval_messages.tell_from_notice(notice_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resend_overdue_notifications() -> int:
    return delivery.resend_overdue() + approval_messages.resend_untold()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def remind_approvers() -> int:
    return approval_messages.remind_before_deadlines()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def forget_old_notifications() -> int:
    return delivery.forget_old()
