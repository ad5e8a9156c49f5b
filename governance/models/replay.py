"""A replay a Policy Admin asked for: its progress while it runs and its report once done."""

from django.conf import settings
from django.db import models


class ReplayRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    policy_ids = models.JSONField(help_text="Policies replayed as if enabled and enforced.")
    days = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    processed = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Replay {self.pk} of policies {self.policy_ids} over {self.days} days"

    @property
    def progress(self) -> str:
        return f"{self.processed:,}/{self.total:,}" if self.total else "—"
