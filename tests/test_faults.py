"""The fault script, small: a private production-like stack (its own PostgreSQL cluster and Redis, Regent's
Procfile processes) under a little load, while Redis restarts, a web process and a Celery worker are SIGKILLed
and PostgreSQL restarts. Afterwards nothing acknowledged is lost, the chain verifies, and every dashboard socket
received each event its viewer may see exactly once. bench/faults.py is the same with large numbers."""

import asyncio
import shutil

import pytest

from bench.stack import report, scenario
from bench.stack.stores import postgres_bin

AGENTS, SOCKETS, PHASE_SECONDS, DOWN_SECONDS, THINK_SECONDS = 50, 10, 4.0, 1.0, 0.5


def installed() -> bool:
    try:
        postgres_bin("initdb")
    except RuntimeError:
        return False
    return shutil.which("redis-server") is not None


pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not installed(), reason="needs PostgreSQL's server programs and redis-server installed"),
]


@pytest.fixture(scope="module")
def faulted():
    """One run of the script for the module's tests: the outcome and the invariants' rows."""
    with scenario.private_stack(web_processes=2, durable=False) as stack:
        seeded = stack.regent.prepare(AGENTS, SOCKETS)
        stack.regent.start()
        outcome = asyncio.run(
            scenario.run(
                stack,
                seeded,
                agents=AGENTS,
                sockets=SOCKETS,
                think=THINK_SECONDS,
                phase=PHASE_SECONDS,
                faults=list(scenario.FAULTS),
                down=DOWN_SECONDS,
            )
        )
    return outcome, report.invariants(outcome.checked, outcome.watchers, outcome.exited)


def test_every_fault_is_survived_with_no_acknowledged_decision_lost_and_every_event_delivered_once(faulted):
    # Given the stack under load, when each fault happens in turn, then every invariant holds afterwards
    outcome, rows = faulted
    broken = [f"{what}: {detail}" for what, holds, detail in rows if not holds]
    assert not broken, "\n".join(broken) + "\n\n" + report.faults_table(outcome.windows, outcome.answers)


def test_every_fault_was_made_while_agents_were_being_answered(faulted):
    # Given the same run, then each fault happened in turn, and decisions were acknowledged around them: the
    # invariants were checked against real traffic. (How soon each fault was recovered from is reported by
    # bench/faults.py, not asserted: it moves with the machine's load.)
    outcome, _ = faulted
    assert [w["name"] for w in outcome.windows] == list(scenario.FAULTS)
    assert outcome.checked["decisions"]["acknowledged"] > 0
    assert outcome.checked["sockets"]["entitled_events"] > 0
