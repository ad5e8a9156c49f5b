"""Retention: archive, verify, then delete, leaving a chain that still verifies (issue 20 item 3).

On PostgreSQL, with the real append-only trigger: decisions are made 30 days before NOW (old) and at NOW (new),
and retention applied as if 168 days after NOW, so with six-month periods the cutoff falls between them.
"""

import datetime as dt
import gzip
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from audit import archive_check, archives, chain, retention, verification
from audit.evidence import export_lines, public_key_b64
from audit.evidence_check import EvidenceError, verify_file
from audit.models import AuditEvent, RetentionArchive, VerificationRun
from dashboard.models import DecisionRollup
from dashboard.rollups import fold_changes
from governance.models import Decision, Outcome
from governance.outcomes import report_outcome
from tests.factories import StepTemplateFactory
from tests.support.audit import wait_until_sequenced
from tests.support.clock import NOW
from workflows.models import StepRun, WorkflowRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OLD, NEW = NOW - dt.timedelta(days=30), NOW
LATER = NOW + dt.timedelta(days=168)  # six months (183 days) later: the cutoff is NOW - 15 days


@pytest.fixture(autouse=True)
def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("retention is tested against PostgreSQL's triggers")


@pytest.fixture
def archive_dir(settings, tmp_path: Path) -> Path:
    directory = tmp_path / "archive"
    settings.RETENTION_ARCHIVE = directory.as_uri()
    return directory


@pytest.fixture
def history(decide, finance_agent) -> dict[str, list[Decision]]:
    """Three old decisions (one with an outcome) and two new ones, all sequenced into the chain."""
    old = [decide(finance_agent, amount=amount, now=OLD) for amount in (10, 20, 30)]
    new = [decide(finance_agent, amount=amount, now=NEW) for amount in (40, 50)]
    report_outcome(old[0], Outcome.Result.SUCCESS, reported_by="agent:test")
    wait_until_sequenced()
    return {"old": old, "new": new}


def old_events_end() -> int:
    """The last event that occurred before the cutoff: the expected cut."""
    return AuditEvent.objects.filter(occurred_at__lt=OLD + dt.timedelta(days=1)).order_by("-seq").first().seq


def the_archives() -> list[str]:
    return [
        str(path) for path in sorted(Path(p.location.removeprefix("file://")) for p in RetentionArchive.objects.all())
    ]


def test_retention_removes_exactly_the_expired_events_and_decisions(archive_dir, history):
    # Given the chain's size and where the old events end
    cut, head = old_events_end(), AuditEvent.objects.order_by("-seq").first().seq

    # When retention runs
    applied = retention.apply(now=LATER)
    wait_until_sequenced()

    # Then the events up to the cut and the old decisions (with their outcome) are gone, everything newer stays
    assert len(applied) == 1
    assert AuditEvent.objects.filter(seq__lte=cut).count() == 0
    assert AuditEvent.objects.filter(seq__gt=cut, seq__lte=head).count() == head - cut
    assert set(Decision.objects.values_list("pk", flat=True)) == {d.pk for d in history["new"]}
    assert not Outcome.objects.exists()
    assert applied[0].archive.records == {
        "governance_auditevent": cut,
        "governance_decision": 3,
        "governance_outcome": 1,
    }


def test_a_plain_delete_of_an_audit_event_is_still_refused(archive_dir, history):
    # Given retention has run, so the trigger has an exception for its own path
    retention.apply(now=LATER)
    wait_until_sequenced()
    newest = AuditEvent.objects.order_by("-seq").first().seq

    # When someone deletes an event directly, then inside a transaction that claims to be retention
    refusals = []
    for claim in (False, True):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if claim:
                    cursor.execute("SET LOCAL regent.retention = 'on'")
                cursor.execute("DELETE FROM governance_auditevent WHERE seq = %s", [newest])
        except DatabaseError as error:
            refusals.append(str(error))

    # Then both are refused: the exception covers only a recorded, undeleted archive's range
    assert len(refusals) == 2
    assert all("append-only: DELETE refused" in refusal for refusal in refusals)
    assert AuditEvent.objects.filter(seq=newest).exists()


def test_an_update_is_refused_even_on_the_retention_path(archive_dir, history):
    # Given an event before a recorded archive's cut
    seq = AuditEvent.objects.order_by("seq").first().seq

    # When retention's setting is on and an UPDATE is tried
    refused = pytest.raises(DatabaseError, match="append-only: UPDATE refused")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL regent.retention = 'on'")
        cursor.execute("UPDATE governance_auditevent SET kind = 'forged' WHERE seq = %s", [seq])


def test_the_archive_verifies_offline(archive_dir, history):
    # Given retention has archived the old range
    cut = old_events_end()
    retention.apply(now=LATER)

    # When an auditor checks the archive with the offline checker, pinning the organisation's key
    [archive] = the_archives()
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "audit.evidence_check", archive, "--public-key", public_key_b64()],
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it verifies, events and records
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"VALID: {cut} events (#1–#{cut}) and 4 records")


def test_the_remaining_chain_verifies_from_the_cut(archive_dir, history):
    # Given retention has deleted the old range
    retention.apply(now=LATER)
    wait_until_sequenced()
    cut = RetentionArchive.objects.get().seq

    # When the chain is verified in full, incrementally, and walked as the API does
    full = verification.verify_now(VerificationRun.Mode.FULL)
    incremental = verification.verify_now(VerificationRun.Mode.INCREMENTAL)
    report = chain.verify_chain()

    # Then each starts at the cut (the incremental run at the checkpoint the full one left) and finds it intact
    assert (full.status, full.from_seq, full.findings) == (VerificationRun.Status.INTACT, cut, [])
    assert full.checked == AuditEvent.objects.count()
    assert (incremental.status, incremental.from_seq, incremental.findings) == (full.status, full.until_seq, [])
    assert report.ok and report.checked == AuditEvent.objects.count()


def test_incremental_verification_right_after_the_cut_starts_there(archive_dir, history):
    # Given retention has just deleted the old range, and no verification has run since
    retention.apply(now=LATER)
    wait_until_sequenced()

    # When an incremental verification runs
    run = verification.verify_now(VerificationRun.Mode.INCREMENTAL)

    # Then it starts at the cut's checkpoint and finds the rest intact
    assert (run.status, run.from_seq, run.findings) == (
        VerificationRun.Status.INTACT,
        RetentionArchive.objects.get().seq,
        [],
    )


def test_the_first_event_after_the_cut_links_on_its_page(archive_dir, history):
    # Given retention has deleted the old range
    retention.apply(now=LATER)
    wait_until_sequenced()

    # When the first remaining event's links are checked, as a decision's page does
    [report] = chain.verify_links([AuditEvent.objects.order_by("seq").first()])

    # Then its link to the cut holds
    assert report.ok


def test_archives_and_the_remaining_chain_verify_end_to_end_offline(archive_dir, history, tmp_path):
    # Given retention has run, and an evidence pack of everything since is exported
    retention.apply(now=LATER)
    wait_until_sequenced()
    pack = tmp_path / "since.jsonl"
    pack.write_text("".join(export_lines(OLD - dt.timedelta(days=365), timezone.now())), encoding="utf-8")

    # When the auditor runs the end-to-end check
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "audit.archive_check",
            *the_archives(),
            "--pack",
            str(pack),
            "--public-key",
            public_key_b64(),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    # Then one chain from the first event to the head verifies
    head = AuditEvent.objects.order_by("-seq").first()
    assert result.returncode == 0, result.stderr
    assert f"one chain of {head.seq} events from the first to #{head.seq}" in result.stdout


def test_a_tampered_archive_is_named(archive_dir, history):
    # Given an archive whose content was altered after it was written
    retention.apply(now=LATER)
    [archive] = the_archives()
    lines = gzip.decompress(Path(archive).read_bytes()).split(b"\n")
    lines[2] = lines[2].replace(b'"amount":"20', b'"amount":"99')
    Path(archive).write_bytes(gzip.compress(b"\n".join(lines)))

    # When it is checked end to end
    with pytest.raises(EvidenceError) as refusal:
        archive_check.verify_archives([archive], public_key_b64=public_key_b64())

    # Then the file and what does not hold are named
    assert str(refusal.value) == f"{archive}: the content does not match the signed digest: the pack was altered"


def test_a_gap_between_the_archives_and_the_pack_is_named(archive_dir, history, tmp_path):
    # Given a pack of only the newest event (retention's own), not the new decisions' after the cut
    retention.apply(now=LATER)
    wait_until_sequenced()
    pack = tmp_path / "late.jsonl"
    pack.write_text("".join(export_lines(LATER, timezone.now())), encoding="utf-8")

    # When checked end to end
    with pytest.raises(EvidenceError) as refusal:
        archive_check.verify_archives(the_archives(), str(pack), public_key_b64())

    # Then the gap is named
    assert "events before it are missing" in str(refusal.value)


def test_a_crash_between_archive_and_delete_leaves_everything_and_a_rerun_completes(archive_dir, history, monkeypatch):
    # Given the delete fails once, after the archive was written, verified and recorded
    events, decisions = AuditEvent.objects.count(), Decision.objects.count()
    real_delete = retention._delete

    def crash(*args) -> None:
        raise RuntimeError("the worker died")

    monkeypatch.setattr(retention, "_delete", crash)
    with pytest.raises(RuntimeError):
        retention.apply(now=LATER)

    # Then nothing was deleted, and the archive waits, verified
    assert (AuditEvent.objects.count(), Decision.objects.count()) == (events, decisions)
    pending = RetentionArchive.objects.get()
    assert pending.deleted_at is None and verify_file(the_archives()[0], public_key_b64())

    # When retention runs again
    monkeypatch.setattr(retention, "_delete", real_delete)
    applied = retention.apply(now=LATER)

    # Then it finishes that archive, writing no second one
    assert [batch.archive.pk for batch in applied] == [pending.pk]
    assert RetentionArchive.objects.get().deleted_at is not None
    assert Decision.objects.count() == len(history["new"])


def test_an_archive_changed_before_its_delete_deletes_nothing(archive_dir, history, monkeypatch):
    # Given the delete crashed once, and the archive was then altered
    monkeypatch.setattr(retention, "_delete", lambda *args: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        retention.apply(now=LATER)
    monkeypatch.undo()
    [archive] = the_archives()
    Path(archive).write_bytes(Path(archive).read_bytes() + b"\0")
    events = AuditEvent.objects.count()

    # When retention runs again
    with pytest.raises(retention.RetentionError, match="bytes changed since they were written"):
        retention.apply(now=LATER)

    # Then nothing was deleted
    assert AuditEvent.objects.count() == events


def test_nothing_is_deleted_without_an_archive(settings, history):
    # Given no archive configured
    settings.RETENTION_ARCHIVE = ""
    events = AuditEvent.objects.count()

    # When retention runs
    applied = retention.apply(now=LATER)

    # Then nothing happened
    assert (applied, AuditEvent.objects.count()) == ([], events)


def test_large_ranges_go_in_batches_each_a_verified_archive(archive_dir, history, settings):
    # Given batches of two records
    settings.RETENTION_BATCH = 2
    cut = old_events_end()

    # When retention runs
    applied = retention.apply(now=LATER)
    wait_until_sequenced()

    # Then several archives, each at most two events, together verify as one chain with the rest
    assert len(applied) >= 2
    assert all(batch.archive.seq - batch.archive.first_seq + 1 <= 2 for batch in applied)
    assert archive_check.verify_archives(the_archives(), public_key_b64=public_key_b64())["last_seq"] == cut
    assert chain.verify_chain().ok


def test_a_decision_waiting_for_a_person_stays(archive_dir, hold, finance_agent):
    # Given an old decision held for approval, still pending
    held = hold(finance_agent, now=OLD)
    wait_until_sequenced()

    # When retention runs
    retention.apply(now=LATER)

    # Then it stays
    assert Decision.objects.filter(pk=held.pk).exists()


def test_rollup_buckets_keep_their_figures_after_the_deletion(archive_dir, history):
    # Given the buckets folded before retention
    fold_changes()
    before = DecisionRollup.objects.aggregate(decisions=Sum("decisions"), spend=Sum("spend"), outcomes=Sum("outcomes"))

    # When retention deletes the old decisions and the buckets are folded again
    retention.apply(now=LATER)
    fold_changes()

    # Then the buckets hold the same figures
    assert (
        DecisionRollup.objects.aggregate(decisions=Sum("decisions"), spend=Sum("spend"), outcomes=Sum("outcomes"))
        == before
    )
    assert before["decisions"] > 0


def test_a_finished_trace_leaves_before_the_decision_its_step_names(archive_dir, decide, finance_agent):
    # Given an old finished workflow run whose step made an old decision, and a run still going
    step = StepTemplateFactory()
    decision = decide(finance_agent, amount=10, now=OLD)
    finished = WorkflowRun.objects.create(workflow=step.workflow, status="succeeded", finished_at=OLD)
    StepRun.objects.create(run=finished, template=step, status="succeeded", decision=decision)
    going = WorkflowRun.objects.create(workflow=step.workflow)
    wait_until_sequenced()

    # When retention runs
    applied = retention.apply(now=LATER)

    # Then the finished trace went first, the decision in a later batch, and the running one stays
    assert [set(batch.archive.records) - {"governance_auditevent"} for batch in applied] == [
        {"orchestration_workflowrun", "orchestration_steprun"},
        {"governance_decision"},
    ]
    assert list(WorkflowRun.objects.values_list("pk", flat=True)) == [going.pk]
    assert not Decision.objects.exists()


def test_the_command_dry_run_says_what_expired_and_deletes_nothing(archive_dir, history, capsys, monkeypatch):
    # Given retention's clock six months on
    monkeypatch.setattr(timezone, "now", lambda: LATER)
    events = AuditEvent.objects.count()

    # When the command runs with --dry-run
    call_command("apply_retention", "--dry-run")

    # Then it lists what has expired, and nothing changed
    assert capsys.readouterr().out.strip() == (
        "Expired: 3 audit events, 3 decisions, 0 spans, 0 traces, 0 tool calls. Nothing archived or deleted (dry run)."
    )
    assert AuditEvent.objects.count() == events


def test_a_finished_trace_whose_step_delegated_a_running_one_stays(archive_dir, finance_agent):
    # Given an old finished run whose step delegated work to a run still going
    step = StepTemplateFactory()
    parent = WorkflowRun.objects.create(workflow=step.workflow, status="succeeded", finished_at=OLD)
    delegating = StepRun.objects.create(run=parent, template=step, status="succeeded")
    WorkflowRun.objects.create(workflow=step.workflow, parent_step=delegating)

    # When retention runs
    applied = retention.apply(now=LATER)

    # Then both runs stay, and nothing was archived
    assert (applied, WorkflowRun.objects.count()) == ([], 2)


def test_a_witness_holding_the_cuts_checkpoint_agrees_with_the_chain_after_it(archive_dir, history, witness_dir):
    # Given retention has deleted the old range, and the witness holds the checkpoint signed at the cut
    retention.apply(now=LATER)
    wait_until_sequenced()
    assert (witness_dir / "latest.json").exists()

    # When the chain is verified in full
    run = verification.verify_now(VerificationRun.Mode.FULL)

    # Then the witness contradicts nothing
    assert (run.status, run.findings) == (VerificationRun.Status.INTACT, [])


def test_a_cut_rewritten_in_the_database_is_named(archive_dir, history):
    # Given retention has deleted the old range, and the recorded cut's hash is then changed
    retention.apply(now=LATER)
    wait_until_sequenced()
    RetentionArchive.objects.update(hash="f" * 64)

    # When the chain is verified in full
    run = verification.verify_now(VerificationRun.Mode.FULL)

    # Then the cut is named as not the one its checkpoint signs
    cut = RetentionArchive.objects.get().seq
    assert run.status == VerificationRun.Status.BROKEN
    assert run.findings == [f"the retention cut at event #{cut} is not the one its checkpoint signs"]


def test_on_the_retention_path_a_delete_past_the_recorded_cut_is_refused_whole(archive_dir, history, monkeypatch):
    # Given an archive recorded and not yet deleted (its delete crashed)
    monkeypatch.setattr(retention, "_delete", lambda *args: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        retention.apply(now=LATER)
    cut, events = RetentionArchive.objects.get().seq, AuditEvent.objects.count()

    # When retention's setting is on and one statement deletes up to one event past the cut
    refused = pytest.raises(DatabaseError, match="DELETE refused after the recorded retention cut")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL regent.retention = 'on'")
        cursor.execute("DELETE FROM governance_auditevent WHERE seq <= %s", [cut + 1])

    # Then nothing was deleted
    assert AuditEvent.objects.count() == events


def test_an_s3_bucket_archive_is_written_verified_and_checks_offline(settings, history, s3_server, tmp_path):
    # Given an S3-compatible bucket as the archive (moto's server, over HTTP)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="regent-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    settings.RETENTION_ARCHIVE = "s3://regent-archive/retention"
    cut = old_events_end()

    # When retention runs
    [applied] = retention.apply(now=LATER)

    # Then the archive is one object in the bucket, recorded where it is, and the expired range is gone
    [stored] = s3.list_objects_v2(Bucket="regent-archive", Prefix="retention/")["Contents"]
    assert applied.archive.location == f"s3://regent-archive/{stored['Key']}"
    assert AuditEvent.objects.filter(seq__lte=cut).count() == 0
    assert set(Decision.objects.values_list("pk", flat=True)) == {d.pk for d in history["new"]}

    # And a copy an auditor downloads verifies offline, as the directory's do
    copy = tmp_path / Path(stored["Key"]).name
    s3.download_file("regent-archive", stored["Key"], str(copy))
    assert archive_check.verify_archives([str(copy)], public_key_b64=public_key_b64())["events"] == cut


def test_an_archive_the_bucket_will_not_take_deletes_nothing(settings, history, s3_server):
    # Given a bucket archive whose bucket does not exist
    settings.RETENTION_ARCHIVE = "s3://no-such-bucket/retention"
    before = AuditEvent.objects.count()

    # When retention runs, then it stops, naming the bucket, and nothing is deleted
    with pytest.raises(archives.ArchiveError, match="s3://no-such-bucket did not take"):
        retention.apply(now=LATER)
    assert AuditEvent.objects.count() == before
    assert not RetentionArchive.objects.exists()


def test_the_integrity_page_tells_an_auditor_what_is_kept_and_where_the_log_now_starts(
    archive_dir, history, client, dave
):
    # Given retention applied six months on: the old events archived and deleted
    retention.apply(now=LATER)
    cut = RetentionArchive.objects.get()

    # When the Auditor opens the integrity page
    client.force_login(dave)
    page = client.get(reverse("dashboard:integrity")).content.decode()

    # Then it says how long each kind is kept, where the archive is, and which events were cut and when
    assert "kept 183 days (about 6 months)" in page
    assert archive_dir.as_uri() in page
    assert f"Events #1–#{cut.seq:,} were archived to {cut.location}" in page
    assert f"The log now starts after event #{cut.seq:,}" in page


def test_the_integrity_page_says_nothing_is_deleted_without_an_archive(settings, client, dave):
    settings.RETENTION_ARCHIVE = ""
    client.force_login(dave)

    page = client.get(reverse("dashboard:integrity")).content.decode()

    assert "None configured: nothing is ever deleted" in page
    assert "Nothing has been deleted: the log starts at its first event." in page
