"""The organisation's priorities, which routing follows. One is active; earlier ones are kept."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

weight = [MinValueValidator(0), MaxValueValidator(100)]


class Strategy(models.Model):
    cost = models.PositiveSmallIntegerField(default=25, validators=weight, help_text="Prefer cheaper agents.")
    risk = models.PositiveSmallIntegerField(default=25, validators=weight, help_text="Prefer safer agents.")
    customer_satisfaction = models.PositiveSmallIntegerField(
        default=25, validators=weight, help_text="Prefer agents whose work customers rate higher."
    )
    resilience = models.PositiveSmallIntegerField(
        default=25, validators=weight, help_text="Prefer agents that succeed and stay available."
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why the priorities changed.")
    is_active = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "orchestration_strategy"
        ordering = ["-created_at"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_strategy"),
            models.CheckConstraint(
                condition=Q(cost__gt=0) | Q(risk__gt=0) | Q(customer_satisfaction__gt=0) | Q(resilience__gt=0),
                name="strategy_has_a_priority",
            ),
        ]

    def __str__(self) -> str:
        return f"cost {self.cost} · risk {self.risk} · CSAT {self.customer_satisfaction} · resilience {self.resilience}"

    def weights(self) -> dict[str, float]:
        """The four weights as shares of one."""
        raw = {"cost": self.cost, "risk": self.risk, "csat": self.customer_satisfaction, "resilience": self.resilience}
        total = sum(raw.values()) or 1
        return {axis: value / total for axis, value in raw.items()}
