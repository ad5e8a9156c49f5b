"""Workflows: templates of steps (a small DAG) and the runs that carry them out, step by step."""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import models

from orchestration.models import Agent, Capability, capability_code


def step_keys(depends_on: str) -> list[str]:
    """The step keys a `depends_on` value names."""
    return [k.strip() for k in depends_on.split(",") if k.strip()]


class WorkflowTemplate(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    sample_input = models.JSONField(
        default=dict, blank=True, help_text='Input for runs started from the admin or the demo, e.g. {"amount": 1200}.'
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        db_table = "orchestration_workflowtemplate"
        ordering = ["name"]

    removal_advice = "its runs stay on record, so disable it instead."

    def __str__(self) -> str:
        return self.name

    def dependants(self) -> dict[str, int]:
        return {"runs are on record": self.runs.count()}

    def audit_details(self) -> dict:
        """A template's audit events keep its steps, in their order."""
        steps = self.steps.select_related("capability").order_by("position", "key")
        return {
            "steps": [
                {
                    "key": step.key,
                    "capability": step.capability.code,
                    "action": step.action,
                    "amount_field": step.amount_field,
                    "data_classes": step.data_classes,
                    "dependencies": step.dependencies,
                }
                for step in steps
            ]
        }


class StepTemplate(models.Model):
    """One step: the capability it needs and the action it asks governance for."""

    workflow = models.ForeignKey(WorkflowTemplate, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=40, help_text="Unique within the workflow; other steps name it to depend on it.")
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="step_templates")
    action = models.CharField(max_length=80, validators=[capability_code])
    amount_field = models.CharField(
        max_length=40, blank=True, help_text="The key of the run's input that holds this step's amount, if any."
    )
    data_classes = models.JSONField(default=list, blank=True)
    depends_on = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated keys of the steps that must succeed first."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        db_table = "orchestration_steptemplate"
        ordering = ["workflow", "position", "key"]
        constraints = [models.UniqueConstraint(fields=["workflow", "key"], name="step_key_unique_in_workflow")]

    def __str__(self) -> str:
        return f"{self.workflow.slug}:{self.key}"

    @property
    def dependencies(self) -> list[str]:
        return step_keys(self.depends_on)

    def clean(self) -> None:
        if self.key in self.dependencies:
            raise ValidationError({"depends_on": "A step cannot depend on itself."})


def step_order_problems(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Why a workflow's steps (key → keys they wait for) could not all run: steps waited for that do not
    exist, or else steps that wait for each other in a circle. Empty when every step can start in turn."""
    waiting = {key: set(needs) for key, needs in dependencies.items()}
    unknown = sorted(set().union(*waiting.values()) - set(waiting))
    if unknown:
        return [f"Steps depend on steps that do not exist: {', '.join(unknown)}."]
    done: set[str] = set()
    while ready := [key for key, needs in waiting.items() if needs <= done]:
        done.update(ready)
        for key in ready:
            del waiting[key]
    return [f"Steps wait for each other in a circle: {', '.join(sorted(waiting))}."] if waiting else []


class WorkflowRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    workflow = models.ForeignKey(WorkflowTemplate, on_delete=models.PROTECT, related_name="runs")
    input = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING, db_index=True)
    started_by = models.CharField(max_length=200, help_text="A person, an agent or the simulator.")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    parent_step = models.ForeignKey(
        "StepRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="delegated_runs",
        help_text="The step that delegated this work, when it was delegated.",
    )

    class Meta:
        db_table = "orchestration_workflowrun"
        ordering = ["-started_at"]
        permissions = [("start_workflowrun", "Can start a workflow run")]
        indexes = [models.Index(fields=["started_at"], name="workflow_run_started")]  # the interaction graph's period

    def __str__(self) -> str:
        return f"{self.workflow.slug} run {self.pk}"


class StepRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ROUTED = "routed", "Routed"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="steps")
    template = models.ForeignKey(StepTemplate, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="step_runs")
    decision = models.OneToOneField(
        "governance.Decision", null=True, blank=True, on_delete=models.PROTECT, related_name="step_run"
    )
    routing = models.JSONField(default=list, blank=True, help_text="Every candidate's score breakdown.")
    attempts = models.PositiveSmallIntegerField(default=0)
    tried_agents = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    output = models.JSONField(default=dict, blank=True)
    task_id = models.CharField(
        max_length=64, blank=True, editable=False, help_text="The Celery task doing the step's work, to revoke it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    routed_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orchestration_steprun"
        ordering = ["run", "template__position", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "template"], name="one_step_run_per_template")]

    def __str__(self) -> str:
        return f"{self.run} / {self.template.key}: {self.status}"
