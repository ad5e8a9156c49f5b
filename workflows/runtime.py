"""Running workflows: route each step, ask governance, park for a person, do the work, move on.

A step goes pending → routed → (awaiting approval →) running → succeeded, or fails or is cancelled.
Each transition is one transaction that writes a `workflow.step_changed` audit (and live) event.
Provider calls happen outside transactions; the work a step does is recorded once: a redelivered
task finds the step past the state it handles and does nothing, and a result arriving for a step
that is no longer running (cancelled, killed, retried) is discarded.
"""

import logging
from decimal import Decimal

from celery import current_app
from django.db import transaction
from django.utils import timezone

from audit import chain
from fastpath import writes
from governance.approvals import withdraw_pending
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Approval, Verdict
from governance.outcomes import report_outcome
from orchestration import kill_switch
from orchestration.models import Agent
from restapi.domain_errors import DomainError
from workflows import providers, routing, step_reads
from workflows.models import StepRun, WorkflowRun, WorkflowTemplate, step_order_problems

logger = logging.getLogger(__name__)
ATTEMPTS_PER_AGENT = 2
AGENTS_PER_STEP = 3
RETRY_DELAY_SECONDS = 2
ROUTED_FIELDS = ["agent", "routing", "tried_agents", "routed_at", "decision", "task_id", "updated_at"]


class WorkflowError(DomainError):
    """A workflow that cannot be started or changed as asked; the message says why."""


def _record(step: StepRun, **after) -> None:
    chain.record(
        "workflow.step_changed",
        subject_type="step_run",
        subject_id=step.pk,
        actor_label=f"agent:{step.agent.slug}" if step.agent_id else "system:orchestrator",
        department_id=step.agent.department_id if step.agent_id else None,
        after={
            "run_id": step.run_id,
            "step_id": step.pk,
            "step": step.template.key,
            "workflow": step.run.workflow.slug,
            "status": step.status,
            "agent_id": step.agent_id,
            "decision_id": step.decision_id,
            **after,
        },
    )


def _enqueue(step_ids: list[int], countdown: int = 0) -> None:
    from workflows.tasks import run_step

    for step_id in step_ids:
        transaction.on_commit(lambda s=step_id: run_step.apply_async((s,), countdown=countdown), robust=True)


@transaction.atomic
def start_workflow(workflow: WorkflowTemplate, run_input: dict, *, started_by: str) -> WorkflowRun:
    if not workflow.enabled:
        raise WorkflowError(f"The workflow {workflow.name} is disabled.")
    templates = list(workflow.steps.all())
    if not templates:
        raise WorkflowError(f"The workflow {workflow.name} has no steps.")
    problems = step_order_problems({t.key: t.dependencies for t in templates})
    if problems:
        raise WorkflowError(" ".join(problems))
    run = WorkflowRun(workflow=workflow, input=run_input, started_by=started_by)
    writes.insert([run])
    steps = [StepRun(run=run, template=t) for t in templates]
    writes.insert(steps)
    _enqueue([step.pk for step in steps if not step.template.dependencies])
    return run


def _progress(run_id: int, succeeded: str) -> tuple[list[int], bool]:
    """After the step `succeeded` (a key): the pending steps that waited on it and may now start (the others
    were queued already; a second copy of a queued step could call its provider twice), and whether every
    step of the run has succeeded. One read of the run's steps answers both."""
    steps = step_reads.of_run(run_id)
    done = _succeeded_keys(steps)
    ready = [
        s.pk
        for s in steps
        if s.status == StepRun.Status.PENDING and succeeded in s.dependencies and set(s.dependencies) <= done
    ]
    return ready, len(done) == len(steps)


def _succeeded_keys(steps: list[step_reads.RunStep]) -> set[str]:
    return {s.key for s in steps if s.status == StepRun.Status.SUCCEEDED}


def run_step(step_id: int, *, task_id: str = "") -> None:
    """The task body. Safe to run twice: each phase acts only on the state it expects.

    `task_id` names the Celery task, stored on a running step so that a kill switch can revoke it.
    """
    step = _route_and_govern(step_id, task_id)
    if step is None:  # not pending: resumed after an approval, retried, redelivered, or finished
        step = (
            StepRun.objects.select_related("agent__provider", "template", "run__workflow", "decision")
            .filter(pk=step_id)
            .first()
        )
        if step is None or step.status != StepRun.Status.RUNNING:
            return
        if step.task_id != task_id:
            StepRun.objects.filter(pk=step_id, status=StepRun.Status.RUNNING).update(task_id=task_id)
    if step.status == StepRun.Status.RUNNING:
        _perform(step)


@transaction.atomic
@chain.batch()
def _route_and_govern(step_id: int, task_id: str = "") -> StepRun | None:
    """Route a pending step and ask governance; the step when it was pending, else None.

    The step is read and routed first, then the kill switch of the agent chosen is held off, and only then is
    the step locked (the lock order in orchestration.kill_switch: a kill locks the steps it stops, so a step
    locked before waiting for a kill would wait in a cycle); a step that changed meanwhile (another task routed
    it, a kill or a cancel stopped it) is left as it is. Its events (the decision's and the step's) join the
    chain together at the end of the transaction.
    """
    step = step_reads.for_routing(step_id)
    if step is None or step.status != StepRun.Status.PENDING or not _dependencies_met(step):
        return None  # a pending step sent early (the watchdog) is queued again when what it waits for succeeds
    running = step.run.status in (WorkflowRun.Status.RUNNING, WorkflowRun.Status.AWAITING_APPROVAL)
    ranked = routing.route(step.template.capability_id, exclude=step.tried_agents) if running else []
    if ranked:
        kill_switch.hold_off_kills(ranked[0].agent_id, ranked[0].department_id)
    step_reads.serialize_progress(step.run_id)
    if not _locked_unchanged(step):
        return None
    if not running:
        _finish(step, StepRun.Status.CANCELLED, error=f"the run is {step.run.status}")
        return step
    if not ranked:
        _fail(step, f"no active agent holds {step.template.capability.code}")
        return step
    chosen = ranked[0]
    step.routing = [c.as_dict() for c in ranked]
    step.tried_agents = [*step.tried_agents, chosen.agent_id]
    step.status, step.routed_at = StepRun.Status.ROUTED, timezone.now()
    step.decision = evaluate_action(
        Agent(pk=chosen.agent_id, department_id=chosen.department_id), _request_for(step), kills_held_off=True
    )
    step.agent = step.decision.agent  # as governance read it: department and provider attached
    # Routed and governed in one transaction: one write and one event say where the step went, and why.
    routed = {"chosen_score": round(chosen.total, 4), "candidates": len(ranked)}
    if step.decision.verdict == Verdict.DENY:
        writes.update(step, [*ROUTED_FIELDS, "status"])
        _fail(step, step.decision.explanation, **routed)
    elif step.decision.verdict == Verdict.REQUIRE_APPROVAL:
        step.status = StepRun.Status.AWAITING_APPROVAL
        writes.update(step, [*ROUTED_FIELDS, "status"])
        WorkflowRun.objects.filter(pk=step.run_id).update(status=WorkflowRun.Status.AWAITING_APPROVAL)
        _record(step, approval_id=step.decision.approval.pk, **routed)
    else:
        step.task_id = task_id
        _start(step, just_routed=True, **routed)
    return step


def _locked_unchanged(step: StepRun) -> bool:
    """Lock the step read unlocked as `step`; whether it is still in the state it was read in."""
    state = step_reads.lock_state(step.pk)
    return state is not None and (state.status, state.agent_id, state.attempts, state.decision_id) == (
        step.status,
        step.agent_id,
        step.attempts,
        step.decision_id,
    )


def _dependencies_met(step: StepRun) -> bool:
    waits_for = set(step.template.dependencies)
    if not waits_for:
        return True
    return waits_for <= _succeeded_keys(step_reads.of_run(step.run_id))


def _request_for(step: StepRun) -> ActionRequest:
    template, run_input = step.template, step.run.input
    amount = run_input.get(template.amount_field) if template.amount_field else None
    return ActionRequest(
        action=template.action,
        resource=f"workflow-run/{step.run_id}/{template.key}",
        amount=Decimal(str(amount)) if amount is not None else None,
        currency=str(run_input.get("currency", "EUR")) if amount is not None else "",
        data_classes=list(template.data_classes),
        context={"workflow": step.run.workflow.slug, "run_id": step.run_id, "step": template.key},
    )


def _start(step: StepRun, *, just_routed: bool = False, **event) -> None:
    step.status, step.started_at = StepRun.Status.RUNNING, timezone.now()
    writes.update(step, [*(ROUTED_FIELDS if just_routed else ["decision", "updated_at"]), "status", "started_at"])
    _record(step, **event)
    if step.run.status == WorkflowRun.Status.AWAITING_APPROVAL:
        WorkflowRun.objects.filter(pk=step.run_id, status=WorkflowRun.Status.AWAITING_APPROVAL).exclude(
            steps__status=StepRun.Status.AWAITING_APPROVAL
        ).update(status=WorkflowRun.Status.RUNNING)


def _order_key(step: StepRun | step_reads.StepState) -> str:
    """Names the one call the step waits on: the same for a redelivered task, new for a retry or another agent."""
    return f"step-{step.pk}-agent-{step.agent_id}-attempt-{step.attempts}"


def _still_running(step: StepRun, order_key: str) -> bool:
    """Lock the step; whether it still runs the call `order_key` names, for the decision the task holds.

    Otherwise it was cancelled, killed, retried or re-routed meanwhile, and a result no longer counts.
    """
    state = step_reads.lock_state(step.pk)
    return (
        state is not None
        and state.status == StepRun.Status.RUNNING
        and _order_key(state) == order_key
        and state.decision_id == step.decision_id
    )


def _perform(step: StepRun) -> None:
    order = providers.WorkOrder(idempotency_key=_order_key(step), action=step.template.action, input=step.run.input)
    try:
        result = providers.perform(step.agent, order)
    except providers.ProviderError as exc:
        _after_failure(step, order.idempotency_key, str(exc))
        return
    except Exception as exc:  # a bug in a provider must not leave the step running for ever
        logger.exception("provider %s crashed on step %s", step.agent.provider.kind, step.pk)
        _after_failure(step, order.idempotency_key, f"provider crashed: {type(exc).__name__}: {exc}")
        return
    _after_success(step, order.idempotency_key, result)


@transaction.atomic
@chain.batch()
def _after_success(step: StepRun, order_key: str, result: providers.WorkResult) -> None:
    """Record the result of the call `order_key` names, if it still counts, and start what waited on it.

    `step` is the step as the task holds it: its run, template, agent and decision cannot have changed
    while it still runs the same call, so only its state is read again.
    """
    kill_switch.hold_off_kills(step.agent_id, step.agent.department_id)  # the lock order in kill_switch: first
    step_reads.serialize_progress(step.run_id)  # then the run, then the step's own lock
    if not _still_running(step, order_key):
        return
    report_outcome(
        step.decision,
        "success",
        reported_by="system:orchestrator",
        cost=result.cost,
        value=result.value,
        csat=result.csat,
    )
    step.output = result.output
    _finish(step, StepRun.Status.SUCCEEDED, cost=result.cost, value=result.value, csat=result.csat)
    ready, run_succeeded = _progress(step.run_id, step.template.key)
    _enqueue(ready)
    if run_succeeded:
        step.run.status, step.run.finished_at = WorkflowRun.Status.SUCCEEDED, timezone.now()
        writes.update(step.run, ["status", "finished_at"])


@transaction.atomic
@chain.batch()
def _after_failure(step: StepRun, order_key: str, error: str) -> None:
    """Retry the same agent, then re-route to the next best, within limits; then fail.

    A failure gives the spend back to the agent's and department's rows after locking the step, which a kill
    of the agent locks the other way round: the kill switch is held off first (the lock order in kill_switch).
    """
    kill_switch.hold_off_kills(step.agent_id, step.agent.department_id)
    step_reads.serialize_progress(step.run_id)
    if not _still_running(step, order_key):
        return
    step.attempts += 1
    step.error = error
    if step.attempts < ATTEMPTS_PER_AGENT:
        writes.update(step, ["attempts", "error", "updated_at"])
        _record(step, error=error, retry=step.attempts)
        _enqueue([step.pk], countdown=RETRY_DELAY_SECONDS * 2 ** (step.attempts - 1))
        return
    report_outcome(step.decision, "failure", reported_by="system:orchestrator")
    if len(step.tried_agents) >= AGENTS_PER_STEP:
        _fail(step, f"{len(step.tried_agents)} agents failed; last error: {error}")
        return
    step.status, step.attempts, step.decision = StepRun.Status.PENDING, 0, None
    writes.update(step, ["status", "attempts", "decision", "error", "updated_at"])
    _record(step, error=error, rerouted_from=step.agent_id)
    _enqueue([step.pk])


def _finish(step: StepRun, status: str, *, error: str = "", **event) -> None:
    if step.status == StepRun.Status.AWAITING_APPROVAL and step.decision_id:
        withdraw_pending(step.decision_id, f"the step was {status}: {error}".strip(": "))
    step.status, step.finished_at = status, timezone.now()
    if error:
        step.error = error
    writes.update(step, ["status", "finished_at", "error", "output", "updated_at"])
    _record(step, **({"error": error} if error else {}), **event)


def _fail(step: StepRun, reason: str, **event) -> None:
    """A failed step fails its run; the steps that have not started are cancelled."""
    _finish(step, StepRun.Status.FAILED, error=reason, **event)
    unfinished = (
        step.run.steps.select_for_update(of=("self",))
        .select_related("agent", "template", "run__workflow")
        .exclude(status__in=StepRun.FINISHED)
    )
    for other in unfinished:
        _finish(other, StepRun.Status.CANCELLED, error=f"step {step.template.key} failed")
    WorkflowRun.objects.filter(pk=step.run_id).update(status=WorkflowRun.Status.FAILED, finished_at=timezone.now())


def resume_parked_step(sender, approval, approved: bool, **_kwargs) -> None:
    resume_after_approval(approval.decision_id, approved, expired=approval.status == Approval.Status.EXPIRED)


@transaction.atomic
@chain.batch()
def resume_after_approval(decision_id: int, approved: bool, *, expired: bool = False) -> None:
    """A person decided, or nobody did in time: the parked step runs, or fails saying which."""
    parked = StepRun.objects.filter(decision_id=decision_id, status=StepRun.Status.AWAITING_APPROVAL)
    step_reads.serialize_progress(*parked.values_list("run_id", flat=True))  # the lock order in kill_switch
    step = (
        StepRun.objects.select_for_update(of=("self",))  # the agent is a nullable join, which PostgreSQL cannot lock
        .select_related("agent", "template", "run__workflow")
        .filter(decision_id=decision_id, status=StepRun.Status.AWAITING_APPROVAL)
        .first()
    )
    if step is None:
        return
    if approved:
        _start(step)
        _enqueue([step.pk])
    else:
        _fail(step, "the request expired without a decision" if expired else "a person rejected the request")


def hold_run_of_parked_step(sender, decision_id: int, **_kwargs) -> None:
    """A person is about to rule on a request: if a parked step waits for it, hold its run first, before the
    request is locked (the lock order in orchestration.kill_switch; resuming the step then locks it)."""
    parked = StepRun.objects.filter(decision_id=decision_id, status=StepRun.Status.AWAITING_APPROVAL)
    step_reads.serialize_progress(*parked.values_list("run_id", flat=True))


def stop_work_of_killed_agents(sender, agent_ids: list[int], reason: str, **_kwargs) -> None:
    """The registry's kill switch, heard inside the kill's own transaction."""
    stop_agent_work(agent_ids, reason)


@transaction.atomic
@chain.batch()
def stop_agent_work(agent_ids: list[int], reason: str) -> int:
    """Kill switch: the agents' unfinished steps fail (their runs with them). A step already calling
    its provider is failed too, so whatever that call returns is discarded. Returns how many.

    The caller holds the agents' kill switch (no step can be routed to them meanwhile); their runs are locked
    before their steps, in the lock order of orchestration.kill_switch, since failing a step stops its run's
    other steps, whichever agent holds them."""
    unfinished = StepRun.objects.filter(agent_id__in=agent_ids).exclude(status__in=StepRun.FINISHED)
    step_reads.serialize_progress(*unfinished.values_list("run_id", flat=True))
    steps = (
        StepRun.objects.select_for_update(of=("self",))  # the agent is a nullable join, which PostgreSQL cannot lock
        .select_related("agent", "template", "run__workflow")
        .filter(agent_id__in=agent_ids)
        .exclude(status__in=StepRun.FINISHED)
    )
    stopped, running_tasks = 0, []
    for step in steps:
        step.refresh_from_db(fields=["status"])  # failing an earlier step may have cancelled this one
        if step.status in StepRun.FINISHED:
            continue
        if step.status == StepRun.Status.RUNNING and step.task_id:
            running_tasks.append(step.task_id)
        _fail(step, reason)
        stopped += 1
    if running_tasks:
        transaction.on_commit(lambda: _revoke(running_tasks), robust=True)
    return stopped


def _revoke(task_ids: list[str]) -> None:
    """Stop the workers' calls in flight; their results would be discarded anyway (the steps are over)."""
    if not current_app.conf.task_always_eager:
        current_app.control.revoke(task_ids, terminate=True)


@transaction.atomic
@chain.batch()
def cancel_workflow(run: WorkflowRun, *, by: str) -> WorkflowRun:
    """Stop a run: its unfinished steps are cancelled (a pending approval is withdrawn), and a result
    arriving later for a step that was calling its provider is discarded."""
    step_reads.serialize_progress(run.pk)  # before its steps and their requests: the lock order in kill_switch
    run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if run.status not in (WorkflowRun.Status.RUNNING, WorkflowRun.Status.AWAITING_APPROVAL):
        raise WorkflowError(f"The run is {run.status}: only a running run can be cancelled.")
    unfinished = (
        run.steps.select_for_update(of=("self",))  # the agent is a nullable join, which PostgreSQL cannot lock
        .select_related("agent", "template", "run__workflow")
        .exclude(status__in=StepRun.FINISHED)
    )
    running_tasks = [s.task_id for s in unfinished if s.status == StepRun.Status.RUNNING and s.task_id]
    for step in unfinished:
        _finish(step, StepRun.Status.CANCELLED, error=f"cancelled by {by}")
    if running_tasks:
        transaction.on_commit(lambda: _revoke(running_tasks), robust=True)
    run.status, run.finished_at = WorkflowRun.Status.CANCELLED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


class DelegationRefused(WorkflowError):
    status_code = 403
    code = "refused"

    def __init__(self, decision):
        self.decision = decision
        super().__init__(f"Delegation refused: {decision.explanation}")

    def extra(self) -> dict:
        return {"decision_id": self.decision.pk, "verdict": self.decision.verdict}


@transaction.atomic
def delegate(step: StepRun, by_agent: Agent, capability, request: ActionRequest) -> WorkflowRun:
    """The agent working a step hands a sub-task to another agent, as a child run linked to the step.

    The delegating agent is asked about the action first, so a denied action cannot be laundered
    through another agent; the child step then asks again for the agent it is routed to. The kill switch of
    the delegating agent and the step's run are held before the step is locked (the lock order in
    orchestration.kill_switch): a kill of that agent locks its steps.
    """
    kill_switch.hold_off_kills(by_agent.pk, by_agent.department_id)
    step_reads.serialize_progress(step.run_id)
    step = StepRun.objects.select_for_update().select_related("run__workflow").get(pk=step.pk)
    if step.agent_id != by_agent.pk or step.status != StepRun.Status.RUNNING:
        raise WorkflowError("Only the agent running a step may delegate from it, while it runs.")
    asked = evaluate_action(
        by_agent,
        ActionRequest(
            action=request.action,
            resource=request.resource,
            amount=request.amount,
            currency=request.currency,
            data_classes=request.data_classes,
            context={**request.context, "delegation_from_step": step.pk},
        ),
    )
    if asked.verdict not in (Verdict.ALLOW, Verdict.FLAG):
        raise DelegationRefused(asked)
    template, _ = WorkflowTemplate.objects.get_or_create(
        slug=f"delegated-{capability.code.replace('.', '-').replace('_', '-')}",
        defaults={"name": f"Delegated {capability.code}", "description": "Created for delegated sub-tasks."},
    )
    template.steps.get_or_create(
        key="task",
        defaults={"capability": capability, "action": capability.code, "amount_field": "amount", "data_classes": []},
    )
    run_input = {"amount": str(request.amount) if request.amount is not None else None, "currency": request.currency}
    child = start_workflow(template, {k: v for k, v in run_input.items() if v}, started_by=f"agent:{by_agent.slug}")
    WorkflowRun.objects.filter(pk=child.pk).update(parent_step=step)
    child.parent_step = step
    chain.record(
        "workflow.delegated",
        subject_type="step_run",
        subject_id=step.pk,
        actor_label=f"agent:{by_agent.slug}",
        department_id=by_agent.department_id,
        after={"from_step": step.pk, "child_run": child.pk, "action": request.action, "decision_id": asked.pk},
    )
    return child


def resend_unsent_steps(older_than_seconds: int = 10) -> list[int]:
    """Steps committed as pending and ready to run whose task has not started them: sent again.

    A step's task is published after its transaction commits; a process that dies in between leaves the
    step pending with no task anywhere. The step row is the outbox: beat sweeps it every few seconds, so
    such a step runs within seconds, not after the stall watchdog. Each step is sent again at most once
    per `older_than_seconds` (its `updated_at` moves); a task that was only slow in the queue arrives
    twice, and run_step discards the second (it acts only on the state it expects).
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    pending = list(
        StepRun.objects.filter(status=StepRun.Status.PENDING, updated_at__lt=cutoff).values_list("pk", "run_id")[:500]
    )
    unsent = [pk for pk, run_id in pending if _ready(pk, run_id)]
    if unsent:
        with transaction.atomic():
            StepRun.objects.filter(pk__in=unsent, status=StepRun.Status.PENDING).update(updated_at=timezone.now())
            _enqueue(unsent)
    return unsent


def detect_stuck_steps(older_than_seconds: int = 300) -> list[int]:
    """Steps with no progress for too long: routed or running, or pending although everything they wait
    for has succeeded. Reported, and their task sent again.

    Re-sending is safe (run_step acts only on the state it expects); the audit event makes the stall
    visible instead of silent. A pending step still waiting for another (behind a long approval) is not stuck.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    candidates = list(
        StepRun.objects.filter(
            status__in=[StepRun.Status.PENDING, StepRun.Status.ROUTED, StepRun.Status.RUNNING], updated_at__lt=cutoff
        ).values_list("pk", "status", "run_id")[:500]
    )
    stuck = [pk for pk, status, run_id in candidates if status != StepRun.Status.PENDING or _ready(pk, run_id)]
    if stuck:
        with transaction.atomic():
            chain.record(
                "workflow.steps_stuck",
                subject_type="step_run",
                subject_id=stuck[0],
                actor_label="system:watchdog",
                after={"step_ids": stuck, "older_than_seconds": older_than_seconds},
            )
            StepRun.objects.filter(pk__in=stuck).update(updated_at=timezone.now())
            _enqueue(stuck)
    return stuck


def _ready(step_id: int, run_id: int) -> bool:
    steps = step_reads.of_run(run_id)
    done = _succeeded_keys(steps)
    return any(s.pk == step_id and set(s.dependencies) <= done for s in steps)
