"""A person's judgement that a denied or flagged decision was wrong."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from governance.models.decision import Decision


class Override(models.Model):
    """Kept beside the decision, never in it: the decision stays what the engine decided (its rollups and
    its audit entry say so), and this says who disagreed, when and why. An override executes nothing."""

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="override")
    verdict_overridden = models.CharField(max_length=20, help_text="The engine's verdict the person overrode.")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Override of decision {self.decision_id}"
