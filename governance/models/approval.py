"""A person's decision on a request a policy held for approval."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from governance.models.decision import Decision
from orchestration.models import Department


class Approval(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn (the work it was for stopped)"

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="approval")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="approvals")
    approver_role = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["deadline"]
        # The inbox lists pending requests only, by scope, and counts them: partial indexes hold the pending
        # few, not the decided history, so counting a backlog reads the index alone (bench/inbox.py).
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(
                fields=["department", "approver_role", "deadline"],
                condition=models.Q(status="pending"),
                name="approval_pending_scope",
            ),
            models.Index(
                fields=["requested_at", "id"], condition=models.Q(status="pending"), name="approval_pending_requested"
            ),
        ]

    def __str__(self) -> str:
        return f"Approval {self.pk} ({self.status})"
