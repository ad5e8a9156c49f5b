"""The kill switch against decisions in flight, with real threads on PostgreSQL.

A decision reads its agent and department locked (FOR KEY SHARE) until it commits, and a kill locks
them FOR UPDATE: a kill waits for the decisions already reading, and a decision that starts reading
during a kill waits for it and sees it. So in the audit chain no `allow` comes after the kill's event.

Inline, chain order is commit order. Queued, it is commit order between any two transactions of which one
committed before the other wrote its events (README, "DESIGN: the audit chain is sequenced…"): each side
writes its event after taking its lock, so a decision that waited for the kill is chained after it, and
the kill after every decision it waited for. The test runs in both modes, a sequencer running when queued.
"""

import threading
import time

import pytest
from django.db import connection

from audit.models import AuditEvent
from governance import engine
from governance.models import Decision, Verdict
from orchestration.kill_switch import change_agent_status, change_department_status
from orchestration.models import Agent, Status
from tests.support.audit import wait_until_sequenced

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8
SLOW_DECISION_SECONDS = 0.02  # widens the window between reading the agent and committing the decision


def decide_until(stop: threading.Event, decide, agent: Agent, errors: list) -> None:
    try:
        while not stop.is_set():
            decide(agent, action="report.read")
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def chain_position(decision: Decision) -> int:
    return AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk)).seq


@pytest.mark.parametrize("sequencing", ["inline", "queued"])
@pytest.mark.parametrize("kill", ["agent", "department"])
def test_no_decision_commits_allow_after_a_kill_has_committed(
    kill, sequencing, decide, finance_agent, monkeypatch, request
):
    # Given decisions that take a while between reading the agent and committing, arriving from 8 threads
    # (their audit events queued for a running sequencer, when queued)
    request.getfixturevalue(sequencing)
    if sequencing == "queued":
        request.getfixturevalue("sequencer")
    slow_candidates = engine.candidates_for

    def candidates_for(*args, **kwargs):
        time.sleep(SLOW_DECISION_SECONDS)
        return slow_candidates(*args, **kwargs)

    monkeypatch.setattr(engine, "candidates_for", candidates_for)
    stop, errors = threading.Event(), []
    threads = [
        threading.Thread(target=decide_until, args=(stop, decide, finance_agent, errors)) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.3)

    # When the agent (or its department) is killed while they keep coming
    if kill == "agent":
        change_agent_status(Agent.objects.get(pk=finance_agent.pk), Status.KILLED)
    else:
        change_department_status(finance_agent.department, Status.KILLED)
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(30)

    # Then every allowed decision is in the chain before the kill, and the ones after it are denied
    assert errors == []
    wait_until_sequenced()
    kill_seq = AuditEvent.objects.get(kind=f"{kill}.status_changed").seq
    decisions = list(Decision.objects.filter(agent=finance_agent))
    allowed_after = [d.pk for d in decisions if d.verdict == Verdict.ALLOW and chain_position(d) > kill_seq]
    assert allowed_after == []
    assert any(d.verdict == Verdict.ALLOW for d in decisions)
    assert any(d.verdict == Verdict.DENY and chain_position(d) > kill_seq for d in decisions)
