"""Beat tasks of the dashboard."""

from celery import shared_task

from dashboard.rollups import FOLD_BATCH, fold_changes


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def fold_rollups() -> int:
    """Fold waiting rollup changes until none are left (idempotent: a repeat finds nothing to fold)."""
    moved = total = fold_changes()
    while moved == FOLD_BATCH:
        moved = fold_changes()
        total += moved
    return total
