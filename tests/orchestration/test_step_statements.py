"""What a workflow step costs the database: the statements of a 3-step run, pinned so a regression shows.

bench/orchestration.py times steps through a real worker; this counts what each step asks of the
database, with tasks run in process. Compiling ORM queries cost more CPU per step than the database took to
answer them, so the step path reads and writes its rows in plain statements (workflows.step_reads,
fastpath.writes) and appends each transaction's audit events together (audit.chain.batch).
"""

import pytest
from django.db import connection

from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db

# Per step, inside the test's transaction (so each transaction is a savepoint and its release):
#   route and govern   savepoint, step + template + run (one read, not locked), active strategy, candidates'
#                      status, kill hold-off and the run's progress lock (PostgreSQL), step state (locked:
#                      routing holds kills off and its run before it locks the step, orchestration.kill_switch),
#                      actor, decision, step update, head lock, both events, head update, release  = 12 + 2
#   after the event    the webhook subscriptions asked for the transaction's events                  =  1
#   result             savepoint, kill hold-off (PostgreSQL), the run's progress lock, step state (locked),
#                      outcome, step update, the run's steps, head lock, event, head update, release = 10 + 1
#   after the event    webhook subscriptions                                                         =  1
# and for the run: the two steps that wait for another read the run's steps before routing (2), savepoint,
# step templates, run, steps, release (5), closing the run (1), and the fixture's own re-read of the
# run (1). Before these changes the same run took 98; the lock order of the kill switch added 3 per step on
# PostgreSQL (81 to 90) and 1 on SQLite.
# orchestration.kill_switch.hold_off_kills, and the run's progress lock when routing (advisory: PostgreSQL's)
KILL_HOLD_OFF = 1 if connection.vendor == "postgresql" else 0
STATEMENTS_PER_3_STEP_RUN = 3 * (12 + 2 * KILL_HOLD_OFF + 1 + 10 + KILL_HOLD_OFF + 1) + 2 + 5 + 1 + 1


def test_a_three_step_run_takes_the_pinned_number_of_statements(
    invoice_workflow, clerk, fake_provider, run_workflow, django_assert_num_queries
):
    # Given the invoice workflow with no amount to spend, and a first run that built the policy index and rankings
    run_workflow(invoice_workflow, {})

    # When another run is carried out
    with django_assert_num_queries(STATEMENTS_PER_3_STEP_RUN):
        run = run_workflow(invoice_workflow, {})

    # Then it succeeded, each step done once
    assert run.status == WorkflowRun.Status.SUCCEEDED
    assert set(run.steps.values_list("status", flat=True)) == {StepRun.Status.SUCCEEDED}
    assert fake_provider.actions_done == ["invoice.read", "invoice.approve", "payment.send"] * 2
