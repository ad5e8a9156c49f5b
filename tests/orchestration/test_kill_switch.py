"""The kill switch: a killed agent (or every agent of a killed department) stops, is denied, and is not
routed to until it is brought back; every step of it is audited."""

import pytest

from audit.models import AuditEvent
from governance.approvals import ApprovalError, decide_approval
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Effect, Verdict
from orchestration.kill_switch import change_agent_status, change_department_status
from orchestration.models import Agent, Status
from tests.factories import StepTemplateFactory, WorkflowTemplateFactory
from tests.support.workflows import steps_of
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def payables_bot(hire) -> Agent:
    return hire("payables-bot", "payables.settle")


@pytest.fixture
def receivables_bot(hire) -> Agent:
    return hire("receivables-bot", "receivables.chase")


@pytest.fixture
def support_bot(hire, support) -> Agent:
    return hire("support-bot", "ticket.reply", department=support)


@pytest.fixture
def park(make_policy, run_workflow, django_capture_on_commit_callbacks):
    """Start one-step runs of the agent's work, each held for a supervisor's approval."""
    make_policy(name="Everything needs a supervisor", effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor")

    def park(agent: Agent) -> StepRun:
        capability = agent.capabilities.get()
        workflow = WorkflowTemplateFactory(slug=f"{capability.code.replace('.', '-')}-work")
        if not workflow.steps.exists():
            StepTemplateFactory(workflow=workflow, key="work", capability=capability)
        step = run_workflow(workflow, {}).steps.get()
        assert (step.agent, step.status) == (agent, StepRun.Status.AWAITING_APPROVAL)
        return step

    return park


def status_of(step: StepRun) -> tuple[str, str, str]:
    step.refresh_from_db()
    step.run.refresh_from_db()
    return step.status, step.error, step.run.status


def test_killing_an_agent_fails_its_unfinished_steps_and_their_runs(park, payables_bot, receivables_bot, alice):
    # Given two runs parked on the payables bot's work and one on the receivables bot's
    payables_steps = [park(payables_bot), park(payables_bot)]
    receivables_step = park(receivables_bot)

    # When alice kills the payables bot
    change_agent_status(payables_bot, Status.KILLED, by=alice)

    # Then both of its steps and their runs failed, saying why; the receivables bot's run still waits
    assert [status_of(step) for step in payables_steps] == [
        (StepRun.Status.FAILED, "agent payables-bot was killed", WorkflowRun.Status.FAILED)
    ] * 2
    assert status_of(receivables_step) == (StepRun.Status.AWAITING_APPROVAL, "", WorkflowRun.Status.AWAITING_APPROVAL)


def test_a_killed_agent_is_denied_whatever_it_asks(payables_bot, alice):
    # Given alice killed the payables bot
    change_agent_status(payables_bot, Status.KILLED, by=alice)

    # When it asks to settle a payable
    decision = evaluate_action(payables_bot, ActionRequest(action="payables.settle"))

    # Then it is denied because it is killed
    assert (decision.verdict, decision.explanation) == (Verdict.DENY, "Agent payables-bot is killed: it may not act.")


def test_a_killed_agents_pending_request_is_withdrawn_and_cannot_be_approved(
    park, payables_bot, bob, alice, django_capture_on_commit_callbacks, fake_provider
):
    # Given a run parked on the payables bot's work, and then the bot was killed
    step = park(payables_bot)
    change_agent_status(payables_bot, Status.KILLED, by=alice)

    # When bob tries to approve the request it had made
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApprovalError, match="withdrawn"):
        decide_approval(step.decision.approval.pk, approve=True, by=bob)

    # Then the step stays failed and no work is done
    assert status_of(step) == (StepRun.Status.FAILED, "agent payables-bot was killed", WorkflowRun.Status.FAILED)
    assert fake_provider.calls == []


@pytest.mark.parametrize("paused", ["agent", "department"])
def test_a_paused_agents_request_is_approved_only_once_it_is_resumed(
    paused, park, payables_bot, bob, alice, django_capture_on_commit_callbacks, fake_provider
):
    # Given a run parked on the payables bot's work, and then the bot (or its department) was paused
    step = park(payables_bot)
    if paused == "agent":
        change_agent_status(payables_bot, Status.PAUSED, by=alice, reason="Reconciling invoices")
    else:
        change_department_status(payables_bot.department, Status.PAUSED, by=alice, reason="Quarter close")

    # When bob tries to approve the request it had made
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApprovalError, match="Resume it before"):
        decide_approval(step.decision.approval.pk, approve=True, by=bob)

    # Then the request still waits and no work was done
    step.decision.approval.refresh_from_db()
    assert step.decision.approval.status == "pending"
    assert fake_provider.calls == []

    # And once resumed, bob's approval goes through
    if paused == "agent":
        change_agent_status(payables_bot, Status.ACTIVE, by=alice, reason="Done")
    else:
        change_department_status(payables_bot.department, Status.ACTIVE, by=alice, reason="Done")
    with django_capture_on_commit_callbacks(execute=True):
        decide_approval(step.decision.approval.pk, approve=True, by=bob)
    step.decision.approval.refresh_from_db()
    assert step.decision.approval.status == "approved"


def test_a_paused_agents_request_may_be_rejected(park, payables_bot, bob, alice, django_capture_on_commit_callbacks):
    step = park(payables_bot)
    change_agent_status(payables_bot, Status.PAUSED, by=alice, reason="Reconciling invoices")

    with django_capture_on_commit_callbacks(execute=True):
        decide_approval(step.decision.approval.pk, approve=False, by=bob, comment="Not this quarter")

    step.decision.approval.refresh_from_db()
    assert step.decision.approval.status == "rejected"


def test_killing_a_department_stops_the_steps_of_all_its_agents(
    park, finance, payables_bot, receivables_bot, support_bot, alice
):
    # Given runs parked on the work of both Finance agents and of a Support agent
    finance_steps = [park(payables_bot), park(receivables_bot)]
    support_step = park(support_bot)

    # When alice kills Finance
    change_department_status(finance, Status.KILLED, by=alice)

    # Then both Finance steps and their runs failed, saying why; the Support run still waits
    assert [status_of(step) for step in finance_steps] == [
        (StepRun.Status.FAILED, "department Finance was killed", WorkflowRun.Status.FAILED)
    ] * 2
    assert status_of(support_step) == (StepRun.Status.AWAITING_APPROVAL, "", WorkflowRun.Status.AWAITING_APPROVAL)


def test_a_killed_agent_is_not_routed_to(reply_workflow, hire, fake_provider, run_workflow, alice):
    # Given two agents who reply to tickets, and alice killed the cheaper one, which routing would prefer
    cheaper = hire("cheaper-bot", "ticket.reply", cost="0.001")
    dearer = hire("dearer-bot", "ticket.reply", cost="0.009")
    change_agent_status(cheaper, Status.KILLED, by=alice)

    # When a ticket comes in
    step = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # Then the other agent takes it, and the killed one is not even a candidate
    assert step.agent == dearer
    assert [candidate["agent"] for candidate in step.routing] == ["dearer-bot"]


def test_a_killed_agent_brought_back_is_routed_to_again(reply_workflow, hire, fake_provider, run_workflow, alice):
    # Given the cheaper of two repliers was killed, so a ticket went to the dearer one, and then alice brought
    # the cheaper one back
    cheaper = hire("cheaper-bot", "ticket.reply", cost="0.001")
    dearer = hire("dearer-bot", "ticket.reply", cost="0.009")
    change_agent_status(cheaper, Status.KILLED, by=alice)
    assert steps_of(run_workflow(reply_workflow, {}))["reply"].agent == dearer
    change_agent_status(cheaper, Status.ACTIVE, by=alice)

    # When the next ticket comes in
    step = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # Then it goes to the cheaper agent again
    assert step.agent == cheaper


def test_killing_and_reviving_an_agent_is_audited_with_each_step_it_stopped(park, payables_bot, alice):
    # Given a run parked on the payables bot's work
    step = park(payables_bot)

    # When alice kills the bot and later brings it back
    change_agent_status(payables_bot, Status.KILLED, by=alice)
    change_agent_status(payables_bot, Status.ACTIVE, by=alice)

    # Then the audit log has both changes as hers, and the stopped step with the reason
    changes = AuditEvent.objects.filter(kind="agent.status_changed", subject_id=str(payables_bot.pk))
    assert [(e.actor, e.before, e.after) for e in changes] == [
        (alice, {"status": "active"}, {"status": "killed"}),
        (alice, {"status": "killed"}, {"status": "active"}),
    ]
    stopped = AuditEvent.objects.filter(kind="workflow.step_changed", subject_id=str(step.pk)).last()
    assert (stopped.after["status"], stopped.after["error"]) == ("failed", "agent payables-bot was killed")
    assert stopped.seq < changes[1].seq


def test_killing_a_department_is_audited_with_each_step_it_stopped(park, finance, payables_bot, alice):
    # Given a run parked on a Finance agent's work
    step = park(payables_bot)

    # When alice kills Finance
    change_department_status(finance, Status.KILLED, by=alice)

    # Then the audit log has the change as hers, and the stopped step with the reason
    change = AuditEvent.objects.get(kind="department.status_changed")
    assert (change.actor, change.subject_id, change.before, change.after) == (
        alice,
        str(finance.pk),
        {"status": "active"},
        {"status": "killed"},
    )
    stopped = AuditEvent.objects.filter(kind="workflow.step_changed", subject_id=str(step.pk)).last()
    assert (stopped.after["status"], stopped.after["error"]) == ("failed", "department Finance was killed")
