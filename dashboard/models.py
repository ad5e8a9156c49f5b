"""Rollups: what the executive pages read instead of the decision table.

Database triggers (installed by `dashboard.rollups`) append one `RollupChange` for every decision,
outcome and resolved approval, in the writer's own transaction; a frequent beat task folds the
changes into `DecisionRollup`, `DepartmentRollup` and `PolicyRollup` buckets and deletes them, in one transaction.
Readers add the changes not folded yet, so the numbers are exact and the cost of a page depends on
the period and the number of agents, never on how many decisions history holds.
"""

from django.db import models

HOUR, DAY = "hour", "day"
GRAINS = [(HOUR, "Hour"), (DAY, "Day")]

# Measures every change carries and every bucket sums, in one order (see dashboard.rollups).
COUNT_MEASURES = (
    "decisions",
    "risk_total",
    "risk_low",
    "risk_moderate",
    "risk_high",
    "risk_critical",
    "shadow_deny",
    "shadow_hold",
    "shadow_allow",
    "outcomes",
    "successes",
    "approvals_approved",
    "approvals_rejected",
    "approvals_expired",
    "approval_wait_seconds",
    "wait_1m",
    "wait_5m",
    "wait_15m",
    "wait_1h",
    "wait_4h",
    "wait_1d",
    "wait_more",
    "csat_total",
    "csat_count",
)
MONEY_MEASURES = ("spend", "cost", "value")
MEASURES = COUNT_MEASURES + MONEY_MEASURES
# `currency` is the currency of the decision's amount ('' without one): spend is summed per currency, never across.
DIMENSIONS = ("department_id", "agent_id", "provider_id", "verdict", "currency")
# The coarser buckets' dimensions: what most figures group by, without the agent and provider (DepartmentRollup).
DEPARTMENT_DIMENSIONS = ("department_id", "verdict", "currency")


def _count() -> models.BigIntegerField:
    return models.BigIntegerField(default=0, db_default=0)


def _money() -> models.DecimalField:
    return models.DecimalField(max_digits=18, decimal_places=2, default=0, db_default=0)


class Measures(models.Model):
    """The sums a bucket keeps. Rates and averages are computed from them in dashboard.kpis."""

    decisions = _count()
    risk_total = _count()
    risk_low = _count()
    risk_moderate = _count()
    risk_high = _count()
    risk_critical = _count()
    shadow_deny = _count()
    shadow_hold = _count()
    shadow_allow = _count()
    outcomes = _count()
    successes = _count()
    approvals_approved = _count()
    approvals_rejected = _count()
    approvals_expired = _count()
    approval_wait_seconds = _count()
    wait_1m = _count()
    wait_5m = _count()
    wait_15m = _count()
    wait_1h = _count()
    wait_4h = _count()
    wait_1d = _count()
    wait_more = _count()
    csat_total = _count()  # the sum of reported customer satisfaction scores (1–5)
    csat_count = _count()  # how many outcomes reported one: the average is csat_total / csat_count
    spend = _money()
    cost = _money()
    value = _money()

    class Meta:
        abstract = True


def _currency() -> models.CharField:
    return models.CharField(max_length=3, blank=True, default="", db_default="")


def _reference(model: str) -> models.ForeignKey:
    # No constraint: rollups are derived data and must never block (or be blocked by) the registry.
    return models.ForeignKey(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")


class RollupChange(Measures):
    """A change the buckets have not absorbed yet. Written only by the database triggers."""

    hour = models.DateTimeField()
    day = models.DateTimeField()
    department = _reference("orchestration.Department")
    agent = _reference("orchestration.Agent")
    provider = _reference("orchestration.ModelProvider")
    verdict = models.CharField(max_length=20)
    currency = _currency()
    policy = models.ForeignKey(
        "governance.Policy", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    policy_mode = models.CharField(max_length=10, blank=True, db_default="")
    hits = _count()

    def __str__(self) -> str:
        return f"change {self.pk} for {self.hour:%Y-%m-%d %H}h"


class DecisionRollup(Measures):
    """Decisions and what followed them, per hour or day of the decision, department, agent, provider, verdict and
    currency of the amount.

    Outcomes and approvals land in their decision's bucket, however late they arrive. `spend` is in the bucket's
    currency (the organisation's when blank); cost and value, reported with outcomes, are in the organisation's.
    """

    grain = models.CharField(max_length=4, choices=GRAINS)
    start = models.DateTimeField()
    department = _reference("orchestration.Department")
    agent = _reference("orchestration.Agent")
    provider = _reference("orchestration.ModelProvider")
    verdict = models.CharField(max_length=20)
    currency = _currency()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "start", "department", "agent", "provider", "verdict", "currency"],
                name="decision_rollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["grain", "start"], name="decision_rollup_period"),
            models.Index(fields=["agent", "grain", "start"], name="decision_rollup_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.start:%Y-%m-%d %H}h: {self.decisions} decisions"


class DepartmentRollup(Measures):
    """DecisionRollup's buckets added up across agents and providers: per hour or day, department, verdict and
    currency. Kept with them (dashboard.rollups.add_to_buckets), read for every figure that is not per agent or
    provider, so an organisation with many agents reads tens of rows an hour, not one per agent, provider and
    verdict (bench/dashboard.py: the overview at 10 million decisions)."""

    grain = models.CharField(max_length=4, choices=GRAINS)
    start = models.DateTimeField()
    department = _reference("orchestration.Department")
    verdict = models.CharField(max_length=20)
    currency = _currency()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "start", "department", "verdict", "currency"], name="department_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.start:%Y-%m-%d %H}h: {self.decisions} decisions in department {self.department_id}"


class PolicyRollup(models.Model):
    """How often each policy fired (enforced or in shadow), per hour or day, department and agent."""

    grain = models.CharField(max_length=4, choices=GRAINS)
    start = models.DateTimeField()
    department = _reference("orchestration.Department")
    agent = _reference("orchestration.Agent")
    policy = _reference("governance.Policy")
    policy_mode = models.CharField(max_length=10)
    hits = _count()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "start", "department", "agent", "policy", "policy_mode"], name="policy_rollup_key"
            )
        ]
        indexes = [
            models.Index(fields=["grain", "start"], name="policy_rollup_period"),
            models.Index(fields=["agent", "grain", "start"], name="policy_rollup_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.start:%Y-%m-%d %H}h: policy {self.policy_id} fired {self.hits}"


class ControlLibrary(models.Model):
    """No table: it carries the permission to read the control library and its evidence (dashboard.compliance),
    which lives in a data file, not in the database."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_controls", "Can see the controls frameworks ask for and the evidence Regent holds")]

    def __str__(self) -> str:
        return "the control library"
