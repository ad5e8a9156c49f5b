"""A step starts only when everything it waits for has succeeded: not when sent early, and not never
when two parallel steps finish at the same moment."""

import contextlib
import datetime as dt
import threading

import pytest
from django.db import connection

from tests.factories import CapabilityFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.workflows import work_done_by
from workflows import runtime, step_reads
from workflows.models import StepRun, WorkflowRun

BARRIER_SECONDS = 3


@pytest.fixture
def fork_and_join(db, hire):
    """Check the invoice and check the vendor, in parallel; then pay, which waits for both."""
    codes = ("invoice.check", "vendor.check", "invoice.pay")
    check, vet, pay = (CapabilityFactory(code=code) for code in codes)
    workflow = WorkflowTemplateFactory(name="Fork and join", slug="fork-and-join")
    StepTemplateFactory(workflow=workflow, key="check", capability=check, position=1)
    StepTemplateFactory(workflow=workflow, key="vet", capability=vet, position=2)
    StepTemplateFactory(workflow=workflow, key="pay", capability=pay, depends_on="check, vet", position=3)
    hire("clerk", *codes)
    return workflow


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The steps queued, not run: each test runs the tasks it means to."""
    steps: list[int] = []
    monkeypatch.setattr(runtime, "_enqueue", lambda step_ids, countdown=0: steps.extend(step_ids))
    return steps


def steps_of(run: WorkflowRun) -> dict[str, StepRun]:
    return {s.template.key: s for s in run.steps.select_related("template")}


def test_a_step_sent_before_what_it_waits_for_has_succeeded_stays_pending(fork_and_join, fake_provider, queued):
    # Given a run whose first steps have not run yet
    run = runtime.start_workflow(fork_and_join, {}, started_by="user:alice")
    pay = steps_of(run)["pay"]

    # When the joining step's task arrives early (the watchdog re-sends pending steps)
    runtime.run_step(pay.pk)

    # Then it is neither routed nor carried out
    pay.refresh_from_db()
    assert (pay.status, pay.decision_id, fake_provider.calls) == (StepRun.Status.PENDING, None, [])


def test_the_watchdog_reports_a_ready_step_nobody_started_not_one_still_waiting(fork_and_join, queued):
    # Given a run whose two first steps were never started, long ago
    run = runtime.start_workflow(fork_and_join, {}, started_by="user:alice")
    StepRun.objects.filter(run=run).update(updated_at=run.started_at.replace(year=2000))

    # When the watchdog looks
    stuck = runtime.detect_stuck_steps()

    # Then the two ready steps are stuck and sent again; the step waiting for them is not stuck
    steps = steps_of(run)
    assert sorted(stuck) == sorted([steps["check"].pk, steps["vet"].pk])


def test_steps_whose_tasks_were_lost_after_commit_are_sent_again_within_seconds(fork_and_join, queued):
    # Given a run committed with its first steps pending, whose tasks never reached the broker, 11 s ago
    run = runtime.start_workflow(fork_and_join, {}, started_by="user:alice")
    queued.clear()
    eleven_seconds_ago = run.started_at - dt.timedelta(seconds=11)
    StepRun.objects.filter(run=run).update(updated_at=eleven_seconds_ago)

    # When beat's resend sweep looks, with a 10 s period
    sent = runtime.resend_unsent_steps(older_than_seconds=10)

    # Then the two ready steps are sent again, not the step waiting for them, and not twice within the period
    steps = steps_of(run)
    assert sorted(sent) == sorted(queued) == sorted([steps["check"].pk, steps["vet"].pk])
    assert runtime.resend_unsent_steps(older_than_seconds=10) == []


def test_a_step_sent_a_moment_ago_is_not_sent_again(fork_and_join, queued):
    # Given a run just committed, its tasks on their way
    runtime.start_workflow(fork_and_join, {}, started_by="user:alice")

    # When the sweep looks
    sent = runtime.resend_unsent_steps(older_than_seconds=10)

    # Then nothing is sent twice
    assert sent == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_parallel_steps_finishing_together_start_the_step_that_waits_for_both(
    fork_and_join, fake_provider, queued, monkeypatch
):
    # Given both parallel steps running
    run = runtime.start_workflow(fork_and_join, {}, started_by="user:alice")
    steps = steps_of(run)
    for key in ("check", "vet"):
        runtime._route_and_govern(steps[key].pk)
    held = {
        key: StepRun.objects.select_related("agent", "template", "run__workflow", "decision").get(pk=steps[key].pk)
        for key in ("check", "vet")
    }
    assert {s.status for s in held.values()} == {StepRun.Status.RUNNING}
    queued.clear()

    # When their results are recorded at the same moment, each transaction reading the run's steps as
    # soon as it can (the barrier lets both read before either commits, unless one waits for the other)
    barrier, read = threading.Barrier(2, timeout=BARRIER_SECONDS), step_reads.of_run

    def read_together(run_id: int):
        with contextlib.suppress(threading.BrokenBarrierError):  # the other is waiting for this one's commit
            barrier.wait()
        return read(run_id)

    monkeypatch.setattr(step_reads, "of_run", read_together)
    errors: list[BaseException] = []

    def record(key: str) -> None:
        try:
            step = held[key]
            runtime._after_success(step, runtime._order_key(step), work_done_by(step.agent))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(key,)) for key in held]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    # Then both succeeded and the joining step was queued, once
    assert errors == []
    steps = steps_of(run)
    assert {steps["check"].status, steps["vet"].status} == {StepRun.Status.SUCCEEDED}
    assert queued == [steps["pay"].pk]
