"""No N+1: a list costs the same number of queries for one row as for many."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Approval
from orchestration.kill_switch import change_agent_status
from tests.factories import AgentFactory, CapabilityFactory, DecisionFactory, PolicyFactory, StepTemplateFactory
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


def add_agent(world):
    agent = AgentFactory(department=world.finance_agent.department)
    agent.capabilities.add(CapabilityFactory())


def add_approval(world):
    decision = DecisionFactory(agent=world.finance_agent)
    Approval.objects.create(
        decision=decision,
        department=decision.department,
        approver_role="Supervisor",
        deadline=timezone.now() + dt.timedelta(hours=1),
    )


def add_policy(world):
    PolicyFactory(departments=[world.finance_agent.department], capabilities=[CapabilityFactory()])


def add_run(world):
    run = WorkflowRun.objects.create(workflow=world.workflow, started_by="test")
    StepRun.objects.create(run=run, template=world.workflow.steps.get(), agent=world.finance_agent)


def add_workflow(world):
    StepTemplateFactory()


def add_audit_event(world):
    change_agent_status(world.finance_agent, "paused")
    change_agent_status(world.finance_agent, "active")


LISTS: dict[str, tuple[str, Callable]] = {
    "agents": ("/api/v1/agents", add_agent),
    "decisions": ("/api/v1/decisions", lambda world: DecisionFactory(agent=world.finance_agent)),
    "approvals": ("/api/v1/approvals", add_approval),
    "approvals-mine": ("/api/v1/approvals/mine", add_approval),
    "policies": ("/api/v1/policies", add_policy),
    "workflows": ("/api/v1/workflows", add_workflow),
    "workflow-runs": ("/api/v1/workflow-runs", add_run),
    "audit-events": ("/api/v1/audit-events", add_audit_event),
}


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(("path", "add"), LISTS.values(), ids=LISTS.keys())
def test_a_list_costs_the_same_queries_for_one_row_and_for_many(path, add, client_for, world):
    # Given bob (a Supervisor: the scoped path) and one more row
    client = client_for("bob")
    client.get(path)  # the token's first use records when it was used: not a cost of the list
    add(world)
    few = queries_for(client, path)

    # When five more rows exist
    for _ in range(5):
        add(world)
    many = queries_for(client, path)

    # Then listing them costs no more queries
    assert many == few
