"""Celery tasks: thin callers of workflows.runtime. They take ids and are safe to run twice."""

from celery import shared_task
from django.conf import settings

from workflows import runtime


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def run_step(self, step_id: int) -> None:
    runtime.run_step(step_id, task_id=self.request.id or "")


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resend_unsent_steps() -> int:
    return len(runtime.resend_unsent_steps(settings.STEP_RESEND_SECONDS))


@shared_task(acks_late=True, reject_on_worker_lost=True)
def detect_stuck_steps() -> int:
    return len(runtime.detect_stuck_steps())
