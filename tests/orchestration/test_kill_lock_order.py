"""A kill and a step's result recorded at the same moment, with real threads on PostgreSQL, in both sequencing modes.

The kill locks the agent, then the agent's steps; recording a result locks the step, then (inline sequencing) the
chain head. Were the kill to take the chain head before the steps, each would wait for the other: a deadlock that
PostgreSQL breaks by failing one of them. The test holds the result's transaction at the point just after it has
locked its step (a third transaction holds the outcome row it inserts next) until the kill is waiting too.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from audit import chain
from governance.models import Outcome
from orchestration.kill_switch import change_agent_status
from orchestration.models import Status
from tests.support.threads import in_thread
from workflows import providers, runtime
from workflows.models import StepRun

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and deadlocks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True),
]

RESULT = providers.WorkResult(cost=Decimal("0.01"), value=Decimal("1"), csat=5, output={"sent": True})


class Release(Exception):
    pass


def sessions_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def wait_for_waiters(count: int) -> None:
    deadline = time.monotonic() + 30
    while sessions_waiting_for_a_lock() < count:
        assert time.monotonic() < deadline, f"fewer than {count} sessions waiting for a lock"
        time.sleep(0.01)


@pytest.fixture
def running_step(reply_workflow, hire, monkeypatch) -> StepRun:
    """A committed run whose one step is running on the replier: its provider call is under way."""
    monkeypatch.setattr(runtime, "_enqueue", lambda step_ids, countdown=0: None)  # this test drives the step
    hire("replier", "ticket.reply")
    run = runtime.start_workflow(reply_workflow, {}, started_by="user:alice")
    step = runtime._route_and_govern(run.steps.get().pk)
    assert step.status == StepRun.Status.RUNNING
    return step


@pytest.fixture(params=["inline", "queued"])
def sequencing(request) -> None:
    """The test runs in both modes."""
    request.getfixturevalue(request.param)


def test_a_kill_and_a_step_result_at_the_same_moment_both_commit(sequencing, running_step, alice):
    # Given a step whose result is being recorded, held just after it locked the step
    errors: list[BaseException] = []
    gate_held, release = threading.Event(), threading.Event()

    def hold_the_outcome() -> None:
        with transaction.atomic():
            Outcome.objects.create(decision=running_step.decision, result="success", reported_by="test:gate")
            gate_held.set()
            release.wait(30)
            raise Release

    gate = in_thread(hold_the_outcome, [])
    assert gate_held.wait(30)
    recording = in_thread(runtime._after_success, errors, running_step, runtime._order_key(running_step), RESULT)
    wait_for_waiters(1)

    # When the step's agent is killed meanwhile, and the kill is waiting too
    killing = in_thread(lambda: change_agent_status(running_step.agent, Status.KILLED, by=alice), errors)
    wait_for_waiters(2)
    release.set()
    for thread in (gate, recording, killing):
        thread.join(60)

    # Then both commit: the result first (it held the step), then the kill, which finds the step finished
    assert errors == []
    running_step.refresh_from_db()
    running_step.agent.refresh_from_db()
    assert (running_step.status, running_step.agent.status) == (StepRun.Status.SUCCEEDED, Status.KILLED)
    chain.integrate_all()  # queued: no sequencer runs beside this test
    kinds = list(chain.iter_chain())[-2:]
    assert [event.kind for event in kinds] == ["workflow.step_changed", "agent.status_changed"]
    report = chain.verify_chain()
    assert report.ok, report.reason
