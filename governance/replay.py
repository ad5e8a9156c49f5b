"""Replay: what would a proposed policy set have decided over recorded history?

Both the current set and the proposed one re-decide each recorded request with the inputs recorded
at the time (spend, counts; zero where none were read), so every difference reported comes from the
policy change alone. Decisions are read in id-ordered batches, never all at once.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from governance import engine
from governance.evaluation import subject_of
from governance.models import Decision, ReplayRun, Verdict
from governance.policies import as_enforced, proposed_index, snapshot_of
from orchestration.models import Agent

EXECUTES = {Verdict.ALLOW, Verdict.FLAG}
SAMPLES_PER_TRANSITION = 5
ZERO_INPUTS = {"agent_spend_month": 0.0, "department_spend_month": 0.0, "agent_actions_last_hour": 0}


@dataclass
class ReplayReport:
    since: dt.datetime
    until: dt.datetime
    decisions: int = 0
    changed: int = 0
    transitions: Counter = field(default_factory=Counter)
    by_department: Counter = field(default_factory=Counter)
    by_agent: Counter = field(default_factory=Counter)
    money_blocked: Decimal = Decimal("0")
    money_released: Decimal = Decimal("0")
    samples: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "decisions": self.decisions,
            "changed": self.changed,
            "transitions": {f"{a}→{b}": n for (a, b), n in self.transitions.most_common()},
            "by_department": dict(self.by_department.most_common()),
            "by_agent": dict(self.by_agent.most_common(20)),
            "money_blocked": str(self.money_blocked),
            "money_released": str(self.money_released),
            "samples": self.samples,
        }


def _recorded_inputs(decision: Decision) -> engine.Inputs:
    values = {**ZERO_INPUTS, **(decision.inputs or {})}
    return engine.Inputs({name: (lambda v=value: v) for name, value in values.items()})


def _request_of(decision: Decision) -> engine.Request:
    return engine.Request(
        action=decision.action,
        resource=decision.resource,
        amount=float(decision.amount or 0),
        currency=decision.currency,
        data_classes=tuple(decision.data_classes or ()),
        context=decision.context or {},
    )


def replay(
    changes: dict[int, dict],
    *,
    since: dt.datetime,
    until: dt.datetime,
    batch_size: int = 2000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Re-decide recorded decisions in [since, until) under the current and the proposed policy set."""
    current, proposed = proposed_index({}), proposed_index(changes)
    agents = {a.pk: a for a in Agent.objects.select_related("department", "provider").prefetch_related("capabilities")}
    subjects = {pk: subject_of(a, frozenset(c.code for c in a.capabilities.all())) for pk, a in agents.items()}
    decisions = Decision.objects.filter(created_at__gte=since, created_at__lt=until)
    total = decisions.count()
    report = ReplayReport(since=since, until=until)
    last_id = 0
    while True:
        batch = list(
            decisions.filter(id__gt=last_id)
            .order_by("id")
            .only(
                "id",
                "agent_id",
                "action",
                "resource",
                "amount",
                "currency",
                "data_classes",
                "context",
                "inputs",
                "created_at",
            )[:batch_size]
        )
        if not batch:
            break
        for decision in batch:
            _replay_one(decision, subjects[decision.agent_id], agents, current, proposed, report)
        last_id = batch[-1].pk
        if on_progress:
            on_progress(report.decisions, total)
    return report


def _replay_one(decision, subject, agents, current, proposed, report: ReplayReport) -> None:
    report.decisions += 1
    request, at = _request_of(decision), decision.created_at
    before_candidates = engine.candidates_for(current, subject, request, at)
    after_candidates = engine.candidates_for(proposed, subject, request, at)
    if [(p.version_id, p.number) for p in before_candidates] == [(p.version_id, p.number) for p in after_candidates]:
        return  # the change cannot touch this request
    before = engine.decide(before_candidates, subject, request, at, _recorded_inputs(decision)).verdict
    after = engine.decide(after_candidates, subject, request, at, _recorded_inputs(decision)).verdict
    if before == after:
        return
    report.changed += 1
    report.transitions[(before, after)] += 1
    agent = agents[decision.agent_id]
    report.by_department[agent.department.name] += 1
    report.by_agent[agent.slug] += 1
    amount = decision.amount or Decimal("0")
    if before in EXECUTES and after not in EXECUTES:
        report.money_blocked += amount
    elif after in EXECUTES and before not in EXECUTES:
        report.money_released += amount
    samples = report.samples.setdefault(f"{before}→{after}", [])
    if len(samples) < SAMPLES_PER_TRANSITION:
        samples.append(decision.pk)


def start_replay(policy_ids: list[int], days: int, *, by=None) -> ReplayRun:
    """Queue a replay of these policies, as if enforced, over the last `days` days."""
    from governance.tasks import run_replay

    run = ReplayRun.objects.create(policy_ids=sorted(policy_ids), days=days, requested_by=by)
    transaction.on_commit(lambda: run_replay.delay(run.pk))
    return run


def execute_run(run_id: int) -> None:
    """Carry out a queued replay, saving progress as it goes. Running it twice does nothing more."""
    from governance.models import Policy

    claimed = ReplayRun.objects.filter(pk=run_id, status=ReplayRun.Status.QUEUED).update(
        status=ReplayRun.Status.RUNNING
    )
    if not claimed:
        return
    run = ReplayRun.objects.get(pk=run_id)
    until = timezone.now()
    changes = {p.pk: as_enforced(snapshot_of(p)) for p in Policy.objects.filter(pk__in=run.policy_ids)}

    def progress(processed: int, total: int) -> None:
        ReplayRun.objects.filter(pk=run_id).update(processed=processed, total=total)

    try:
        report = replay(changes, since=until - dt.timedelta(days=run.days), until=until, on_progress=progress)
    except Exception as exc:
        ReplayRun.objects.filter(pk=run_id).update(
            status=ReplayRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    ReplayRun.objects.filter(pk=run_id).update(
        status=ReplayRun.Status.DONE,
        report=report.as_dict(),
        processed=report.decisions,
        total=report.decisions,
        finished_at=timezone.now(),
    )
