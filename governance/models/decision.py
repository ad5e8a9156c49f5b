"""What agents proposed and what Regent decided."""

from decimal import Decimal

from django.db import models
from django.utils import timezone

from orchestration.models import Agent, Department


class Verdict(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"
    REQUIRE_APPROVAL = "require_approval", "Require approval"
    FLAG = "flag", "Flag"


class Decision(models.Model):
    """One action an agent proposed, and the verdict. Written only by governance.evaluation."""

    # No single-column indexes on the two keys: the (agent|department, created_at, id) indexes below lead with
    # them and serve every lookup, and each index is paid again on every decision written.
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="decisions", db_index=False)
    # The agent's department when it acted: scoping and rollups must not move if the agent does.
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="decisions", db_index=False)
    action = models.CharField(max_length=80)
    resource = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    data_classes = models.JSONField(default=list, blank=True)
    context = models.JSONField(default=dict, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    risk_score = models.PositiveSmallIntegerField()
    explanation = models.TextField(blank=True)
    shadow_verdict = models.CharField(
        max_length=20, choices=Verdict.choices, blank=True, help_text="The verdict had shadow policies been enforced."
    )
    matched_policies = models.JSONField(default=list, blank=True)
    policy_versions = models.JSONField(default=list, blank=True, help_text="Ids of every policy version evaluated.")
    inputs = models.JSONField(default=dict, blank=True, help_text="Stateful inputs the conditions read.")
    latency_us = models.PositiveIntegerField(help_text="Time the engine took to decide, in microseconds.")
    created_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(
        max_length=100, blank=True, help_text="The agent's key for an ingested decision: sent twice, kept once."
    )
    # The W3C trace the agent was in when it asked (its `traceparent`): links the decision to the agent's reasoning,
    # the spans it exports to /v1/traces. Empty when it sent none; db_default for rows copied in by raw SQL.
    trace_id = models.CharField(max_length=32, blank=True, db_default="", default="")
    span_id = models.CharField(max_length=16, blank=True, db_default="", default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        # Newest first by (created_at, id), overall and per department or agent: keyset pages and time windows
        # walk one of these and stop after a page, whatever the table's size. Scanned backwards for DESC.
        indexes = [
            models.Index(fields=["created_at", "id"], name="decision_created_id"),
            models.Index(fields=["department", "created_at", "id"], name="decision_department_created_id"),
            # The department rides along (PostgreSQL): a Supervisor's count of one agent's decisions, scoped to their
            # departments, is an index-only walk, not a heap read per decision (bench/dashboard.py "one agent").
            models.Index(fields=["agent", "created_at", "id"], include=["department"], name="decision_agent_scoped"),
            # Denied, flagged and held decisions (a quarter of them in the demo), by verdict: the explorer's count of
            # "denied" walks this instead of scanning the table for them (bench/dashboard.py "explorer, denied").
            models.Index(
                fields=["verdict", "created_at", "id"],
                include=["department"],
                condition=~models.Q(verdict="allow"),
                name="decision_not_allowed",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="decision_idempotency_key_unique_per_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.agent_id}: {self.verdict}"


class Outcome(models.Model):
    """What happened after a decision, reported later by the agent or another system."""

    class Result(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="outcome")
    result = models.CharField(max_length=10, choices=Result.choices)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    csat = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Customer satisfaction, 1–5.")
    reported_by = models.CharField(
        max_length=200,
        blank=True,
        db_default="",  # rows written by raw SQL (the synthetic history of demo.history) name no reporter
        help_text="Who reported it, as the audit log names actors: agent:<slug>, user:<username> or "
        "system:orchestrator. Empty for outcomes recorded before reporters were, and for synthetic history.",
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.result} for decision {self.decision_id}"
