"""The Celery app for the orchestration benchmark's worker: Regent's tasks plus two baselines, a no-op task and
the hand-written durable writes of a step (bench/raw_step.py)."""

from bench import raw_step  # noqa: F401 (registers bench.raw_step with the worker)
from config.celery import app


@app.task(name="bench.noop", acks_late=True, reject_on_worker_lost=True)
def noop() -> None:
    """The floor: a task that does nothing, through the same broker and worker."""
