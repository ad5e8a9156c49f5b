"""Sequencer failover with real processes: two `manage.py sequence_audit` run, one elected, while threads make
decisions; the elected one is SIGKILLed mid-stream and the standby takes over, losing and repeating nothing."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from audit import chain, sequencer
from audit.models import AuditChainHead, AuditEvent, PendingEvent
from governance.models import Decision
from tests.support.audit import wait_until_sequenced
from tests.support.servers import INHERITED_SETTINGS, PROJECT_ROOT, START_TIMEOUT_SECONDS

pytestmark = [pytest.mark.postgres, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

WRITERS = 6
# The standby polls the election every STANDBY_SECONDS; PostgreSQL frees a killed session's lock as soon as it sees
# the socket close. Generous, for a shared machine: the figure measured is printed with the test's output.
TAKEOVER_BOUND_SECONDS = 10 * sequencer.STANDBY_SECONDS


def elected_sequencer() -> str | None:
    """The application name of the process that holds the sequencer's election lock, if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.granted "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            list(sequencer.ELECTION_LOCK),
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.fixture
def start_sequencer_process(postgres_url: str, tmp_path: Path) -> Iterator:
    """Start `manage.py sequence_audit` named `name` (its sessions' application_name); all stopped afterwards."""
    processes: dict[str, subprocess.Popen] = {}

    def logs() -> str:
        return "\n".join(f"{name}:\n{(tmp_path / f'{name}.log').read_text()}" for name in processes)

    def start(name: str) -> subprocess.Popen:
        env = {key: value for key, value in os.environ.items() if key not in INHERITED_SETTINGS}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=postgres_url,
            AUDIT_SEQUENCING="queued",
            PGAPPNAME=name,
        )
        with (tmp_path / f"{name}.log").open("wb") as log:
            processes[name] = subprocess.Popen(
                [sys.executable, "manage.py", "sequence_audit"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log
            )
        return processes[name]

    start.logs = logs
    yield start
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_decisions(decide, agent, stop: threading.Event, committed: list[int], errors: list) -> None:
    """Decide until stopped; every decision whose transaction committed is in `committed`."""
    try:
        while not stop.is_set():
            committed.append(decide(agent, action="report.read").pk)
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def wait_for(condition, timeout: float, what: str, logs=str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout} s\n{logs()}")
        time.sleep(0.01)
    return result


def test_the_standby_sequencer_takes_over_from_a_killed_one_and_the_chain_stays_one_exact_line(
    queued, start_sequencer_process, decide, finance_agent, record_property
):
    # Given two sequencer processes, one of them elected
    processes = {name: start_sequencer_process(name) for name in ("sequencer-a", "sequencer-b")}
    logs = start_sequencer_process.logs
    first = wait_for(elected_sequencer, 4 * START_TIMEOUT_SECONDS, "a sequencer elected", logs)
    standby = next(name for name in processes if name != first)

    # And threads making decisions continuously, whose events the elected one chains
    stop, committed, errors = threading.Event(), [], []
    writers = [
        threading.Thread(target=write_decisions, args=(decide, finance_agent, stop, committed, errors))
        for _ in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    wait_for(lambda: chain.last_event_id() >= 50, 60, "50 events chained", logs)

    # When the elected sequencer is killed mid-stream, without a chance to finish its batch
    processes[first].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    processes[first].wait(10)
    head_at_kill = chain.last_event_id()

    # Then the standby is elected and chains again, within the bound
    wait_for(lambda: elected_sequencer() == standby, TAKEOVER_BOUND_SECONDS, f"{standby} elected", logs)
    elected_after = time.monotonic() - killed_at
    wait_for(lambda: chain.last_event_id() > head_at_kill, TAKEOVER_BOUND_SECONDS, "the chain moving again", logs)
    chaining_after = time.monotonic() - killed_at
    record_property("takeover_seconds", round(elected_after, 3))
    print(f"\nstandby elected {elected_after:.3f} s and chaining {chaining_after:.3f} s after the SIGKILL")

    # And once the writers stop and the standby catches up
    time.sleep(0.5)
    stop.set()
    for writer in writers:
        writer.join(60)
    assert errors == []
    wait_until_sequenced(timeout=60)

    # Then every committed decision has exactly one event, nothing else was chained, and the chain verifies
    assert Counter(AuditEvent.objects.filter(kind="decision.created").values_list("subject_id", flat=True)) == Counter(
        str(pk) for pk in committed
    )
    assert Decision.objects.count() == len(committed)
    assert AuditEvent.objects.count() == len(committed)
    assert not PendingEvent.objects.exists()
    assert AuditChainHead.objects.get().seq == len(committed)
    report = chain.verify_chain()
    assert report.ok, report.reason
    assert report.checked == len(committed)
