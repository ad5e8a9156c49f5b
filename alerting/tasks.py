from celery import shared_task

from alerting.evaluation import evaluate_rules


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_alert_rules() -> dict:
    """Beat's minute: open and resolve alerts (idempotent: a second run finds nothing new to do)."""
    return vars(evaluate_rules())
