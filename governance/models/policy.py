"""Policies as Policy Admins write them, and the immutable versions the engine evaluates."""

import fnmatch
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from governance import condition_cost as cost
from orchestration.models import Agent, Capability, Department

ACTION_PATTERN = re.compile(r"^([a-z][a-z0-9_]*)(\.([a-z][a-z0-9_]*|\*))*$|^\*$")


class Effect(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"
    REQUIRE_APPROVAL = "require_approval", "Require approval"
    FLAG = "flag", "Flag"


class Mode(models.TextChoices):
    ENFORCE = "enforce", "Enforce"
    SHADOW = "shadow", "Shadow"


class ApproverRole(models.TextChoices):
    SUPERVISOR = "Supervisor", "Department supervisor"
    EXECUTIVE = "Executive", "Executive"


def parse_actions(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def validate_actions(raw: str) -> None:
    bad = [a for a in parse_actions(raw) if not ACTION_PATTERN.match(a)]
    if bad:
        raise ValidationError(
            "Not an action name or pattern: %(bad)s. Use names like invoice.approve or invoice.*",
            params={"bad": ", ".join(bad)},
        )


class Policy(models.Model):
    name = models.CharField(max_length=160, unique=True)
    rationale = models.TextField(help_text="Why this policy exists; shown to people when it fires.")
    departments = models.ManyToManyField(
        Department, blank=True, related_name="policies", help_text="Empty: every department."
    )
    agents = models.ManyToManyField(Agent, blank=True, related_name="policies", help_text="Empty: every agent.")
    capabilities = models.ManyToManyField(
        Capability,
        blank=True,
        related_name="policies",
        help_text="Applies to agents holding any of these capabilities. Empty: any agent.",
    )
    actions = models.CharField(
        max_length=1000,
        blank=True,
        validators=[validate_actions],
        help_text="Comma-separated action names; invoice.* matches every invoice action. Empty: every action.",
    )
    condition = models.TextField(
        blank=True,
        help_text=(
            "A CEL expression over the request; empty means always. Names: agent.*, department.*, action, "
            "resource, amount, currency, data_classes, context.*, now; functions: agent_spend_month(), "
            "department_spend_month(), agent_actions_last_hour(). Refused past the cost limits (at most "
            f"{cost.MAX_LENGTH:,} characters, {cost.MAX_NESTING} levels of nesting, {cost.MAX_MACRO_NESTING} of "
            f"nested macros, {cost.MAX_LITERAL_ITEMS} items a list, {cost.MAX_STEPS:,} steps): see "
            "docs/policy-language.md."
        ),
    )
    effect = models.CharField(max_length=20, choices=Effect.choices)
    approver_role = models.CharField(
        max_length=20, choices=ApproverRole.choices, blank=True, help_text="Who must approve (require approval)."
    )
    approval_deadline_minutes = models.PositiveIntegerField(
        default=240, help_text="After this, an undecided approval is escalated one level up."
    )
    mode = models.CharField(
        max_length=10,
        choices=Mode.choices,
        default=Mode.ENFORCE,
        help_text="Shadow policies are evaluated and recorded (“would have denied”) but change no verdict.",
    )
    priority = models.IntegerField(default=100, help_text="Higher runs and is listed first.")
    risk_weight = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(50)], help_text="Risk points added when it fires (0–50)."
    )
    enabled = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "name"]
        verbose_name_plural = "policies"
        constraints = [
            models.CheckConstraint(condition=Q(risk_weight__lte=50), name="policy_risk_weight_0_50"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="policy_valid_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def action_patterns(self) -> list[str]:
        return parse_actions(self.actions)

    def clean(self) -> None:
        from governance.conditions import ConditionError, compile_condition

        errors = {}
        if self.condition.strip():
            try:
                compile_condition(self.condition)
            except ConditionError as exc:
                errors["condition"] = str(exc)
        if self.effect == Effect.REQUIRE_APPROVAL and not self.approver_role:
            errors["approver_role"] = "Say who must approve a request this policy holds."
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = "The end of the validity window must come after its start."
        if errors:
            raise ValidationError(errors)


def action_matches(patterns: list[str], action: str) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(action, p) for p in patterns)


class PolicyVersion(models.Model):
    """A policy as it stood after one change. Never edited: the engine evaluates these snapshots."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.snapshot.get('name', self.policy_id)} v{self.number}"


class PolicyExample(models.Model):
    """An example request with the verdict the policy set must give it: a policy's unit test."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="examples")
    description = models.CharField(max_length=200)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    request = models.JSONField(
        help_text='The request as an agent sends it, e.g. {"action": "invoice.approve", "amount": 1200}.'
    )
    expected_verdict = models.CharField(max_length=20, choices=Effect.choices)

    def __str__(self) -> str:
        return self.description

    def action_request(self):
        """The example as a validated ActionRequest; ValidationError names what is wrong."""
        from governance.api.serializers import EvaluateRequestSerializer

        serializer = EvaluateRequestSerializer(data=self.request if isinstance(self.request, dict) else None)
        if not serializer.is_valid():
            raise ValidationError(
                {"request": [f"{field}: {' '.join(map(str, errors))}" for field, errors in serializer.errors.items()]}
            )
        return serializer.to_request()

    def clean(self) -> None:
        self.action_request()
