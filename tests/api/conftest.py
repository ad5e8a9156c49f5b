"""Fixtures for the REST API: a small organisation with something of each kind in Finance and Support,
and an API client per caller, each authenticated the way that caller really would be."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import Approval, Verdict
from governance.models.policy import ApproverRole
from tests.factories import CapabilityFactory, DecisionFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.api import agent_client, token_client
from workflows.models import StepRun, WorkflowRun
from workflows.strategy import set_strategy


@dataclass
class World:
    """One of each thing the API serves, in Finance unless named otherwise."""

    finance_agent: object
    support_agent: object
    decision: object
    support_decision: object
    approval: object
    run: object
    workflow: object
    policy: object


@pytest.fixture
def world(finance, support, finance_agent, support_agent, make_policy) -> World:
    capability = CapabilityFactory(code="invoice.approve")
    finance_agent.capabilities.add(capability)
    decision = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL)
    support_decision = DecisionFactory(agent=support_agent, action="reply.send")
    approval = Approval.objects.create(
        decision=decision,
        department=finance,
        approver_role=ApproverRole.SUPERVISOR,
        deadline=timezone.now() + dt.timedelta(hours=4),
    )
    step = StepTemplateFactory(capability=capability, workflow=WorkflowTemplateFactory(slug="invoice"))
    run = WorkflowRun.objects.create(workflow=step.workflow, started_by="test")
    StepRun.objects.create(run=run, template=step, agent=finance_agent, status=StepRun.Status.RUNNING)
    policy = make_policy(name="Watch invoices", actions="invoice.*")
    set_strategy(cost=25, risk=25, customer_satisfaction=25, resilience=25)
    return World(finance_agent, support_agent, decision, support_decision, approval, run, step.workflow, policy)


@pytest.fixture
def client_for(alice, bob, carol, dave, erin, world) -> Callable[[str], APIClient]:
    people = {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "erin": erin}

    def make(caller: str) -> APIClient:
        if caller == "agent":
            return agent_client(world.finance_agent)
        if caller == "anonymous":
            return APIClient()
        return token_client(people[caller])

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The matrix creates five people per test; the production hasher would make that minutes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
