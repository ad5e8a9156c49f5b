"""Verification as a background task: from the last verified checkpoint forward, or the whole walk, in one
snapshot, with progress others can read while it runs (issue 20 item 2, issue 19 item 5)."""

import datetime as dt
import threading

import pytest
from django.db import connection

from audit import chain, checkpoints, verification
from audit.models import AuditChainHead, VerificationRun
from tests.support.audit import wait_until_sequenced

Mode, Status = VerificationRun.Mode, VerificationRun.Status


def head_size() -> int:
    return AuditChainHead.objects.get().seq


@pytest.fixture
def verified_chain(decide, finance_agent) -> int:
    """Three decisions, verified in full: the chain's size at the verified checkpoint."""
    for amount in (10, 20, 30):
        decide(finance_agent, amount=amount)
    assert verification.verify_now(Mode.FULL).status == Status.INTACT
    return head_size()


def test_a_full_verification_that_finds_the_chain_intact_leaves_a_verified_checkpoint(verified_chain):
    # Then the newest verified checkpoint is the head the run walked to
    checkpoint = checkpoints.latest_verified()
    assert (checkpoint.size, checkpoint.last_hash) == (verified_chain, AuditChainHead.objects.get().hash)


def test_incremental_verification_walks_only_the_events_after_the_verified_checkpoint(
    verified_chain, decide, finance_agent
):
    # Given two more decisions since the verified checkpoint
    decide(finance_agent, amount=40)
    decide(finance_agent, amount=50)

    # When an incremental verification runs
    run = verification.verify_now(Mode.INCREMENTAL)

    # Then it starts at the checkpoint and checks only the new events
    assert run.status == Status.INTACT
    assert (run.from_seq, run.until_seq) == (verified_chain, head_size())
    assert run.checked == head_size() - verified_chain > 0


def test_incremental_verification_sees_an_edit_made_after_the_last_checkpoint(
    verified_chain, decide, finance_agent, rewrite_log
):
    # Given a new decision whose event is then edited behind Regent's back
    decide(finance_agent, amount=40)
    edited = verified_chain + 1
    rewrite_log.edit(edited, {"verdict": "deny"})

    # When an incremental verification runs
    run = verification.verify_now(Mode.INCREMENTAL)

    # Then it names the edited event
    assert (run.status, run.broken_seq) == (Status.BROKEN, edited)
    assert run.findings[0] == f"event #{edited}: its content does not match its hash"


def test_incremental_verification_sees_the_checkpoint_event_itself_edited(verified_chain, rewrite_log):
    # Given the event the verified checkpoint ends at, edited afterwards
    rewrite_log.edit(verified_chain, {"verdict": "deny"})

    # When an incremental verification runs
    run = verification.verify_now(Mode.INCREMENTAL)

    # Then it refuses to start from that checkpoint
    assert run.status == Status.BROKEN
    assert run.findings == [f"event #{verified_chain}: its content does not match its hash"]


def test_only_a_full_walk_sees_an_edit_before_the_verified_checkpoint(verified_chain, rewrite_log):
    # Given an event well before the verified checkpoint edited
    rewrite_log.edit(1, {"verdict": "deny"})

    # When an incremental and then a full verification run
    incremental = verification.verify_now(Mode.INCREMENTAL)
    full = verification.verify_now(Mode.FULL)

    # Then the incremental one, which trusts what was verified, passes; the full one names the event
    assert incremental.status == Status.INTACT
    assert (full.status, full.broken_seq) == (Status.BROKEN, 1)


def test_starting_a_verification_while_one_is_waiting_returns_that_one(dave, db):
    # Given a verification queued by an auditor
    first = verification.start(dave, Mode.INCREMENTAL)

    # When another is asked for
    second = verification.start(dave, Mode.INCREMENTAL)

    # Then there is still one
    assert second.pk == first.pk
    assert VerificationRun.objects.count() == 1


def test_a_run_whose_task_was_lost_long_ago_does_not_block_a_new_one(dave, db):
    # Given a verification queued four hours ago that no worker ever ran
    stale = verification.start(dave, Mode.FULL)
    VerificationRun.objects.filter(pk=stale.pk).update(requested_at=stale.requested_at - dt.timedelta(hours=4))

    # When an auditor asks again
    fresh = verification.start(dave, Mode.FULL)

    # Then a new run is queued
    assert fresh.pk != stale.pk
    assert VerificationRun.objects.filter(status=Status.QUEUED).count() == 2


def test_the_celery_task_runs_a_queued_verification_once(dave, decide, finance_agent):
    # Given a queued verification
    decide(finance_agent, amount=10)
    run = VerificationRun.objects.create(mode=Mode.FULL, started_by=dave)

    # When the task runs it twice (a redelivery)
    from audit.tasks import verify_audit_chain

    verify_audit_chain(run.pk)
    first = VerificationRun.objects.get(pk=run.pk)
    verify_audit_chain(run.pk)

    # Then it finished once, intact, and the second delivery changed nothing
    again = VerificationRun.objects.get(pk=run.pk)
    assert (first.status, first.checked) == (Status.INTACT, head_size())
    assert (again.finished_at, checkpoints.Checkpoint.objects.count()) == (first.finished_at, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_readable_from_another_connection_while_the_snapshot_is_open(decide, finance_agent, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("snapshots on PostgreSQL")
    # Given a chain of six events and progress reported after every event
    for amount in range(1, 7):
        decide(finance_agent, amount=amount)
    wait_until_sequenced()
    monkeypatch.setattr(chain, "PROGRESS_EVERY", 1)
    run = VerificationRun.objects.create(mode=Mode.FULL)
    seen: list[tuple[str, int]] = []
    walk = chain.walk

    def read_from_elsewhere() -> None:
        seen.append(VerificationRun.objects.values_list("status", "checked").get(pk=run.pk))
        connection.close()

    def watched_walk(*args, on_progress, **kwargs):
        def report(checked: int) -> None:
            on_progress(checked)
            reader = threading.Thread(target=read_from_elsewhere)
            reader.start()
            reader.join()

        return walk(*args, on_progress=report, **kwargs)

    monkeypatch.setattr(chain, "walk", watched_walk)

    # When the run walks the chain
    verification.execute(run.pk)

    # Then another connection saw it running, its count rising event by event, before it finished
    size = head_size()
    assert seen == [(Status.RUNNING, checked) for checked in range(1, size + 1)]
    assert VerificationRun.objects.get(pk=run.pk).status == Status.INTACT


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_verifications_while_twelve_threads_write_never_report_a_break(decide, finance_agent):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers on PostgreSQL")
    # Given twelve threads deciding as fast as they can, each handing its connection back to the pool between
    # decisions as a request does. With the verifier's and the audit sequencer's that is 14 of the pool's 20, so
    # no thread waits out the pool's 1 s timeout on a loaded machine (twenty writers did: a CI run saw two)
    stop, errors = threading.Event(), []

    def keep_deciding() -> None:
        try:
            while not stop.is_set():
                decide(finance_agent, action="report.read")
                connection.close()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=keep_deciding) for _ in range(12)]
    for writer in writers:
        writer.start()

    # When full and incremental verifications run one after another meanwhile
    try:
        runs = [verification.verify_now(mode) for mode in (Mode.FULL, Mode.INCREMENTAL) * 3]
    finally:
        stop.set()
        for writer in writers:
            writer.join(30)

    # Then each found the chain intact, and each incremental one started where the run before it ended
    assert errors == []
    assert [(run.status, run.findings) for run in runs] == [(Status.INTACT, [])] * 6
    assert [run.from_seq for run in runs[1::2]] == [run.until_seq for run in runs[0::2]]
    assert runs[-1].until_seq > runs[0].until_seq
