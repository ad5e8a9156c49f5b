"""Queued sequencing (AUDIT_SEQUENCING=queued) on PostgreSQL with real threads: writers queue their audit events
in their own transactions, with no lock, and sequencers link them into the chain in batches.

Whatever the interleaving, afterwards every committed decision has exactly one event, `seq` runs 1..N with
no gap, and the chain verifies; a rolled-back transaction leaves nothing; a sequencer failing before its
commit loses and duplicates nothing; sequencers running at once integrate each event once.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from audit import chain
from audit import events as events_module
from audit.models import AuditChainHead, AuditEvent, PendingEvent
from governance.models import Decision
from tests.support.audit import wait_until_sequenced

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="queued sequencing runs on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

WRITERS = 20
DECISIONS_PER_WRITER = 15


class Rollback(Exception):
    pass


def write_decisions(decide, agent, count: int, errors: list) -> None:
    """`count` committed decisions, and one rolled back after each fifth."""
    try:
        for n in range(count):
            decide(agent, action="report.read")
            connection.close()  # back to the pool, as at the end of a request: the sequencer needs one too
            if n % 5 == 4:
                try:
                    with transaction.atomic():
                        decide(agent, action="report.read")
                        raise Rollback
                except Rollback:
                    pass
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def run_writers(decide, agent, writers: int = WRITERS, count: int = DECISIONS_PER_WRITER) -> None:
    errors: list[BaseException] = []
    threads = [threading.Thread(target=write_decisions, args=(decide, agent, count, errors)) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def assert_one_chain_with_one_event_per_decision() -> None:
    decisions = Counter(str(pk) for pk in Decision.objects.values_list("pk", flat=True))
    chained = Counter(AuditEvent.objects.filter(kind="decision.created").values_list("subject_id", flat=True))
    assert chained == decisions
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditChainHead.objects.get().seq == len(seqs)
    assert not PendingEvent.objects.exists()
    report = chain.verify_chain()
    assert report.ok, report.reason


def test_concurrent_decisions_each_get_exactly_one_event_in_one_verified_chain(
    queued, sequencer, decide, finance_agent
):
    # Given a sequencer running

    # When 20 threads make decisions at once, some of them in transactions that roll back
    run_writers(decide, finance_agent)
    wait_until_sequenced()

    # Then each committed decision has exactly one event, seq runs 1..N, and the chain verifies
    assert Decision.objects.count() == WRITERS * DECISIONS_PER_WRITER
    assert_one_chain_with_one_event_per_decision()


def test_a_committed_decision_is_queued_and_chained_when_the_sequencer_integrates_it(queued, decide, finance_agent):
    # Given a decision committed with no sequencer running
    decision = decide(finance_agent)

    # Then it waits in the queue, not in the chain
    assert PendingEvent.objects.get().subject_id == str(decision.pk)
    assert not AuditEvent.objects.exists()

    # When the sequencer integrates
    integrated = chain.integrate_all()

    # Then its event is the chain's first, and the queue is empty
    assert integrated == 1
    assert AuditEvent.objects.get().subject_id == str(decision.pk)
    assert_one_chain_with_one_event_per_decision()


def test_a_rolled_back_decision_leaves_no_queued_entry_and_no_event(queued, decide, finance_agent):
    # When a decision is made inside a transaction that then fails
    with pytest.raises(Rollback), transaction.atomic():
        decide(finance_agent)
        raise Rollback

    # Then nothing is queued, and the sequencer finds nothing to chain
    assert not PendingEvent.objects.exists()
    assert chain.integrate_all() == 0
    assert not AuditEvent.objects.exists()


def test_a_sequencer_failing_before_its_commit_loses_nothing_and_duplicates_nothing(
    queued, decide, finance_agent, monkeypatch
):
    # Given 30 committed decisions queued, and a sequencer that fails after inserting their events, before commit
    for _ in range(30):
        decide(finance_agent)

    def crash(events: list[dict]) -> None:
        raise RuntimeError("the sequencer died mid-batch")

    with monkeypatch.context() as failing:
        failing.setattr(events_module, "_transaction_listeners", [crash])
        with pytest.raises(RuntimeError):
            chain.integrate()

    # Then the batch is still queued and nothing reached the chain
    assert PendingEvent.objects.count() == 30
    assert not AuditEvent.objects.exists()
    assert chain.last_event_id() == 0

    # When a sequencer runs again, the events are chained once each
    assert chain.integrate_all() == 30
    assert_one_chain_with_one_event_per_decision()


def integrate_until(done: threading.Event, errors: list) -> None:
    """A sequencer without the election: small batches, as fast as it can."""
    try:
        while not done.is_set() or PendingEvent.objects.exists():
            chain.integrate(limit=7)
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def test_two_sequencers_integrating_at_once_chain_each_event_once(queued, decide, finance_agent):
    # Given two sequencers integrating at the same time, with no election between them
    done, errors = threading.Event(), []
    sequencers = [threading.Thread(target=integrate_until, args=(done, errors)) for _ in range(2)]
    for thread in sequencers:
        thread.start()

    # When 10 threads make decisions meanwhile
    run_writers(decide, finance_agent, writers=10)
    done.set()
    for thread in sequencers:
        thread.join(60)

    # Then each decision was chained once, in one verified line
    assert errors == []
    assert_one_chain_with_one_event_per_decision()


def test_of_two_sequencer_processes_one_is_elected_and_the_chain_is_the_same(
    queued, start_sequencer, decide, finance_agent
):
    # Given two sequencer loops running, as two `manage.py sequence_audit` would
    start_sequencer()
    start_sequencer()

    # When 10 threads make decisions
    run_writers(decide, finance_agent, writers=10)
    wait_until_sequenced()

    # Then one of them holds the election lock, and each decision was chained once
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 7204122 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert cursor.fetchone()[0] == 1
    assert_one_chain_with_one_event_per_decision()
