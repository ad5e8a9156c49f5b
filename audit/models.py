"""The audit log: append-only, each event chained to the one before by a SHA-256 hash."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One thing that happened. `seq` is the chain order and the live stream's event id."""

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # nothing filters on it; each index is paid on every decision written
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted: a person, an agent or the system.")
    kind = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=64)
    department = models.ForeignKey(
        "orchestration.Department",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    # Not unique-indexed: each hash covers its seq (the primary key), so a duplicate would be a SHA-256
    # collision, and the index cost a third of the chain's write time in bulk ingest.
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "governance_auditevent"
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["kind", "occurred_at"], name="auditevent_kind_occurred"),
        ]
        permissions = [("export_evidence", "Can export signed evidence packs")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.subject_type}:{self.subject_id}"


class AuditChainHead(models.Model):
    """The last link of the chain: one row, locked by each append so links form one line."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "governance_auditchainhead"

    def __str__(self) -> str:
        return f"head #{self.seq}"


class PendingEvent(models.Model):
    """An event its writer committed that the sequencer has not linked into the chain yet (queued sequencing).

    Its id, drawn from a sequence when the writer inserted it, orders the queue. The table holds no more than
    the sequencer's delay's worth of rows, so it has no index but its key: each one would cost every writer.
    """

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=64)
    department = models.ForeignKey(
        "orchestration.Department",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    # When its writer queued it (the writer's clock): how long the oldest entry has waited is the sequencer's
    # lag, which readiness checks (health.probes, AUDIT_QUEUE_MAX_AGE_SECONDS).
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "audit_pendingevent"

    def __str__(self) -> str:
        return f"queued {self.kind} {self.subject_type}:{self.subject_id}"


class Checkpoint(models.Model):
    """The chain's head (size and last hash) at a moment, signed with the organisation's Ed25519 key.

    Copies go to witnesses outside the database (audit.witnesses), so a chain rewound or truncated later
    contradicts a checkpoint someone else holds. `verified_at` is set when a verification walked the chain up
    to this checkpoint and found it intact: incremental verification starts from the newest such one.
    """

    size = models.BigIntegerField(help_text="Events in the chain at the checkpoint (the head's seq).")
    last_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField(db_index=True)
    signature = models.CharField(max_length=100, help_text="Ed25519 over the checkpoint's canonical JSON, base64.")
    public_key = models.CharField(max_length=60)
    witnessed_by = models.JSONField(default=list, help_text="Names of the witnesses that accepted a copy.")
    witness_errors = models.JSONField(default=dict, help_text="Witness name: why it did not accept a copy.")
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]

    def __str__(self) -> str:
        return f"checkpoint of {self.size} events at {self.signed_at:%Y-%m-%d %H:%M:%S}"


class VerificationRun(models.Model):
    """One check of the chain, started from the integrity page, a command or beat, and run as a Celery task."""

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "From the last verified checkpoint"
        FULL = "full", "The whole chain"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Checking"
        INTACT = "intact", "Intact"
        BROKEN = "broken", "Broken"
        FAILED = "failed", "Could not finish"

    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.INCREMENTAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    from_seq = models.BigIntegerField(default=0, help_text="Events before this one were verified earlier.")
    until_seq = models.BigIntegerField(null=True, blank=True, help_text="The head in the run's snapshot.")
    until_hash = models.CharField(max_length=64, blank=True)
    checked = models.BigIntegerField(default=0)
    broken_seq = models.BigIntegerField(null=True, blank=True)
    findings = models.JSONField(default=list, help_text="What did not hold, in sentences.")
    queued_events = models.BigIntegerField(default=0, help_text="Events still waiting for the sequencer then.")

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("verify_chain", "Can start a verification of the audit chain")]

    def __str__(self) -> str:
        return f"verification {self.pk} ({self.mode}, {self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.INTACT, self.Status.BROKEN, self.Status.FAILED)

    @property
    def to_check(self) -> int | None:
        return None if self.until_seq is None else max(self.until_seq - self.from_seq, 0)


class RetentionArchive(models.Model):
    """One run of the retention path over a range of expired records (audit.retention): the events after the
    previous cut up to this one's (`first_seq`–`seq`), with the decisions and traces expired with them, written to
    the archive as a signed, compressed evidence pack, read back and verified, signed as a checkpoint at the cut,
    then deleted. The newest deleted one is where the chain now starts: its `seq` and `hash` stand in for every
    event before, and `checkpoint` signs them."""

    first_seq = models.BigIntegerField(help_text="The first event archived (the previous cut's seq + 1).")
    seq = models.BigIntegerField(help_text="The cut: the last event archived. The chain continues after it.")
    prev_hash = models.CharField(max_length=64, help_text="The hash the first archived event links to.")
    hash = models.CharField(max_length=64, help_text="The cut event's hash: the next event links to it.")
    location = models.CharField(max_length=500, help_text="Where the archive is, e.g. file:///srv/archive/….gz.")
    sha256 = models.CharField(max_length=64, help_text="Of the archive's bytes as written and verified.")
    records = models.JSONField(default=dict, help_text="How many rows of each table the archive holds.")
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(help_text="When the archive was read back and found to verify.")
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When its records were deleted.")

    class Meta:
        ordering = ["-seq", "-id"]

    def __str__(self) -> str:
        return f"archive of events #{self.first_seq}–#{self.seq}"


class AuditEventCount(models.Model):
    """How many events of the chain occurred in a UTC hour in a department (None: the organisation's own), folded
    from the chain by beat (audit.counts): counting a period's events reads hours × departments rows, not the
    events. Kept when retention deletes the events, as the dashboards' rollups are."""

    hour = models.DateTimeField()
    department_id = models.BigIntegerField(null=True, blank=True)
    events = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["hour", "department_id"], name="auditcount_hour_department")]

    def __str__(self) -> str:
        return f"{self.events} events in the hour of {self.hour:%Y-%m-%d %H:00} UTC"


class AuditCountMark(models.Model):
    """One row: the last event folded into AuditEventCount. Events after it are counted from the chain."""

    seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events folded up to #{self.seq}"
