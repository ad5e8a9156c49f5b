"""The decision point: every action an agent proposes is decided here, and only here."""

import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from governance.models import Decision, Verdict
from governance.risk import base_risk, clamp
from orchestration.models import Agent, Status


@dataclass(frozen=True)
class ActionRequest:
    """What an agent asks to do."""

    action: str
    resource: str = ""
    amount: Decimal | None = None
    currency: str = ""
    data_classes: list[str] = field(default_factory=list)
    context: dict = field(default_factory=dict)


def _status_denial(agent: Agent) -> str | None:
    if agent.status != Status.ACTIVE:
        return f"Agent {agent.slug} is {agent.status}."
    if agent.department.status != Status.ACTIVE:
        return f"Department {agent.department.name} is {agent.department.status}."
    return None


def evaluate_action(agent: Agent, request: ActionRequest) -> Decision:
    """Decide one proposed action, record it, and return the decision."""
    started = time.perf_counter_ns()
    agent = Agent.objects.select_related("department").get(pk=agent.pk)
    denial = _status_denial(agent)
    verdict = Verdict.DENY if denial else Verdict.ALLOW
    explanation = denial or "No policy applies; the department's default (allow) stands."
    risk = base_risk(agent.risk_tier, request.amount, agent.monthly_budget, request.data_classes)
    with transaction.atomic():
        return Decision.objects.create(
            agent=agent,
            department=agent.department,
            action=request.action,
            resource=request.resource,
            amount=request.amount,
            currency=request.currency,
            data_classes=list(request.data_classes),
            context=request.context,
            verdict=verdict,
            risk_score=clamp(risk),
            explanation=explanation,
            matched_policies=[],
            latency_us=(time.perf_counter_ns() - started) // 1000,
        )
