"""Retention: the one path by which records leave Regent's database (README, "Retention").

Each kind of record is kept settings.RETENTION_DAYS[kind] days: the audit log ("audit_events"), and the kinds the
apps above register (`register`): decisions with their outcomes, approvals and overrides (governance), traces,
that is workflow runs with their step runs (workflows), the agents' OpenTelemetry spans (traces) and the MCP
gateway's tool calls (gateway). `apply` (beat, `manage.py apply_retention`) takes what
has expired in batches of at most settings.RETENTION_BATCH events and RETENTION_BATCH records of each kind, and
for each batch:

1. picks the cut: the last event of the longest run of events after the chain's start that all occurred before
   the audit log's cutoff;
2. writes the events up to the cut and the expired records as one signed, gzip-compressed evidence pack to the
   archive (audit.archives);
3. reads the archive back and verifies it as an auditor would (audit.evidence_check), and that it links to where
   the chain starts now and ends at the cut's hash;
4. signs a checkpoint at the cut (copied to the witnesses) and records the archive (RetentionArchive);
5. deletes, in one transaction, exactly the events up to the cut and the rows the archive holds, read back from it.

A crash anywhere leaves either nothing recorded (the batch is redone from step 1) or an archive recorded and not
deleted, whose deletion the next run completes first. Nothing is deleted that the archive does not hold: the
append-only trigger lets a DELETE through only in step 5's transaction and only up to a recorded cut, and a row
the archive does not list is never named in a DELETE.
"""

import datetime as dt
import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from audit import archives, chain, checkpoints, counts
from audit.evidence import FORMAT, public_key_b64, signed_lines
from audit.evidence_check import EvidenceError, verify_lines
from audit.hashing import HASHED_FIELDS
from audit.models import AuditChainHead, AuditEvent, RetentionArchive

AUDIT_EVENTS = "audit_events"
DELETE_CHUNK = 50_000  # rows per DELETE statement, all in the one transaction of a batch
LOCK_KEY = 7_204_123  # pg advisory lock: one retention run at a time (beside the sequencer's 7_204_122)
RETENTION_SETTING = "regent.retention"  # the append-only trigger's exception (audit migration 0005)


class RetentionError(Exception):
    pass


@dataclass(frozen=True)
class RecordKind:
    """A kind of record that expires: rows of `model` whose `age_field` is older than the period, each with its
    `parts` (rows of other models pointing at it by the named field) archived and deleted with it. `keep` names
    rows that must stay whatever their age (a pending approval). A row that anything else still points at (a
    decision a step run names, a step run a delegated run names) waits until that goes first."""

    name: str
    model: type[models.Model]
    age_field: str
    parts: tuple[tuple[type[models.Model], str], ...] = ()
    keep: models.Q = field(default_factory=models.Q)

    def expired(self, cutoff: dt.datetime) -> models.QuerySet:
        rows = self.model.objects.filter(**{f"{self.age_field}__lt": cutoff})
        if self.keep:
            rows = rows.exclude(self.keep)
        for lookup in self._held_by_others():
            rows = rows.exclude(**{f"{lookup}__isnull": False})
        return rows.order_by(self.age_field, "pk")

    def _held_by_others(self) -> list[str]:
        """Lookups from the root to every row outside this kind that points at it or its parts with a database
        constraint, which would stop the delete."""
        own = {model._meta.get_field(name) for model, name in self.parts}
        lookups = []
        for prefix, model in [("", self.model), *((self._accessor(m, f) + "__", m) for m, f in self.parts)]:
            for relation in model._meta.related_objects:
                if relation.field in own or not getattr(relation.field, "db_constraint", False):
                    continue
                lookups.append(prefix + relation.name)
        return lookups

    @staticmethod
    def _accessor(model: type[models.Model], field_name: str) -> str:
        return model._meta.get_field(field_name).related_query_name()

    def records(self, ids: list[int]) -> Iterator[dict]:
        """Archive lines for the rows `ids` and their parts: every column, as stored."""
        for model, rows in [(self.model, self.model.objects.filter(pk__in=ids))] + [
            (model, model.objects.filter(**{f"{fk}__in": ids})) for model, fk in self.parts
        ]:
            for row in rows.order_by("pk").values().iterator(chunk_size=2000):
                yield {"type": "record", "kind": self.name, "table": model._meta.db_table, "row": row}


_kinds: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> None:
    """Called by the app that owns the records, from its AppConfig.ready."""
    _kinds[kind.name] = kind


def kinds() -> list[RecordKind]:
    return list(_kinds.values())


@dataclass
class Batch:
    """What one batch takes: the events (first_seq, cut] and each kind's expired row ids."""

    first_seq: int
    cut: int
    prev_hash: str
    cut_hash: str
    cutoffs: dict[str, dt.datetime]
    ids: dict[str, list[int]]

    @property
    def events(self) -> int:
        return self.cut - self.first_seq + 1

    @property
    def empty(self) -> bool:
        return self.events == 0 and not any(self.ids.values())


def cutoffs(now: dt.datetime) -> dict[str, dt.datetime]:
    names = [AUDIT_EVENTS, *_kinds]
    return {name: now - dt.timedelta(days=settings.RETENTION_DAYS[name]) for name in names}


def plan(now: dt.datetime, limit: int) -> Batch:
    """The next batch: at most `limit` events and rows of each kind."""
    limits = cutoffs(now)
    start_seq, start_hash = chain.origin()
    cut = _cut(start_seq, limits[AUDIT_EVENTS], limit)
    cut_hash = AuditEvent.objects.get(seq=cut).hash if cut > start_seq else start_hash
    ids = {kind.name: list(kind.expired(limits[kind.name]).values_list("pk", flat=True)[:limit]) for kind in kinds()}
    return Batch(start_seq + 1, cut, start_hash, cut_hash, limits, ids)


def expired(now: dt.datetime | None = None) -> dict[str, int]:
    """How many events and rows of each kind have expired now, counted, nothing listed (a dry run)."""
    limits = cutoffs(now or timezone.now())
    start_seq, _ = chain.origin()
    counts = {AUDIT_EVENTS: _cut(start_seq, limits[AUDIT_EVENTS], None) - start_seq}
    return counts | {kind.name: kind.expired(limits[kind.name]).count() for kind in kinds()}


def _cut(start_seq: int, cutoff: dt.datetime, limit: int | None) -> int:
    """The last event of the longest run after `start_seq` (of at most `limit`) that all occurred before `cutoff`:
    the chain is sequenced in commit order, so a late event's neighbours may be a little older than it."""
    after = AuditEvent.objects.filter(seq__gt=start_seq)
    if limit:
        after = after.filter(seq__lte=start_seq + limit)
    newer = after.filter(occurred_at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    if newer is not None:
        return newer - 1
    return after.aggregate(last=Max("seq"))["last"] or start_seq


@dataclass(frozen=True)
class Applied:
    archive: RetentionArchive

    def __str__(self) -> str:
        counts = ", ".join(f"{count:,} rows of {table}" for table, count in self.archive.records.items())
        return f"archived and deleted {counts} to {self.archive.location}"


def apply(now: dt.datetime | None = None) -> list[Applied]:
    """Archive, verify and delete everything expired, batch by batch; return what each batch did. An archive a
    crash left undeleted is finished first. Without settings.RETENTION_ARCHIVE nothing happens."""
    target = archives.configured()
    if target is None:
        return []
    now = now or timezone.now()
    with _alone() as alone:
        return _apply(now, target) if alone else []


def _apply(now: dt.datetime, target: archives.Archive) -> list[Applied]:
    counts.fold_all()  # the counts per hour outlive the events, as the rollups do
    done = []
    while True:
        pending = RetentionArchive.objects.filter(deleted_at__isnull=True).order_by("seq", "id").first()
        if pending is None:
            batch = plan(now, settings.RETENTION_BATCH)
            if batch.empty:
                return done
            pending = archive(batch, target, now)
        delete(pending, target)
        done.append(Applied(pending))


@contextmanager
def _alone() -> Iterator[bool]:
    """Whether this process holds the retention lock (PostgreSQL: a session advisory lock; a second run at once
    would only repeat work) for the block."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def archive(batch: Batch, target: archives.Archive, now: dt.datetime) -> RetentionArchive:
    """Write the batch to the archive, read it back and verify it, sign a checkpoint at the cut and record it."""
    name = f"regent-archive-{batch.first_seq:012d}-{batch.cut:012d}-{now:%Y%m%dT%H%M%S%f}Z.jsonl.gz"
    digest, written = hashlib.sha256(), defaultdict(int)
    with (
        target.writer(name) as file,
        gzip.GzipFile(fileobj=_Hashing(file, digest), mode="wb", compresslevel=6, mtime=0) as packed,
    ):
        for line in _lines(batch, now, written):
            packed.write(line.encode())
    location = target.location(name)
    _verify(batch, target, location, digest.hexdigest(), written)
    with transaction.atomic():
        checkpoint = checkpoints.take(size=batch.cut, last_hash=batch.cut_hash, verified=True)
        return RetentionArchive.objects.create(
            first_seq=batch.first_seq,
            seq=batch.cut,
            prev_hash=batch.prev_hash,
            hash=batch.cut_hash,
            location=location,
            sha256=digest.hexdigest(),
            records={AuditEvent._meta.db_table: batch.events, **written},
            checkpoint=checkpoint,
            verified_at=timezone.now(),
        )


class _Hashing:
    """A write-only file that hashes what passes through: the archive's digest as written, in one pass."""

    def __init__(self, file, digest) -> None:
        self.file, self.digest = file, digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def _lines(batch: Batch, now: dt.datetime, written: dict[str, int]) -> Iterator[str]:
    head = AuditChainHead.objects.filter(pk=1).first()
    header = {
        "type": "header",
        "format": FORMAT,
        "purpose": "retention archive",
        "from": None,
        "to": batch.cutoffs[AUDIT_EVENTS].astimezone(dt.UTC).isoformat(),
        "first_seq": batch.first_seq if batch.events else None,
        "last_seq": batch.cut if batch.events else None,
        "prev_hash": batch.prev_hash,
        "cut": {"seq": batch.cut, "hash": batch.cut_hash},
        "cutoffs": {name: moment.astimezone(dt.UTC).isoformat() for name, moment in batch.cutoffs.items()},
        "chain_head": {"seq": head.seq, "hash": head.hash} if head else None,
        "exported_at": now.astimezone(dt.UTC).isoformat(),
        "public_key": public_key_b64(),
    }
    return signed_lines(header, _event_lines(batch), _counted(batch, written))


def _event_lines(batch: Batch) -> Iterator[dict]:
    """`evidence.event_line` of each event in the batch, from plain rows: a million model instances cost more
    than the rest of the archive's writing."""
    events = AuditEvent.objects.filter(seq__gte=batch.first_seq, seq__lte=batch.cut).order_by("seq")
    for row in events.values(*HASHED_FIELDS, "hash").iterator(chunk_size=5000):
        row["subject_id"] = str(row["subject_id"])
        yield {"type": "event", **row}


def _counted(batch: Batch, written: dict[str, int]) -> Iterator[dict]:
    for kind in kinds():
        for record in kind.records(batch.ids[kind.name]):
            written[record["table"]] += 1
            yield record


def _verify(batch: Batch, target: archives.Archive, location: str, sha256: str, written: dict[str, int]) -> None:
    """Read the archive back and check it as an auditor would, and that it is this batch: its bytes, its
    signature under the organisation's key, every event's hash and link, from the chain's start to the cut, and
    as many records of each kind as were written."""
    read: dict[str, int] = defaultdict(int)
    with target.reader(location) as raw:
        try:
            result = verify_lines(_records_counted(_decompressed(raw, sha256), read), public_key_b64())
        except (EvidenceError, ValueError, KeyError) as error:
            raise RetentionError(f"the archive {location} does not verify as written: {error}") from error
    if result["events"] != batch.events or (batch.events and result["last_hash"] != batch.cut_hash):
        raise RetentionError(f"the archive {location} does not hold events #{batch.first_seq}–#{batch.cut}")
    if result["header"]["prev_hash"] != batch.prev_hash:
        raise RetentionError(f"the archive {location} does not link to where the chain starts")
    if read != written:
        raise RetentionError(f"the archive {location} does not hold the records written to it")


def _decompressed(raw, sha256: str) -> Iterator[bytes]:
    """The archive's lines; RetentionError when its bytes are not the ones written (`sha256`)."""
    digest = hashlib.sha256()
    with gzip.GzipFile(fileobj=_HashingReader(raw, digest)) as lines:
        yield from lines
    if digest.hexdigest() != sha256:
        raise RetentionError("the archive's bytes changed since they were written")


class _HashingReader:
    def __init__(self, file, digest) -> None:
        self.file, self.digest = file, digest

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.digest.update(data)
        return data


def _records_counted(lines: Iterable[bytes], counts: dict[str, int]) -> Iterator[bytes]:
    for line in lines:
        if _is_record(line):
            counts[json.loads(line)["table"]] += 1
        yield line


def _is_record(line: bytes) -> bool:
    """Record lines are canonical JSON, keys sorted: only they start with "kind" (events start with "actor_id"),
    so the millions of event lines need no parsing here."""
    return line.startswith(b'{"kind":')


def delete(pending: RetentionArchive, target: archives.Archive) -> None:
    """Delete, in one transaction, the events up to the archive's cut and exactly the rows it holds, once its
    bytes are still the ones verified; the archive is then where the chain starts (chain.origin)."""
    rows = _archived_rows(pending, target)
    try:
        _delete(pending, rows)
    except IntegrityError as error:
        # A row was added since the archive was written that points at one it holds (an outcome reported for a
        # decision archived a moment before): nothing was deleted. Forget this archive; the next run redoes it.
        RetentionArchive.objects.filter(pk=pending.pk, deleted_at__isnull=True).delete()
        raise RetentionError(
            f"records changed after {pending.location} was written: archived again next run"
        ) from error


def _delete(pending: RetentionArchive, rows: dict[str, list[int]]) -> None:
    with transaction.atomic(durable=True):
        locked = RetentionArchive.objects.select_for_update().get(pk=pending.pk)
        if locked.deleted_at is not None:  # another run finished it meanwhile
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL {RETENTION_SETTING} = 'on'")
            table = connection.ops.quote_name(AuditEvent._meta.db_table)
            for start in range(pending.first_seq, pending.seq + 1, DELETE_CHUNK):
                cursor.execute(
                    f"DELETE FROM {table} WHERE seq >= %s AND seq <= %s",  # noqa: S608
                    [start, min(start + DELETE_CHUNK - 1, pending.seq)],
                )
            for db_table, ids in rows.items():
                quoted = connection.ops.quote_name(db_table)
                for start in range(0, len(ids), DELETE_CHUNK):
                    chunk = ids[start : start + DELETE_CHUNK]
                    cursor.execute(f"DELETE FROM {quoted} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)  # noqa: S608
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        chain.record(
            "retention.deleted",
            subject_type="retention_archive",
            subject_id=locked.pk,
            actor_label="system:retention",
            after={
                "events": f"#{locked.first_seq}–#{locked.seq}" if locked.seq >= locked.first_seq else "none",
                "records": locked.records,
                "archive": locked.location,
                "sha256": locked.sha256,
            },
        )


def _archived_rows(pending: RetentionArchive, target: archives.Archive) -> dict[str, list[int]]:
    """Each table's row ids the archive holds, read back from it; RetentionError when its bytes changed."""
    rows: dict[str, list[int]] = defaultdict(list)
    with target.reader(pending.location) as raw:
        for line in _decompressed(raw, pending.sha256):
            if _is_record(line):
                record = json.loads(line)
                rows[record["table"]].append(record["row"]["id"])
    return rows
