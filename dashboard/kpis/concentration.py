"""How much of the work rests on each model provider: above the setting's share, a lock-in risk."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from dashboard.kpis.value import cost_and_value
from dashboard.periods import Period


@dataclass(frozen=True)
class ProviderShare:
    provider: str
    decisions: int
    share: float
    over_threshold: bool


def provider_concentration(viewer, period: Period, departments: Iterable[int] | None = None) -> list[ProviderShare]:
    """Share of the period's work per model provider; above the setting, a lock-in risk."""
    rows = cost_and_value(viewer, period, departments, by="provider")
    total = sum(r.decisions for r in rows)
    threshold = settings.PROVIDER_CONCENTRATION_WARNING
    shares = [
        ProviderShare(r.name, r.decisions, round(100 * r.decisions / total, 1), 100 * r.decisions / total > threshold)
        for r in rows
        if total
    ]
    return sorted(shares, key=lambda s: (-s.share, s.provider))
