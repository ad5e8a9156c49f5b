"""The organisation's priorities (cost, risk, customer satisfaction, resilience) that routing weighs."""

from django.db import transaction

from audit import chain
from workflows import routing
from workflows.models import Strategy


@transaction.atomic
def set_strategy(
    *, cost: int, risk: int, customer_satisfaction: int, resilience: int, note: str = "", by=None
) -> Strategy:
    """Make these priorities the active ones; the previous strategy is kept as history."""
    previous = Strategy.objects.select_for_update().filter(is_active=True).first()
    Strategy.objects.filter(is_active=True).update(is_active=False)
    transaction.on_commit(routing.forget_rankings)
    strategy = Strategy.objects.create(
        cost=cost,
        risk=risk,
        customer_satisfaction=customer_satisfaction,
        resilience=resilience,
        note=note,
        created_by=by,
        is_active=True,
    )
    chain.record(
        "strategy.changed",
        subject_type="strategy",
        subject_id=strategy.pk,
        actor=by,
        before=_weights(previous) if previous else None,
        after={**_weights(strategy), "note": note},
    )
    return strategy


def _weights(strategy: Strategy) -> dict:
    return {
        "cost": strategy.cost,
        "risk": strategy.risk,
        "customer_satisfaction": strategy.customer_satisfaction,
        "resilience": strategy.resilience,
    }
