"""Celery tasks of the audit chain: thin callers that take ids and are idempotent."""

from celery import shared_task

from audit import checkpoints, counts, retention, verification


@shared_task(acks_late=True, reject_on_worker_lost=True)
def verify_audit_chain(run_id: int) -> None:
    verification.execute(run_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sign_checkpoint() -> int:
    """Beat's signed checkpoint of the chain's head, copied to the witnesses; returns its size."""
    return checkpoints.take().size


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_retention() -> int:
    """Beat's retention run (audit.retention.apply): archives and deletes what expired; returns the batches done."""
    return len(retention.apply())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def fold_event_counts() -> int:
    """Beat's fold of new events into the counts per hour (audit.counts); returns how many were folded."""
    return counts.fold_all()
