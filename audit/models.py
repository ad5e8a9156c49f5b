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
