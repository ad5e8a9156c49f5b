"""Alert rules Policy Admins write, and the alerts evaluating them opens and resolves (alerting.evaluation)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class AlertRule(models.Model):
    """A condition on the rollups (or the registry, the approvals, the audit log's checks) worth telling people of.

    Which fields a kind reads, and what they mean for it, is `alerting.rules.KIND_FIELDS`; `clean` names the field
    a rule lacks or does not use.
    """

    class Kind(models.TextChoices):
        BUDGET = "budget", "Budget consumption"
        VIOLATION_RATE = "violation_rate", "Violation rate above its recent baseline"
        ESCALATION_RATE = "escalation_rate", "Escalation rate above its recent baseline"
        RISK_APPETITE = "risk_appetite", "Department's average risk above its appetite"
        APPROVALS_WAITING = "approvals_waiting", "Approvals waiting"
        FAILURE_RATE = "failure_rate", "Agent's failure rate"
        KILL_SWITCH = "kill_switch", "Kill switch used"
        AUDIT_CHAIN = "audit_chain", "Audit log failing verification"

    class Level(models.TextChoices):
        AGENT = "agent", "Each agent"
        DEPARTMENT = "department", "Each department"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    departments = models.ManyToManyField(
        "orchestration.Department",
        blank=True,
        related_name="+",
        help_text="The departments the rule watches; none: the whole organisation.",
    )
    level = models.CharField(
        max_length=10,
        choices=Level.choices,
        blank=True,
        help_text="Budget consumption only: watch each agent's budget or each department's.",
    )
    threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=(
            "Budget: percent of the monthly budget (80, 100). Violation or escalation rate: how many times the "
            "baseline (2 = twice). Failure rate: percent of outcomes that failed. Approvals waiting: how many."
        ),
    )
    pro_rata = models.BooleanField(
        default=False,
        help_text="Budget only: compare with the threshold's share of the month gone by (on the 10th of a 30-day "
        "month, 80% fires at 26.7% of the budget).",
    )
    minimum_volume = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Rates and risk: decisions (failure rate: outcomes) the window must hold before the rule fires.",
    )
    window_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Rates, risk and failure rate: the hours looked at, the current one included (1 to 168).",
    )
    baseline_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Violation or escalation rate: the whole UTC days before the window's first day that give the "
        "baseline (1 to 30).",
    )
    minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Approvals waiting: fire when the oldest has waited longer than this."
    )
    throttle_minutes = models.PositiveIntegerField(
        default=60,
        help_text="After an alert for a subject, no new one for it until this long after the last one opened.",
    )
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from alerting.rules import rule_errors

        errors = rule_errors({name: getattr(self, name) for name in EDITABLE_FIELDS})
        if errors:
            raise ValidationError(errors)


EDITABLE_FIELDS = (
    "kind",
    "level",
    "threshold",
    "pro_rata",
    "minimum_volume",
    "window_hours",
    "baseline_days",
    "minutes",
    "throttle_minutes",
)


class Alert(models.Model):
    """A rule's condition holding for one subject: open until it clears, then resolved. One open per rule and
    subject (a partial unique constraint), whoever evaluates."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class SubjectType(models.TextChoices):
        AGENT = "agent", "Agent"
        DEPARTMENT = "department", "Department"
        ORGANISATION = "organisation", "Organisation"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    subject_type = models.CharField(max_length=12, choices=SubjectType.choices)
    subject_id = models.BigIntegerField(help_text="The agent's or department's id; 0 for the organisation.")
    subject_name = models.CharField(max_length=200, help_text="The agent's or department's name when it opened.")
    department = models.ForeignKey(
        "orchestration.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose alert it is: who sees it. None: the organisation's, for organisation-wide roles.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    summary = models.CharField(max_length=300, help_text="What was found, in words, when it opened.")
    figures = models.JSONField(default=dict, help_text="The measured figures, as the summary states them.")
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_type", "subject_id"],
                condition=Q(status="open"),
                name="alert_one_open_per_rule_subject",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="alert_status_opened"),
            models.Index(fields=["rule", "subject_type", "subject_id", "-opened_at"], name="alert_rule_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.summary}"
