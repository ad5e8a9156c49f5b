"""Workflow templates and their steps: saved whole, checked for an order they can run in, and audited."""

from django.core.exceptions import ValidationError
from django.db import transaction

from orchestration.entries import InUse, record_change, snapshot
from workflows.models import StepRun, StepTemplate, WorkflowTemplate, step_order_problems


@transaction.atomic
def save_workflow_template(template: WorkflowTemplate, steps: list[dict] | None, *, by=None) -> WorkflowTemplate:
    """Create or change a workflow template and, when given, its whole list of steps, in their order.

    Steps are matched by key, so a step that runs refer to stays the same row; a step left out is deleted,
    unless a run refers to it. Steps given must have distinct keys and be able to run in some order.
    """
    before = snapshot(WorkflowTemplate.objects.select_for_update().get(pk=template.pk)) if template.pk else None
    if steps is not None:
        check_steps(template, steps)
    template.full_clean()
    template.save()
    if steps is not None:
        _replace_steps(template, steps)
    record_change(template, before, by)
    return template


def check_steps(template: WorkflowTemplate, steps: list[dict]) -> None:
    """Raise ValidationError unless the steps have distinct keys and can run in some order, and InUse if
    steps with runs on record would be left out. Callers that collect steps in a form check with it first."""
    keys_ = [step["key"] for step in steps]
    repeated = sorted({key for key in keys_ if keys_.count(key) > 1})
    if repeated:
        raise ValidationError({"steps": [f"Each step needs its own key; repeated: {', '.join(repeated)}."]})
    problems = step_order_problems({step["key"]: step.get("dependencies", []) for step in steps})
    if problems:
        raise ValidationError({"steps": problems})
    if template.pk is None:
        return
    left_out = StepRun.objects.filter(template__workflow=template).exclude(template__key__in=keys_)
    ran = sorted(set(left_out.values_list("template__key", flat=True)))
    if ran:
        raise InUse(f"Steps {', '.join(ran)} have runs on record and cannot be removed; disable the workflow instead.")


def _replace_steps(template: WorkflowTemplate, steps: list[dict]) -> None:
    existing = {step.key: step for step in template.steps.all()}
    kept = {spec["key"] for spec in steps}
    StepTemplate.objects.filter(pk__in=[step.pk for key, step in existing.items() if key not in kept]).delete()
    for position, spec in enumerate(steps, start=1):
        step = existing.get(spec["key"]) or StepTemplate(workflow=template, key=spec["key"])
        step.capability = spec["capability"]
        step.action = spec["action"]
        step.amount_field = spec.get("amount_field", "")
        step.data_classes = spec.get("data_classes", [])
        step.depends_on = ", ".join(spec.get("dependencies", []))
        step.position = position
        step.full_clean(validate_unique=False, validate_constraints=False)  # keys were checked together above
        step.save()
