"""State changes to the registry. Views, admin actions and tasks call these, never the ORM directly."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from governance import audit
from orchestration import keys, routing, workflows
from orchestration.models import (
    Agent,
    Capability,
    Department,
    ModelProvider,
    Status,
    StepRun,
    StepTemplate,
    Strategy,
    WorkflowTemplate,
    step_order_problems,
)


def change_agent_status(agent: Agent, status: Status, *, by=None) -> bool:
    """Pause, resume or kill an agent; return whether anything changed."""
    return _change_status(agent, status, by=by, agent_ids=lambda: [agent.pk])


def change_department_status(department: Department, status: Status, *, by=None) -> bool:
    """Pause, resume or kill a whole department: its agents may not act while it is not active."""
    return _change_status(
        department, status, by=by, agent_ids=lambda: list(department.agents.values_list("pk", flat=True))
    )


@transaction.atomic
def _change_status(holder: Agent | Department, status: Status, *, by, agent_ids) -> bool:
    """The kill switch and its milder forms: audited, and a kill stops the work under way at once."""
    model = type(holder)
    current = model.objects.select_for_update().get(pk=holder.pk)
    holder.status = status
    if current.status == status:
        return False
    model.objects.filter(pk=holder.pk).update(status=status)
    kind = model._meta.model_name
    audit.record(
        f"{kind}.status_changed",
        subject_type=kind,
        subject_id=holder.pk,
        actor=by,
        department_id=current.pk if isinstance(current, Department) else current.department_id,
        before={"status": current.status},
        after={"status": status},
    )
    if status == Status.KILLED:
        label = current.slug if isinstance(current, Agent) else current.name
        workflows.stop_agent_work(agent_ids(), f"{kind} {label} was killed")
    routing.forget_rankings()  # a revived agent is routable at once in this process
    transaction.on_commit(routing.forget_rankings)  # a ranking cached before the commit saw the old status
    return True


@transaction.atomic
def issue_agent_key(agent: Agent, *, by=None) -> str:
    """Issue one more key for the agent (its other keys stay valid, for a rollover without downtime)."""
    raw_key = keys.issue_key(agent, by=by)
    _audit_keys("agent.key_issued", agent, by, {"prefix": raw_key[: keys.PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def rotate_agent_key(agent: Agent, *, by=None) -> str:
    """Revoke the agent's keys and issue a new one; the secret is returned once and never stored."""
    raw_key = keys.rotate_keys(agent, by=by)
    _audit_keys("agent.key_rotated", agent, by, {"prefix": raw_key[: keys.PREFIX_LENGTH]})
    return raw_key


@transaction.atomic
def revoke_agent_keys(agent: Agent, *, by=None) -> int:
    revoked = keys.revoke_keys(agent)
    if revoked:
        _audit_keys("agent.keys_revoked", agent, by, {"revoked": revoked})
    return revoked


def _audit_keys(kind: str, agent: Agent, by, after: dict) -> None:
    """Key events name the key by its prefix only: the secret never reaches the audit log."""
    audit.record(
        kind, subject_type="agent", subject_id=agent.pk, actor=by, department_id=agent.department_id, after=after
    )


@transaction.atomic
def set_strategy(
    *, cost: int, risk: int, customer_satisfaction: int, resilience: int, note: str = "", by=None
) -> Strategy:
    """Make these priorities the active ones; the previous strategy is kept as history."""
    previous = Strategy.objects.select_for_update().filter(is_active=True).first()
    Strategy.objects.filter(is_active=True).update(is_active=False)
    transaction.on_commit(routing.forget_rankings)
    strategy = Strategy.objects.create(
        cost=cost, risk=risk, customer_satisfaction=customer_satisfaction, resilience=resilience,
        note=note, created_by=by, is_active=True,
    )  # fmt: skip
    audit.record(
        "strategy.changed",
        subject_type="strategy",
        subject_id=strategy.pk,
        actor=by,
        before=_weights(previous) if previous else None,
        after={**_weights(strategy), "note": note},
    )
    return strategy


def _weights(strategy: Strategy) -> dict:
    return {"cost": strategy.cost, "risk": strategy.risk, "customer_satisfaction": strategy.customer_satisfaction,
            "resilience": strategy.resilience}  # fmt: skip


def status_changes_for(user, agent: Agent) -> list[Status]:
    """The statuses this person may set the agent to now (its department scope is the caller's check).

    Pausing and resuming need pause_agent; killing, or reviving a killed agent, needs kill_agent too.
    """
    if not user.has_perm("orchestration.pause_agent"):
        return []
    may_kill = user.has_perm("orchestration.kill_agent")
    if agent.status == Status.KILLED:
        return [Status.ACTIVE] if may_kill else []
    changes = [Status.PAUSED if agent.status == Status.ACTIVE else Status.ACTIVE]
    return [*changes, Status.KILLED] if may_kill else changes


class InUse(Exception):
    """A registry entry others depend on: deleting it would break them, or silently widen a policy's scope."""


Entry = Capability | ModelProvider | WorkflowTemplate


@transaction.atomic
def save_registry_entry(entry: Capability | ModelProvider, *, by=None) -> Capability | ModelProvider:
    """Create or change a capability or a model provider, validated as its model says, and audited."""
    before = _snapshot(type(entry).objects.select_for_update().get(pk=entry.pk)) if entry.pk else None
    entry.full_clean()
    entry.save()
    _audit_change(entry, before, by)
    transaction.on_commit(routing.forget_rankings)  # a provider's cost is part of every ranking
    return entry


@transaction.atomic
def save_workflow_template(template: WorkflowTemplate, steps: list[dict] | None, *, by=None) -> WorkflowTemplate:
    """Create or change a workflow template and, when given, its whole list of steps, in their order.

    Steps are matched by key, so a step that runs refer to stays the same row; a step left out is deleted,
    unless a run refers to it. Steps given must have distinct keys and be able to run in some order.
    """
    before = _snapshot(WorkflowTemplate.objects.select_for_update().get(pk=template.pk)) if template.pk else None
    if steps is not None:
        check_steps(template, steps)
    template.full_clean()
    template.save()
    if steps is not None:
        _replace_steps(template, steps)
    _audit_change(template, before, by)
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


@transaction.atomic
def delete_registry_entry(entry: Entry, *, by=None) -> None:
    """Delete a capability, provider or workflow template nothing depends on; else raise InUse saying what does."""
    reason = in_use(entry)
    if reason:
        raise InUse(reason)
    before, pk = _snapshot(entry), entry.pk
    try:
        entry.delete()
    except ProtectedError as exc:  # something came to depend on it since the check
        raise InUse(f"{_label(entry)} is in use: {_instead(entry)}") from exc
    kind = entry._meta.model_name
    audit.record(f"{kind}.deleted", subject_type=kind, subject_id=pk, actor=by, before=before)
    transaction.on_commit(routing.forget_rankings)


def in_use(entry: Entry) -> str:
    """Why the entry may not be deleted, saying what depends on it; empty when nothing does."""
    users = _users_of(entry)
    return f"{_label(entry)} is in use ({users}): {_instead(entry)}" if users else ""


def _label(entry: Entry) -> str:
    return f"{entry._meta.verbose_name.capitalize()} {entry}"


def _users_of(entry: Entry) -> str:
    if isinstance(entry, Capability):
        counts = {
            "agents hold it": entry.agents.count(),
            "policies are scoped to it": entry.policies.count(),
            "workflow steps need it": StepTemplate.objects.filter(capability=entry).count(),
        }
    elif isinstance(entry, ModelProvider):
        counts = {"agents run on it": entry.agents.count()}
    else:
        counts = {"runs are on record": entry.runs.count()}
    return ", ".join(f"{count} {what}" for what, count in counts.items() if count)


def _instead(entry: Entry) -> str:
    if isinstance(entry, WorkflowTemplate):
        return "its runs stay on record, so disable it instead."
    return "take it from what uses it first."


def _audit_change(entry: Entry, before: dict | None, by) -> None:
    after = _snapshot(entry)
    if after == before:
        return
    kind = entry._meta.model_name
    audit.record(f"{kind}.{'changed' if before else 'created'}", subject_type=kind, subject_id=entry.pk, actor=by,
                 before=before, after=after)  # fmt: skip


def _snapshot(entry: Entry) -> dict:
    """What the audit log keeps of an entry: its fields (never a provider's signing secret), a template's steps."""
    kept = [f.name for f in entry._meta.concrete_fields if f.name not in ("id", "signing_secret")]
    data = {name: getattr(entry, name) for name in kept}
    if isinstance(entry, WorkflowTemplate):
        data["steps"] = [
            {"key": step.key, "capability": step.capability.code, "action": step.action,
             "amount_field": step.amount_field, "data_classes": step.data_classes, "dependencies": step.dependencies}
            for step in entry.steps.select_related("capability").order_by("position", "key")
        ]  # fmt: skip
    return audit.plain(data)
