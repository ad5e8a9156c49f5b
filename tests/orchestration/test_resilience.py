"""Resilience: a failing provider is tried again, then the step goes to the next best agent; late results
are discarded."""

import pytest

from governance.models import Decision, Outcome
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, Status
from tests.support.workflows import steps_of, work_done_by
from workflows import runtime
from workflows.models import StepRun, WorkflowRun
from workflows.runtime import AGENTS_PER_STEP, ATTEMPTS_PER_AGENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def repliers(hire) -> list[Agent]:
    """Four agents who can reply to tickets, the cheapest (so the first choice) first."""
    return [
        hire(slug, "ticket.reply", cost=cost)
        for slug, cost in [
            ("first-choice", "0.001"),
            ("second-choice", "0.002"),
            ("third-choice", "0.003"),
            ("fourth-choice", "0.004"),
        ]
    ]


def _held(step: StepRun) -> StepRun:
    """The step as a task carrying a result holds it: read before the result arrives."""
    return StepRun.objects.select_related("agent", "template", "run__workflow", "decision").get(pk=step.pk)


@pytest.fixture
def reply_step(reply_workflow, repliers) -> StepRun:
    """A reply step, started but not yet carried out: the test runs its tasks one at a time."""
    run = runtime.start_workflow(reply_workflow, {}, started_by="user:alice")
    return run.steps.get()


def test_a_failing_provider_is_tried_again_then_the_step_goes_to_the_next_best_agent(
    reply_workflow, repliers, fake_provider, run_workflow
):
    # Given the first choice's provider is down
    fake_provider.down = {"first-choice"}

    # When a ticket comes in
    step = steps_of(run_workflow(reply_workflow, {}))["reply"]

    # Then the first choice was tried twice, then the second choice did the work and the step succeeded;
    # the first choice's decision records the failure
    assert fake_provider.agents_called == ["first-choice"] * ATTEMPTS_PER_AGENT + ["second-choice"]
    first, second = repliers[:2]
    assert (step.status, step.agent, step.tried_agents) == (StepRun.Status.SUCCEEDED, second, [first.pk, second.pk])
    assert step.output == {"done_by": "second-choice"}
    assert Decision.objects.get(agent=first).outcome.result == Outcome.Result.FAILURE
    assert step.decision.outcome.result == Outcome.Result.SUCCESS


def test_a_step_fails_once_as_many_agents_as_allowed_have_failed(reply_workflow, repliers, fake_provider, run_workflow):
    # Given every provider is down
    fake_provider.down = {agent.slug for agent in repliers}

    # When a ticket comes in
    run = run_workflow(reply_workflow, {})

    # Then three agents were each tried twice, the fourth never, and the step and its run failed with the last error
    step = steps_of(run)["reply"]
    assert AGENTS_PER_STEP == 3
    assert fake_provider.agents_called == [
        slug for slug in ("first-choice", "second-choice", "third-choice") for _ in range(ATTEMPTS_PER_AGENT)
    ]
    assert (step.status, step.error) == (StepRun.Status.FAILED, "3 agents failed; last error: third-choice is down")
    assert run.status == WorkflowRun.Status.FAILED


def test_a_result_for_an_earlier_attempt_is_discarded(reply_step, repliers, fake_provider):
    # Given the first attempt timed out and the step waits on its second
    fake_provider.down = {"first-choice"}
    runtime.run_step(reply_step.pk)
    first_order = fake_provider.calls[0].idempotency_key

    # When the first attempt's result turns up after all
    runtime._after_success(_held(reply_step), first_order, work_done_by(repliers[0]))

    # Then it does not count: the step still runs, waiting on the second attempt, and no outcome is recorded
    reply_step.refresh_from_db()
    assert (reply_step.status, reply_step.attempts, reply_step.output) == (StepRun.Status.RUNNING, 1, {})
    assert not Outcome.objects.filter(decision=reply_step.decision).exists()


def test_a_result_from_the_agent_a_step_was_rerouted_from_is_discarded(reply_step, repliers, fake_provider):
    # Given the first choice's first call was still out when the step was given up on it (its redelivered task
    # failed twice) and routed to the second choice, which is now at work
    fake_provider.down = {"first-choice"}
    runtime.run_step(reply_step.pk)
    runtime.run_step(reply_step.pk)
    first_order = fake_provider.calls[0].idempotency_key
    runtime._route_and_govern(reply_step.pk)
    reply_step.refresh_from_db()
    assert (reply_step.agent.slug, reply_step.status, reply_step.attempts) == ("second-choice", "running", 0)

    # When the first choice's first result turns up after all
    runtime._after_success(_held(reply_step), first_order, work_done_by(repliers[0]))

    # Then it does not count: the step still waits on the second choice, and no outcome is recorded for it
    reply_step.refresh_from_db()
    assert (reply_step.status, reply_step.output) == (StepRun.Status.RUNNING, {})
    assert not Outcome.objects.filter(decision=reply_step.decision).exists()


def test_a_result_that_arrives_after_the_agent_was_killed_is_discarded(
    invoice_workflow, clerk, fake_provider, run_workflow, alice
):
    # Given alice kills the clerk while it is reading an invoice
    fake_provider.while_working = lambda agent, order: change_agent_status(agent, Status.KILLED, by=alice)

    # When the reading's result comes back
    run = run_workflow(invoice_workflow)

    # Then it is discarded: the step failed because of the kill, with no output and no outcome, and the run failed
    read = steps_of(run)["read"]
    assert (read.status, read.error, read.output) == (StepRun.Status.FAILED, "agent clerk was killed", {})
    assert not Outcome.objects.exists()
    assert fake_provider.actions_done == ["invoice.read"]
    assert run.status == WorkflowRun.Status.FAILED
