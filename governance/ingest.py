"""Bulk ingest: decisions taken, and outcomes seen, by agents that are orchestrated elsewhere.

An agent's platform sends up to a batch of items at once. Each item carries the agent's idempotency key,
so a retried batch adds nothing twice. Decisions are written set-based (one COPY; the dashboard's
statement-level trigger writes their rollup changes in one statement) and linked into the audit chain in
one `chain.append_rows` call, one link per decision, so the chain stays exact and every decision is
streamed after commit like one made by `evaluate_action`.
Ingested decisions were decided by the other platform: Regent records them and their risk, but reserves
no budget for them. Outcomes are inserted set-based too, by `report_outcome`'s rules (the first report
counts; a failure gives back what evaluate reserved); they are the agent's claims, so each new one gets
an `outcome.reported` audit event, all of a batch's in one `chain.append` call.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import chain
from fastpath import reads, writes
from governance import risk
from governance.evaluation import summary_of
from governance.models import Decision, Outcome
from governance.outcomes import give_back_spend, outcome_reported_event
from orchestration.models import Agent

MAX_ITEMS = 1000
INGESTED_EXPLANATION = "Decided outside Regent and reported by bulk ingest."


@dataclass(frozen=True)
class ExternalDecision:
    idempotency_key: str
    action: str
    verdict: str
    resource: str = ""
    amount: Decimal | None = None
    currency: str = ""
    data_classes: list[str] = field(default_factory=list)
    context: dict = field(default_factory=dict)
    risk_score: int | None = None
    explanation: str = ""
    occurred_at: dt.datetime | None = None


@dataclass(frozen=True)
class ExternalOutcome:
    idempotency_key: str
    result: str
    decision_id: int | None = None
    decision_key: str = ""
    cost: Decimal = Decimal("0")
    value: Decimal = Decimal("0")
    csat: int | None = None


@dataclass(frozen=True)
class ItemResult:
    index: int
    status: str  # created | duplicate | invalid
    id: int | None = None
    errors: dict | None = None


def ingest(agent: Agent, items: list[tuple[int, ExternalDecision | ExternalOutcome]]) -> list[ItemResult]:
    """Record valid items (with their index in the batch) in one transaction; return a result per item.

    Two copies of one batch racing each other: the loser's insert meets the idempotency constraint,
    and a second pass then finds the winner's decisions and reports them as duplicates.
    """
    try:
        return _ingest(agent, items)
    except IntegrityError:
        return _ingest(agent, items)


@transaction.atomic(durable=True)  # the retry above needs a transaction of its own to start over
def _ingest(agent: Agent, items: list[tuple[int, ExternalDecision | ExternalOutcome]]) -> list[ItemResult]:
    agent = Agent.objects.select_related("department").get(pk=agent.pk)
    decisions = [(i, item) for i, item in items if isinstance(item, ExternalDecision)]
    results = _record_decisions(agent, decisions)
    outcomes = [(i, item) for i, item in items if isinstance(item, ExternalOutcome)]
    results += _record_outcomes(agent, outcomes)
    return sorted(results, key=lambda r: r.index)


def _record_decisions(agent: Agent, items: list[tuple[int, ExternalDecision]]) -> list[ItemResult]:
    known = reads.ids_by(Decision, "idempotency_key", [item.idempotency_key for _, item in items], agent_id=agent.pk)
    fresh: dict[str, dict] = {}
    now = timezone.now()
    for _, item in items:
        if item.idempotency_key not in known and item.idempotency_key not in fresh:
            fresh[item.idempotency_key] = _decision_row(agent, item, now)
    rows = writes.insert_rows(Decision, list(fresh.values()))
    chain.append_rows([_audit_row(agent, row) for row in rows])
    results, first = [], set()
    for index, item in items:
        key = item.idempotency_key
        if key in fresh and key not in first:
            first.add(key)
            results.append(ItemResult(index, "created", fresh[key]["id"]))
        else:
            results.append(ItemResult(index, "duplicate", known.get(key) or fresh[key]["id"]))
    return results


def _decision_row(agent: Agent, item: ExternalDecision, now: dt.datetime) -> dict:
    """The decision's field values ({attname: value}); see fastpath.writes for why not a model instance."""
    score = item.risk_score
    if score is None:
        score = risk.clamp(risk.base_risk(agent.risk_tier, item.amount, agent.monthly_budget, item.data_classes))
    return {
        "agent_id": agent.pk,
        "department_id": agent.department_id,
        "action": item.action,
        "resource": item.resource,
        "amount": item.amount,
        "currency": item.currency,
        "data_classes": list(item.data_classes),
        "context": item.context,
        "verdict": item.verdict,
        "risk_score": score,
        "explanation": item.explanation or INGESTED_EXPLANATION,
        "shadow_verdict": "",
        "matched_policies": [],
        "policy_versions": [],
        "inputs": {},
        "latency_us": 0,
        "created_at": item.occurred_at or now,
        "idempotency_key": item.idempotency_key,
    }


def _audit_row(agent: Agent, decision: dict) -> dict:
    after = summary_of(decision, agent, agent.department.name)
    if after["amount"] is not None:
        after["amount"] = str(after["amount"])  # as chain.plain stores a Decimal
    return {
        "occurred_at": decision["created_at"],
        "actor_id": None,
        "actor_label": f"agent:{agent.slug}",
        "kind": "decision.created",
        "subject_type": "decision",
        "subject_id": str(decision["id"]),
        "department_id": agent.department_id,
        "before": None,
        "after": {**after, "source": "ingest"},
    }


def _record_outcomes(agent: Agent, items: list[tuple[int, ExternalOutcome]]) -> list[ItemResult]:
    """Outcomes set-based like the decisions: one insert, one rollup statement, one audit append, and the
    spend of failed actions given back per agent and month (governance.evaluation.give_back_spend)."""
    ids = [item.decision_id for _, item in items if item.decision_id]
    keys = [item.decision_key for _, item in items if item.decision_key]
    decisions = Decision.objects.filter(agent=agent).only(
        "pk", "agent_id", "department_id", "amount", "verdict", "created_at", "idempotency_key"
    )
    by_id = {d.pk: d for d in decisions.filter(pk__in=ids)}
    by_key = {d.idempotency_key: d for d in decisions.filter(idempotency_key__in=keys)} if keys else {}
    reported = set(
        Outcome.objects.filter(decision__in=[*by_id.values(), *by_key.values()]).values_list("decision_id", flat=True)
    )
    results, outcomes, now = [], [], timezone.now()
    for index, item in items:
        decision = by_id.get(item.decision_id) if item.decision_id else by_key.get(item.decision_key)
        if decision is None:
            results.append(ItemResult(index, "invalid", errors={"decision": ["No decision of this agent has it."]}))
            continue
        if decision.pk in reported:
            results.append(ItemResult(index, "duplicate", decision.pk))
            continue
        outcomes.append(
            Outcome(
                decision=decision,
                result=item.result,
                cost=item.cost,
                value=item.value,
                csat=item.csat,
                reported_by=f"agent:{agent.slug}",
                reported_at=now,
            )
        )
        reported.add(decision.pk)
        results.append(ItemResult(index, "created", decision.pk))
    if outcomes:
        writes.insert(outcomes)
        give_back_spend([o.decision for o in outcomes if o.result == Outcome.Result.FAILURE])
        chain.append([outcome_reported_event(outcome, source="ingest") for outcome in outcomes])
    return results
