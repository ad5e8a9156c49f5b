"""Verifying the audit chain as a background task: from the last verified checkpoint forward, or the whole
walk, in one consistent snapshot, with progress a page can watch.

A run reads the head, the events and the witnesses' checkpoints in one snapshot (audit.chain.snapshot), so it
never reports a break that is not there. Its progress is written on a connection of its own, outside the
snapshot's transaction, so a page sees it while the walk goes on. A run that finds the chain intact signs a
checkpoint of the head it verified up to, marked verified: the next incremental run starts there.
"""

import datetime as dt

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import chain, checkpoints, events
from audit.checkpoint_check import CheckpointError, verify_checkpoint
from audit.evidence import public_key_b64
from audit.hashing import GENESIS_HASH
from audit.models import AuditChainHead, AuditEvent, Checkpoint, PendingEvent, RetentionArchive, VerificationRun

Mode, Status = VerificationRun.Mode, VerificationRun.Status
# A run still waiting or checking after this long lost its task (a broker emptied, say): a new one may start.
ABANDONED_AFTER = dt.timedelta(hours=3)


def start(user, mode: str = Mode.INCREMENTAL) -> VerificationRun:
    """Queue a verification; a Celery worker runs it once this transaction commits (at once when tasks run
    eagerly). A run of the same mode already queued or running is returned instead of a second one, unless it
    was abandoned (ABANDONED_AFTER)."""
    from audit import tasks

    with transaction.atomic():
        ongoing = VerificationRun.objects.select_for_update().filter(status__in=[Status.QUEUED, Status.RUNNING])
        run = ongoing.filter(mode=mode, requested_at__gte=timezone.now() - ABANDONED_AFTER).first()
        if run is not None:
            return run
        run = VerificationRun.objects.create(mode=mode, started_by=user if user and user.is_authenticated else None)
        transaction.on_commit(lambda: tasks.verify_audit_chain.delay(run.pk))
    return run


def execute(run_id: int) -> VerificationRun | None:
    """Run a queued verification to its end (idempotent: a finished run is left as it is)."""
    run = VerificationRun.objects.filter(pk=run_id).first()
    if run is None or run.finished:
        return run
    progress = _Progress(run)
    try:
        with chain.snapshot() as isolated:
            progress.isolated = isolated
            _verify(run, progress)
    except (DatabaseError, psycopg.Error) as error:
        run.status, run.findings = Status.FAILED, [f"the database stopped the check: {error}".strip()]
    finally:
        progress.close()
    run.finished_at = timezone.now()
    run.save()
    if run.status == Status.INTACT:
        checkpoints.take(size=run.until_seq, last_hash=run.until_hash, verified=True)
    return run


def _verify(run: VerificationRun, progress: "_Progress") -> None:
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    origin_seq, origin_hash = chain.origin()
    start_at = checkpoints.latest_verified() if run.mode == Mode.INCREMENTAL else None
    if start_at is not None and start_at.size < origin_seq:  # verified before retention cut the chain after it
        start_at = None
    run.from_seq, run.until_seq, run.until_hash = (start_at.size if start_at else origin_seq), head_seq, head_hash
    progress.save(status=Status.RUNNING, from_seq=run.from_seq, until_seq=head_seq, checked=0)

    findings = _start_problems(start_at, head_seq) if start_at else _origin_problems(origin_seq, origin_hash)
    if not findings:
        report = chain.walk(
            after_seq=run.from_seq,
            after_hash=start_at.last_hash if start_at else origin_hash,
            until_seq=head_seq,
            on_progress=lambda checked: progress.save(checked=checked),
        )
        run.checked, run.broken_seq = report.checked, report.broken_seq
        if not report.ok:
            findings.append(f"event #{report.broken_seq}: {report.reason}")
    findings += [reading.problem for reading in checkpoints.read_witnesses(head_seq) if reading.problem]
    run.findings = findings
    run.status = Status.BROKEN if findings else Status.INTACT
    run.queued_events = PendingEvent.objects.count()


def _origin_problems(origin_seq: int, origin_hash: str) -> list[str]:
    """Why the retention cut the chain starts after cannot be trusted: its signed checkpoint must verify and sign
    the same event."""
    if origin_seq == 0:
        return []
    cut = RetentionArchive.objects.select_related("checkpoint").filter(seq=origin_seq, deleted_at__isnull=False).first()
    document = checkpoints.as_document(cut.checkpoint)
    try:
        verify_checkpoint(document, public_key_b64())
    except CheckpointError as error:
        return [f"the checkpoint at the retention cut (event #{origin_seq}) does not verify: {error}"]
    if (document["size"], document["last_hash"]) != (origin_seq, origin_hash):
        return [f"the retention cut at event #{origin_seq} is not the one its checkpoint signs"]
    return []


def _start_problems(start_at: Checkpoint, head_seq: int) -> list[str]:
    """Why the checkpoint an incremental run starts from cannot be trusted: it must verify, and the chain must
    still hold its last event, unchanged."""
    try:
        verify_checkpoint(checkpoints.as_document(start_at), public_key_b64())
    except CheckpointError as error:
        return [f"the last verified checkpoint does not verify: {error}; run a full verification"]
    problem = checkpoints.compare(checkpoints.as_document(start_at), "Regent (the last verified checkpoint)", head_seq)
    if problem:
        return [problem]
    event = AuditEvent.objects.filter(seq=start_at.size).first()
    if event is not None and chain.hash_event(event) != event.hash:
        return [f"event #{start_at.size}: its content does not match its hash"]
    return []


class _Progress:
    """Writes a run's progress where others can read it during the walk: on a connection of its own when the
    walk holds a snapshot transaction open, else through the ORM."""

    def __init__(self, run: VerificationRun) -> None:
        self.run_id, self.isolated, self._side = run.pk, False, None

    def save(self, **fields) -> None:
        if not self.isolated:
            VerificationRun.objects.filter(pk=self.run_id).update(**fields)
            return
        if self._side is None:  # outside the pool: the walk's own connection holds the snapshot open
            self._side = psycopg.connect(**events.session_parameters(), autocommit=True)
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(name)} = %s" for name in fields)
        table = quote(VerificationRun._meta.db_table)
        self._side.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*fields.values(), self.run_id])  # noqa: S608

    def close(self) -> None:
        if self._side is not None:
            self._side.close()


def latest_run() -> VerificationRun | None:
    return VerificationRun.objects.select_related("started_by").first()


def verify_now(mode: str = Mode.FULL, user=None) -> VerificationRun:
    """Verify in this process, now (`manage.py verify_audit`): the same run a worker would make."""
    run = VerificationRun.objects.create(mode=mode, started_by=user)
    return execute(run.pk)
