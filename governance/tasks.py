"""Celery tasks: thin callers of the governance service functions. They take ids and are idempotent."""

from celery import shared_task

from governance import approvals, replay


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_replay(run_id: int) -> None:
    replay.execute_run(run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalate_overdue_approvals() -> int:
    return approvals.escalate_overdue()
