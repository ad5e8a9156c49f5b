"""The registry: who the agents are, where they sit and what they may be asked to do."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

non_negative = MinValueValidator(Decimal("0"))


class Status(models.TextChoices):
    """Whether an agent (or a whole department) may act. Killed is a kill switch, not a pause."""

    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    KILLED = "killed", "Killed"


class DepartmentQuerySet(models.QuerySet):
    def supervised_by(self, user) -> "DepartmentQuerySet":
        return self.filter(Q(head=user) | Q(supervisors=user)).distinct()


class Department(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_departments",
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="supervised_departments",
        help_text="People who oversee this department's agents: they see its decisions and act on them.",
    )
    monthly_budget = models.DecimalField(max_digits=14, decimal_places=2, validators=[non_negative])
    risk_appetite = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(100)],
        help_text="Highest average risk score (0–100) the department accepts.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    default_verdict = models.CharField(
        max_length=20,
        choices=[("allow", "Allow"), ("deny", "Deny"), ("require_approval", "Require approval")],
        default="allow",
        help_text="The verdict when no enforced policy applies to a request.",
    )
    month_spent = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    spend_month = models.DateField(null=True, blank=True, editable=False)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_budget__gte=0), name="department_budget_non_negative"),
            models.CheckConstraint(condition=Q(risk_appetite__lte=100), name="department_risk_appetite_0_100"),
        ]

    def __str__(self) -> str:
        return self.name


capability_code = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
    "Use dotted lower-case words, such as invoice.approve.",
)


class Capability(models.Model):
    code = models.CharField(max_length=80, unique=True, validators=[capability_code])
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return self.code

    def dependants(self) -> dict[str, int]:
        return {
            "agents hold it": self.agents.count(),
            "policies are scoped to it": self.policies.count(),
            "workflow steps need it": self.step_templates.count(),
        }


def new_signing_secret() -> str:
    return secrets.token_hex(32)


class ModelProvider(models.Model):
    """A vendor or endpoint that runs agents' models; a row of data, never a hard-wired code path."""

    class Kind(models.TextChoices):
        SIMULATED = "simulated", "Simulated"
        HTTP_WEBHOOK = "http_webhook", "HTTP webhook"
        OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SIMULATED)
    endpoint = models.URLField(blank=True, help_text="Required for webhook and OpenAI-compatible providers.")
    region = models.CharField(max_length=40, blank=True)
    signing_secret = models.CharField(
        max_length=64,
        default=new_signing_secret,
        help_text="Signs webhook calls (HMAC-SHA256 over timestamp and body) so the agent can trust them.",
    )
    cost_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("0"),
        validators=[non_negative],
        help_text="Cost of one unit of work (a call or a thousand tokens), in the organisation's currency.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(cost_per_unit__gte=0), name="provider_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def dependants(self) -> dict[str, int]:
        return {"agents run on it": self.agents.count()}

    def clean(self) -> None:
        if self.kind != self.Kind.SIMULATED and not self.endpoint:
            raise ValidationError({"endpoint": f"A {self.get_kind_display()} provider needs an endpoint."})


class RiskTier(models.IntegerChoices):
    MINIMAL = 1, "Minimal"
    LIMITED = 2, "Limited"
    HIGH = 3, "High"
    CRITICAL = 4, "Critical"


class Agent(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="agents")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_agents",
        help_text="The person accountable for this agent.",
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_agents",
        help_text="The person who watches this agent day to day.",
    )
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="agents")
    provider = models.ForeignKey(ModelProvider, on_delete=models.PROTECT, related_name="agents")
    model_name = models.CharField(max_length=120, blank=True)
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, default=RiskTier.LIMITED)
    monthly_budget = models.DecimalField(max_digits=14, decimal_places=2, validators=[non_negative])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    month_spent = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"), editable=False)
    spend_month = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(monthly_budget__gte=0), name="agent_budget_non_negative"),
        ]
        permissions = [
            ("pause_agent", "Can pause and resume an agent"),
            ("kill_agent", "Can kill an agent or bring it back"),
            ("manage_agent_keys", "Can issue, rotate and revoke agent API keys"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def may_act(self) -> bool:
        return self.status == Status.ACTIVE and self.department.status == Status.ACTIVE


class AgentKey(models.Model):
    """An agent's API key. Only a SHA-256 of the secret is kept; the secret is shown once."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, help_text="The key's public start, to recognise it in lists.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
