"""The Celery app for the orchestration benchmark's worker: Regent's tasks plus a no-op baseline."""

from config.celery import app


@app.task(name="bench.noop", acks_late=True, reject_on_worker_lost=True)
def noop() -> None:
    """The floor: a task that does nothing, through the same broker and worker."""
