"""For running workflows: the invoice every run is given, a stand-in provider that records every call, a way
to look at a run's steps, and runs made directly with one step per agent (for the interaction graph).
The fixtures that use them are in tests/fixtures/workflows.py.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.utils import timezone

from orchestration.models import Agent
from tests.factories import StepTemplateFactory, WorkflowTemplateFactory
from workflows import providers
from workflows.models import StepRun, WorkflowRun

INVOICE = {"invoice": "INV-2026-0042", "vendor": "ACME Paper", "amount": 1200, "currency": "EUR"}
INVOICE_CAPABILITIES = ("invoice.read", "invoice.approve", "payment.send")


def work_done_by(agent: Agent) -> providers.WorkResult:
    return providers.WorkResult(cost=Decimal("0.50"), value=Decimal("20.00"), csat=4, output={"done_by": agent.slug})


class Call(NamedTuple):
    agent: str
    action: str
    idempotency_key: str


@dataclass
class FakeProvider:
    """Stands in for every provider kind. It records each call, fails for the agents that are down, and
    can run something while a call is in flight (a kill switch pressed, a late result arriving)."""

    calls: list[Call] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    while_working: Callable[[Agent, providers.WorkOrder], None] | None = None

    def perform(self, agent: Agent, order: providers.WorkOrder) -> providers.WorkResult:
        self.calls.append(Call(agent.slug, order.action, order.idempotency_key))
        if self.while_working is not None:
            self.while_working(agent, order)
        if agent.slug in self.down:
            raise providers.ProviderError(f"{agent.slug} is down")
        return work_done_by(agent)

    @property
    def agents_called(self) -> list[str]:
        return [call.agent for call in self.calls]

    @property
    def actions_done(self) -> list[str]:
        return [call.action for call in self.calls]


def steps_of(run: WorkflowRun) -> dict[str, StepRun]:
    """The run's steps by key, as they stand now."""
    return {step.template.key: step for step in run.steps.select_related("template", "agent")}


def run(*agents: Agent, delegated_from: StepRun | None = None, days_ago: int = 0) -> list[StepRun]:
    """A workflow run with one step per agent (a child run when `delegated_from` is given)."""
    workflow = WorkflowTemplateFactory()
    started = WorkflowRun.objects.create(workflow=workflow, started_by="test", parent_step=delegated_from)
    WorkflowRun.objects.filter(pk=started.pk).update(started_at=timezone.now() - dt.timedelta(days=days_ago))
    return [
        StepRun.objects.create(run=started, template=StepTemplateFactory(workflow=workflow), agent=agent)
        for agent in agents
    ]
