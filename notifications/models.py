"""Each person's channels, every message sent on one, and the approval links already followed."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from notifications.chat_hosts import validate_webhook_url


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


class Preference(models.Model):
    """Where a person wants to hear from Regent. Without a row: email, to the address of their account.

    The chat webhook URL is a secret (whoever holds it posts into the channel): it is never shown back in full,
    never written to the audit log, and only its owner or an administrator changes it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.BooleanField(default=True, help_text="Send messages by email to the account's address.")
    chat = models.CharField(
        max_length=10,
        blank=True,
        choices=[(Channel.SLACK, Channel.SLACK.label), (Channel.TEAMS, Channel.TEAMS.label)],
        help_text="A chat channel to post messages to, through its incoming webhook.",
    )
    chat_webhook_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[validate_webhook_url],
        help_text="The chat channel's incoming webhook URL (a secret: it is never shown).",
    )
    approvals = models.BooleanField(default=True, help_text="Tell me when a request waits for my decision.")
    reminders = models.BooleanField(default=True, help_text="Remind me before a request's deadline.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"

    def channels(self) -> list[str]:
        chosen = [Channel.EMAIL.value] if self.email and self.user.email else []
        if self.chat and self.chat_webhook_url:
            chosen.append(self.chat)
        return chosen


class Delivery(models.Model):
    """One message to one person on one channel, with every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    key = models.CharField(
        max_length=120, help_text="What the message is about; one delivery per key, person and channel."
    )
    kind = models.CharField(max_length=40, help_text='What kind of message: "approval.requested", "alert.fired"…')
    severity = models.CharField(max_length=10)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    link = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the next attempt is due; long overdue, its task was lost and is resent."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient", "channel"], name="one_notification_per_channel"),
        ]
        indexes = [models.Index(fields=["created_at"], name="delivery_created")]  # retention's range (forget_old)

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} by {self.channel} ({self.status})"


class FollowedLink(models.Model):
    """An approval link already followed: each works once."""

    nonce = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    followed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"link {self.nonce} followed by {self.user}"


class ApprovalNotice(models.Model):
    """An approval event that people must hear of, written where the event is chained and told by a task after.

    `approval_id` is a plain number, not a foreign key: retention deletes decided requests with their decisions.
    """

    approval_id = models.BigIntegerField()
    occasion = models.CharField(max_length=10, help_text="requested, escalated or expired")
    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], condition=models.Q(told_at=None), name="notice_untold")]

    def __str__(self) -> str:
        return f"{self.occasion} notice for approval {self.approval_id}"
