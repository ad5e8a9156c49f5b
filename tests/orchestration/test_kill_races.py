"""The kill switch racing the work it stops, with real threads on PostgreSQL and inline sequencing (the chain head
locked in the writer's transaction): however the two interleave, both commit, and neither is failed by PostgreSQL's
deadlock detector.

Each kind of race runs many rounds of a kill and a step path started at the same moment (a barrier), and, where a
random interleaving rarely finds the one order that deadlocks, once more with that order forced: a third transaction
holds a row (or lock) that the step path needs next, until the kill is waiting too. The one lock order both sides
follow is in orchestration.kill_switch's docstring.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit import chain
from governance.approvals import ApprovalError, decide_approval, escalate_overdue
from governance.evaluation import ActionRequest
from governance.models import Approval, Effect, Outcome, Policy, Verdict
from governance.models.policy import ApproverRole
from orchestration.kill_switch import _LOCK_CLASSES, change_agent_status, change_department_status
from orchestration.models import Agent, Department, Status
from tests.factories import CapabilityFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.threads import in_thread
from workflows import providers, runtime
from workflows.models import StepRun, WorkflowRun

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and deadlocks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]

ROUNDS = 25
AMOUNT = {"amount": "40.00", "currency": "EUR"}
RESULT = providers.WorkResult(cost=Decimal("0.01"), value=Decimal("1"), csat=5, output={"sent": True})


class Release(Exception):
    pass


def at_once(*calls: Callable[[], object]) -> list[BaseException]:
    """Run the calls in threads of their own, released together; the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait(30)
            call()

        return run

    threads = [in_thread(released(call), errors) for call in calls]
    for thread in threads:
        thread.join(60)
    return errors


def sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for_waiters(count: int, *, or_done: threading.Thread | None = None) -> None:
    """Until `count` sessions wait for a lock (or the thread `or_done` has finished, never having to wait)."""
    deadline = time.monotonic() + 30
    while sessions_waiting_for_a_lock() < count and not (or_done is not None and not or_done.is_alive()):
        assert time.monotonic() < deadline, f"fewer than {count} sessions waiting for a lock"
        time.sleep(0.01)


def holding(hold: Callable[[], None]) -> tuple[threading.Thread, threading.Event]:
    """A transaction that runs `hold`, then keeps what it locked until released (and rolls back)."""
    held, release = threading.Event(), threading.Event()

    def body() -> None:
        with transaction.atomic():
            hold()
            held.set()
            release.wait(30)
            raise Release

    gate = in_thread(body, [])
    assert held.wait(30)
    return gate, release


@pytest.fixture
def paying_step(hire, finance, monkeypatch) -> Callable[..., StepRun]:
    """A committed one-step run that spends its amount, running on an agent of its own (or the one given): the
    provider call is under way, and the spend reserved. `attempts=1` makes a failure its last on that agent."""
    monkeypatch.setattr(runtime, "_enqueue", lambda step_ids, countdown=0: None)  # this test drives the steps
    capability = CapabilityFactory(code="payables.settle")
    workflow = WorkflowTemplateFactory(slug="settle-payable")
    StepTemplateFactory(workflow=workflow, key="settle", capability=capability, amount_field="amount")
    made = iter(range(1_000))

    def make(agent: Agent | None = None, *, attempts: int = 0, parked: bool = False) -> StepRun:
        if agent is None:
            agent = hire(f"settler-{next(made)}", department=finance)
            agent.capabilities.add(capability)
        run = runtime.start_workflow(workflow, AMOUNT, started_by="user:alice")
        step = runtime._route_and_govern(run.steps.get().pk)
        expected = (StepRun.Status.AWAITING_APPROVAL, Verdict.REQUIRE_APPROVAL)
        if not parked:
            expected = (StepRun.Status.RUNNING, Verdict.ALLOW)
        assert (step.status, step.decision.verdict, step.agent) == (*expected, agent)
        if attempts:
            StepRun.objects.filter(pk=step.pk).update(attempts=attempts)
            step.attempts = attempts
        return step

    return make


def assert_stopped(step: StepRun) -> None:
    step.refresh_from_db()
    step.agent.refresh_from_db()
    assert step.agent.status == Status.KILLED
    assert step.status in StepRun.FINISHED or step.status == StepRun.Status.PENDING  # failed over, or stopped
    report = chain.verify_chain()
    assert report.ok, report.reason


def test_kills_and_step_results_at_the_same_moment_all_commit(inline, paying_step, alice):
    for round_ in range(ROUNDS):
        # Given a step whose agent's provider has just answered
        step = paying_step()
        key = runtime._order_key(step)

        # When its result is recorded while alice kills the agent
        errors = at_once(
            partial(runtime._after_success, step, key, RESULT),
            partial(change_agent_status, step.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other
        assert errors == [], f"round {round_}: {errors!r}"
        assert_stopped(step)


def test_kills_and_step_failures_at_the_same_moment_all_commit(inline, paying_step, alice):
    for round_ in range(ROUNDS):
        # Given a step whose agent's provider has just failed, for the last time on that agent
        step = paying_step(attempts=1)
        key = runtime._order_key(step)

        # When the failure is recorded (its spend given back) while alice kills the agent
        errors = at_once(
            partial(runtime._after_failure, step, key, "the provider timed out"),
            partial(change_agent_status, step.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other
        assert errors == [], f"round {round_}: {errors!r}"
        assert_stopped(step)


def test_a_kill_waiting_for_a_failing_step_that_gives_back_spend_both_commit(inline, paying_step, alice):
    # Given a step's last failure being recorded, held just after it locked the step (a third transaction holds
    # the outcome row it inserts next, before it gives the spend back to the agent)
    step = paying_step(attempts=1)
    gate, release = holding(lambda: Outcome.objects.create(decision=step.decision, result="failure", reported_by="t"))
    errors: list[BaseException] = []
    recording = in_thread(runtime._after_failure, errors, step, runtime._order_key(step), "the provider timed out")
    wait_for_waiters(1)

    # When alice kills the agent meanwhile, and the kill is waiting too
    killing = in_thread(lambda: change_agent_status(step.agent, Status.KILLED, by=alice), errors)
    wait_for_waiters(2)
    release.set()
    for thread in (gate, recording, killing):
        thread.join(60)

    # Then both commit: the failure first (its spend given back), then the kill
    assert errors == []
    step.agent.refresh_from_db()
    assert step.agent.status == Status.KILLED
    assert step.agent.month_spent == Decimal("0")
    assert_stopped(step)


def test_approvals_and_kills_at_the_same_moment_all_commit(inline, paying_step, make_policy, bob, alice):
    # Given steps parked for a supervisor's approval
    make_policy(name="Payments need a supervisor", effect=Effect.REQUIRE_APPROVAL, approver_role="Supervisor")
    for round_ in range(ROUNDS):
        step = paying_step(parked=True)

        # When bob approves the request while alice kills the agent
        errors = at_once(
            partial(decide_approval, step.decision.approval.pk, approve=True, by=bob, comment="fine"),
            partial(change_agent_status, step.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other: a kill first withdraws the request, and bob is told so
        refused = [e for e in errors if isinstance(e, ApprovalError) and "withdrawn" in str(e)]
        assert errors == refused, f"round {round_}: {errors!r}"
        assert_stopped(step)


def test_a_department_kill_and_a_step_being_routed_into_it_both_commit(inline, hire, finance, monkeypatch, alice):
    # Given a run of two parallel steps in Finance: one running on the first agent, the other being routed to the
    # second agent, held where it asks for that agent's kill-switch lock (a third transaction holds it, as a kill
    # of that agent would): before the fix, just after it had locked its step
    monkeypatch.setattr(runtime, "_enqueue", lambda step_ids, countdown=0: None)
    first, second = CapabilityFactory(code="invoice.read"), CapabilityFactory(code="invoice.check")
    reader, checker = hire("reader", department=finance), hire("checker", department=finance)
    reader.capabilities.add(first)
    checker.capabilities.add(second)
    workflow = WorkflowTemplateFactory(slug="read-and-check")
    StepTemplateFactory(workflow=workflow, key="read", capability=first, position=1)
    StepTemplateFactory(workflow=workflow, key="check", capability=second, position=2)
    run = runtime.start_workflow(workflow, {}, started_by="user:alice")
    reading, checking = run.steps.order_by("template__position")
    assert runtime._route_and_govern(reading.pk).status == StepRun.Status.RUNNING
    gate, release = holding(lambda: advisory_lock(Agent, checker.pk))
    errors: list[BaseException] = []
    routing = in_thread(runtime._route_and_govern, errors, checking.pk)
    wait_for_waiters(1)

    # When alice kills the whole department meanwhile (it waits for the step, or the step, not locked yet, for it)
    killing = in_thread(lambda: change_department_status(finance, Status.KILLED, by=alice), errors)
    wait_for_waiters(2, or_done=killing)
    release.set()
    for thread in (gate, routing, killing):
        thread.join(60)

    # Then both commit, and the run is stopped
    assert errors == []
    assert Department.objects.get(pk=finance.pk).status == Status.KILLED
    assert WorkflowRun.objects.get(pk=run.pk).status == WorkflowRun.Status.FAILED
    assert set(run.steps.values_list("status", flat=True)) <= set(StepRun.FINISHED)
    report = chain.verify_chain()
    assert report.ok, report.reason


def advisory_lock(model, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASSES[model], pk])


@pytest.fixture
def two_agents_one_run(hire, finance, make_policy, monkeypatch) -> Callable[..., tuple[StepRun, StepRun]]:
    """Runs of two parallel steps, each on an agent of its own: the reader's running, the checker's governed by
    the effect given (started when it is first asked for)."""
    monkeypatch.setattr(runtime, "_enqueue", lambda step_ids, countdown=0: None)
    first, second = CapabilityFactory(code="invoice.read"), CapabilityFactory(code="invoice.check")
    reader, checker = hire("reader", department=finance), hire("checker", department=finance)
    reader.capabilities.add(first)
    checker.capabilities.add(second)
    workflow = WorkflowTemplateFactory(slug="read-and-check")
    StepTemplateFactory(workflow=workflow, key="read", capability=first, position=1)
    StepTemplateFactory(workflow=workflow, key="check", capability=second, position=2)

    def make(effect: str) -> tuple[StepRun, StepRun]:
        if not Policy.objects.exists():
            make_policy(
                name="Checks", effect=effect, actions="invoice.check", rationale="Checked.", approver_role="Supervisor"
            )
        reader.status = checker.status = Status.ACTIVE
        Agent.objects.filter(pk__in=[reader.pk, checker.pk]).update(status=Status.ACTIVE)
        run = runtime.start_workflow(workflow, {}, started_by="user:alice")
        reading, checking = run.steps.order_by("template__position")
        reading = runtime._route_and_govern(reading.pk)
        assert reading.status == StepRun.Status.RUNNING
        return reading, checking

    return make


def test_a_kill_and_a_ruling_on_another_agents_step_of_the_same_run_both_commit(inline, two_agents_one_run, alice, bob):
    for round_ in range(ROUNDS):
        # Given a run whose reader is running and whose checker waits for bob's approval
        reading, checking = two_agents_one_run(Effect.REQUIRE_APPROVAL)
        checking = runtime._route_and_govern(checking.pk)
        assert checking.status == StepRun.Status.AWAITING_APPROVAL

        # When bob approves the check while alice kills the reader (which stops the run, the check with it)
        errors = at_once(
            partial(decide_approval, checking.decision.approval.pk, approve=True, by=bob, comment="fine"),
            partial(change_agent_status, reading.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other
        refused = [e for e in errors if isinstance(e, ApprovalError) and "withdrawn" in str(e)]
        assert errors == refused, f"round {round_}: {errors!r}"
        assert WorkflowRun.objects.get(pk=reading.run_id).status == WorkflowRun.Status.FAILED


def test_a_kill_and_a_denial_of_another_agents_step_of_the_same_run_both_commit(inline, two_agents_one_run, alice):
    for round_ in range(ROUNDS):
        # Given a run whose reader is running and whose checker is about to be routed, and denied
        reading, checking = two_agents_one_run(Effect.DENY)

        # When the check is routed and denied (which fails the run) while alice kills the reader
        errors = at_once(
            partial(runtime._route_and_govern, checking.pk),
            partial(change_agent_status, reading.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other
        assert errors == [], f"round {round_}: {errors!r}"
        assert WorkflowRun.objects.get(pk=reading.run_id).status == WorkflowRun.Status.FAILED


def test_a_kill_and_the_expiry_of_another_agents_request_in_the_same_run_both_commit(inline, two_agents_one_run, alice):
    for round_ in range(ROUNDS):
        # Given a run whose reader is running and whose checker's request is past its last deadline
        reading, checking = two_agents_one_run(Effect.REQUIRE_APPROVAL)
        checking = runtime._route_and_govern(checking.pk)
        Approval.objects.filter(pk=checking.decision.approval.pk).update(
            approver_role=ApproverRole.EXECUTIVE, deadline=timezone.now() - dt.timedelta(minutes=1)
        )

        # When the deadline job expires it (which fails the run) while alice kills the reader
        errors = at_once(escalate_overdue, partial(change_agent_status, reading.agent, Status.KILLED, by=alice))

        # Then both commit, in one order or the other
        assert errors == [], f"round {round_}: {errors!r}"
        assert WorkflowRun.objects.get(pk=reading.run_id).status == WorkflowRun.Status.FAILED


def test_a_kill_and_a_delegation_by_the_same_agent_both_commit(inline, paying_step, alice):
    helping = CapabilityFactory(code="invoice.read")
    for round_ in range(ROUNDS):
        # Given a step running on its agent
        step = paying_step()

        # When the agent hands a sub-task on while alice kills it
        errors = at_once(
            partial(runtime.delegate, step, step.agent, helping, ActionRequest(action="invoice.read")),
            partial(change_agent_status, step.agent, Status.KILLED, by=alice),
        )

        # Then both commit, in one order or the other: a kill first refuses the delegation, saying why
        refused = [e for e in errors if isinstance(e, runtime.WorkflowError)]
        assert errors == refused, f"round {round_}: {errors!r}"
        assert_stopped(step)
