"""The decision point: every action an agent proposes is decided here, and only here."""

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit import chain
from fastpath import writes
from governance import budgets, engine
from governance.acting_agent import load_actor
from governance.models import Approval, Decision, Verdict
from governance.models.policy import ApproverRole
from orchestration import kill_switch
from orchestration.models import Agent, Department
from telemetry.traceparent import parse_traceparent

DEFAULT_APPROVAL_MINUTES = 240


@dataclass(frozen=True)
class ActionRequest:
    """What an agent asks to do."""

    action: str
    resource: str = ""
    amount: Decimal | None = None
    currency: str = ""
    data_classes: list[str] = field(default_factory=list)
    context: dict = field(default_factory=dict)


def engine_request(request: ActionRequest) -> engine.Request:
    return engine.Request(
        action=request.action,
        resource=request.resource,
        amount=float(request.amount or 0),
        currency=request.currency,
        data_classes=tuple(request.data_classes),
        context=request.context,
    )


def subject_of(agent: Agent, capability_codes: frozenset[str]) -> engine.Subject:
    department = agent.department
    return engine.Subject(
        agent_id=agent.pk,
        department_id=department.pk,
        capability_codes=capability_codes,
        risk_tier=agent.risk_tier,
        monthly_budget=float(agent.monthly_budget),
        default_verdict=department.default_verdict,
        department_name=department.name,
        agent={
            "slug": agent.slug,
            "name": agent.name,
            "risk_tier": agent.risk_tier,
            "monthly_budget": float(agent.monthly_budget),
            "department": department.slug,
            "capabilities": sorted(capability_codes),
            "provider": agent.provider.name,
            "provider_kind": agent.provider.kind,
            "model": agent.model_name,
            "status": agent.status,
        },
        department={
            "slug": department.slug,
            "name": department.name,
            "monthly_budget": float(department.monthly_budget),
            "risk_appetite": department.risk_appetite,
            "status": department.status,
        },
    )


def live_inputs(agent: Agent, now: dt.datetime) -> engine.Inputs:
    """Spend and counts read from the database at the moment a condition asks for them."""

    def department_spend() -> float:
        department = Department.objects.only("month_spent", "spend_month").get(pk=agent.department_id)
        return float(budgets.spent_this_month(department, now))

    return engine.Inputs(
        {
            "agent_spend_month": lambda: float(budgets.spent_this_month(agent, now)),
            "department_spend_month": department_spend,
            "agent_actions_last_hour": lambda: Decision.objects.filter(
                agent_id=agent.pk, created_at__gte=now - dt.timedelta(hours=1)
            ).count(),
        }
    )


def evaluate_action(
    agent: Agent,
    request: ActionRequest,
    *,
    now: dt.datetime | None = None,
    kills_held_off: bool = False,
    traceparent: str | None = None,
) -> Decision:
    """Decide one proposed action, reserve its spend, record the decision, and return it.

    Everything happens in one transaction. A kill of the agent or its department waits for it, and it
    waits for a kill under way (`kill_switch.hold_off_kills`), so the agent it then reads, once, has the
    status that holds at commit. When a condition reads spend or counts, or the action spends money,
    the agent's row is locked too, so its concurrent requests see each other's effects.
    Called inside a caller's transaction (a workflow step), it joins it without a savepoint: an error
    here rolls back the caller's work too, which is what a step that could not be governed needs. A caller
    that holds kills of this agent and department off already (workflow routing, which must before it locks
    its step) says so with `kills_held_off`, saving the statement. A W3C `traceparent` (from the agent's request or
    the MCP gateway) records the trace and span the agent asked from, linking the decision to its reasoning.
    """
    started = time.perf_counter_ns()
    now = now or timezone.now()
    amount = request.amount or Decimal("0")
    facts = engine_request(request)
    trace_id, span_id = parse_traceparent(traceparent) or ("", "")
    with transaction.atomic(savepoint=False):
        if not kills_held_off:
            kill_switch.hold_off_kills(agent.pk, agent.department_id)
        actor = load_actor(agent.pk, spends=amount > 0)
        if actor.agent.department_id != agent.department_id:  # moved since the caller read it: rare
            kill_switch.hold_off_kills(agent.pk, actor.agent.department_id)
            actor = load_actor(agent.pk, spends=amount > 0)
        agent = actor.agent
        index = engine.current_index(actor.policy_set_version)
        subject = subject_of(agent, actor.capability_codes)
        denial = kill_switch.why_it_may_not_act(agent)
        candidates = [] if denial else engine.candidates_for(index, subject, facts, now)
        if amount <= 0 and engine.needs_stateful_inputs(candidates):  # with an amount, load_actor locked it
            locked = Agent.objects.select_for_update(no_key=True).only("month_spent", "spend_month").get(pk=agent.pk)
            agent.month_spent, agent.spend_month = locked.month_spent, locked.spend_month
        ruling = engine.decide(candidates, subject, facts, now, live_inputs(agent, now))
        verdict, explanation = ruling.verdict, ruling.explanation
        if denial:
            verdict, explanation = Verdict.DENY, denial
        elif verdict in (Verdict.ALLOW, Verdict.FLAG) and amount > 0:
            over_budget = budgets.reserve_spend(agent, amount, request.currency, now)
            if over_budget:
                verdict, explanation = Verdict.DENY, f"{over_budget}\n{explanation}"
        decision = Decision(
            agent=agent,
            department=agent.department,
            action=request.action,
            resource=request.resource,
            amount=request.amount,
            currency=request.currency,
            data_classes=list(request.data_classes),
            context=request.context,
            verdict=verdict,
            shadow_verdict=ruling.shadow_verdict if not denial else Verdict.DENY,
            risk_score=ruling.risk_score,
            explanation=explanation,
            matched_policies=describe_hits(ruling),
            policy_versions=ruling.evaluated_version_ids,
            inputs=ruling.inputs,
            created_at=now,
            trace_id=trace_id,
            span_id=span_id,
            latency_us=(time.perf_counter_ns() - started) // 1000,
        )
        writes.insert([decision])
        approval = None
        if verdict == Verdict.REQUIRE_APPROVAL:
            approval = _create_approval(decision, ruling.approval_policy, now)
        Decision._meta.get_field("approval").set_cached_value(decision, approval)  # no query to ask later
        chain.record(
            "decision.created",
            subject_type="decision",
            subject_id=decision.pk,
            actor_label=f"agent:{agent.slug}",
            department_id=agent.department_id,
            after=decision_summary(decision, approval),
            at=now,
        )
        if approval is not None:
            _audit_approval_request(approval, decision, ruling.approval_policy)
    return decision


def decision_summary(decision: Decision, approval: Approval | None = None) -> dict:
    """What the audit chain and the live stream say about a decision."""
    return summary_of(vars(decision), decision.agent, decision.department.name, approval.pk if approval else None)


def summary_of(fields: dict, agent: Agent, department_name: str, approval_id: int | None = None) -> dict:
    """`decision_summary` from a decision's field values ({attname: value}), for bulk rows without instances."""
    return {
        "id": fields["id"],
        "agent": agent.slug,
        "agent_name": agent.name,
        "agent_id": fields["agent_id"],
        "department": department_name,
        "department_id": fields["department_id"],
        "action": fields["action"],
        "resource": fields["resource"],
        "amount": fields["amount"],
        "currency": fields["currency"],
        "verdict": fields["verdict"],
        "shadow_verdict": fields["shadow_verdict"],
        "risk_score": fields["risk_score"],
        "policy_versions": fields["policy_versions"],
        "approval_id": approval_id,
    }


def describe_hits(ruling: engine.Ruling) -> list[dict]:
    """The policies that fired, as stored on the decision and returned to the agent."""
    return [_matched(hit, shadow=False) for hit in ruling.hits] + [
        _matched(hit, shadow=True) for hit in ruling.shadow_hits
    ]


def _matched(hit: engine.Hit, *, shadow: bool) -> dict:
    policy = hit.policy
    entry = {
        "id": policy.policy_id,
        "version": policy.number,
        "version_id": policy.version_id,
        "name": policy.name,
        "effect": policy.effect,
        "rationale": policy.rationale,
        "mode": "shadow" if shadow else "enforce",
    }
    if hit.error:
        entry["error"] = hit.error
    return entry


def _create_approval(decision: Decision, policy: engine.CompiledPolicy | None, now: dt.datetime) -> Approval:
    minutes = policy.approval_deadline_minutes if policy else DEFAULT_APPROVAL_MINUTES
    return Approval.objects.create(
        decision=decision,
        department_id=decision.department_id,
        approver_role=policy.approver_role if policy else ApproverRole.SUPERVISOR,
        requested_at=now,
        deadline=now + dt.timedelta(minutes=minutes),
    )


def _audit_approval_request(approval: Approval, decision: Decision, policy: engine.CompiledPolicy | None) -> None:
    chain.record(
        "approval.requested",
        subject_type="approval",
        subject_id=approval.pk,
        actor_label=f"agent:{decision.agent.slug}",
        department_id=decision.department_id,
        after={
            "approval_id": approval.pk,
            "decision_id": decision.pk,
            "agent_id": decision.agent_id,
            "approver_role": approval.approver_role,
            "deadline": approval.deadline,
            "policy_id": policy.policy_id if policy else None,
        },
        at=approval.requested_at,
    )
