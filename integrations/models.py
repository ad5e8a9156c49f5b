"""Personal API tokens for people, and outbound webhook subscriptions with their delivery record."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class PersonalToken(models.Model):
    """A person's API token. Only a SHA-256 of the secret is kept; the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “BI export”.")
    prefix = models.CharField(max_length=16, help_text="The token's public start, to recognise it in lists.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class WebhookSubscription(models.Model):
    """An outside system that wants some of Regent's live events POSTed to it, signed.

    With departments named, it hears only their events; with none, the whole organisation's (see
    integrations.webhooks for who may create which).
    """

    url = models.URLField(max_length=500)
    event_types = models.JSONField(help_text='Live event types, e.g. ["decision.created"]; ["*"] for all.')
    departments = models.ManyToManyField(
        "orchestration.Department",
        blank=True,
        related_name="+",
        help_text="Only these departments' events; empty: every event of the organisation.",
    )
    secret = models.CharField(max_length=64, default=new_webhook_secret, help_text="Signs each delivery.")
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("manage_webhooks", "Can manage webhook subscriptions")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField(help_text="The live event's id (its audit chain sequence number).")
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the next attempt is due; long overdue, its task was lost and is resent."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="one_delivery_per_event"),
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} → {self.subscription_id} ({self.status})"
