"""The risk score: 0 (harmless) to 100 (stop and look), from inputs anyone can check.

| input                     | points                                                     |
|---------------------------|------------------------------------------------------------|
| agent risk tier           | minimal 5, limited 15, high 30, critical 45                |
| amount against budget     | up to 25, in proportion to amount / agent monthly budget   |
| data classes touched      | up to 20: per class in SENSITIVE_DATA_CLASSES, else 2      |
"""

from decimal import Decimal

from orchestration.models import RiskTier

TIER_POINTS = {RiskTier.MINIMAL: 5, RiskTier.LIMITED: 15, RiskTier.HIGH: 30, RiskTier.CRITICAL: 45}
AMOUNT_POINTS = 25
DATA_CLASS_CAP = 20
SENSITIVE_DATA_CLASSES = {"pii": 10, "health": 15, "financial": 5, "credentials": 15, "minor": 15}


def base_risk(risk_tier: int, amount: Decimal | None, budget: Decimal, data_classes: list[str]) -> float:
    """The part of the score known before any policy runs."""
    score = TIER_POINTS.get(risk_tier, TIER_POINTS[RiskTier.CRITICAL])
    if amount and amount > 0:
        share = float(amount / budget) if budget > 0 else 1.0
        score += AMOUNT_POINTS * min(share, 1.0)
    score += min(DATA_CLASS_CAP, sum(SENSITIVE_DATA_CLASSES.get(c, 2) for c in data_classes))
    return score


def clamp(score: float) -> int:
    return max(0, min(100, round(score)))


# The bands people read scores in (the rollups count the same ones); both ends inclusive.
RISK_BANDS = {"low": (0, 24), "moderate": (25, 49), "high": (50, 74), "critical": (75, 100)}
