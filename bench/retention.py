"""Retention benchmark: archive, verify and delete the expired audit events, against bare SQL doing less.

Run from the repository root: `.venv/bin/python bench/retention.py` (RETENTION_EVENTS=1000000 expired events by
default, RETENTION_BATCH=100000 per archive, RETENTION_NEW=1000 recent events that stay). It creates the
PostgreSQL database regent_bench_retention, writes a valid chain by COPY (hashed as Regent hashes them), the
expired events a year old, then measures, in this order and in the same run:

- baseline 1, a bare `COPY (SELECT … WHERE seq <= cut) TO STDOUT` of the expired rows, read and thrown away;
- baseline 2, a bare `DELETE … WHERE seq <= cut` with triggers off (session_replication_role = replica), rolled
  back (then VACUUM, so the retention run reads clean pages);
- `audit.retention.apply`: per batch, write the signed gzip archive, read it back and verify it, sign the
  checkpoint and delete in one transaction through the trigger's exception; the phases are timed apart.

Then it checks that the remaining chain verifies from the cut and prints a table (wall clock, and the CPU this
process spent in each phase: on a shared machine the difference is mostly waiting for a core or for PostgreSQL),
the archives' size, the peak memory of the process and the load average. Nothing asserts a wall-clock limit.
"""

import datetime as dt
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_retention"
EVENTS = int(os.environ.get("RETENTION_EVENTS", "1000000"))
NEW = int(os.environ.get("RETENTION_NEW", "1000"))
ARCHIVE_DIR = Path(tempfile.mkdtemp(prefix="regent-bench-retention-"))

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["AUDIT_SEQUENCING"] = "inline"
os.environ["RETENTION_ARCHIVE"] = ARCHIVE_DIR.as_uri()
os.environ.setdefault("RETENTION_BATCH", "100000")

from bench import databases  # noqa: E402

os.environ["DATABASE_URL"] = databases.recreate(DATABASE)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit import chain, retention  # noqa: E402
from audit.hashing import canonical, hash_payload  # noqa: E402
from audit.models import AuditEvent  # noqa: E402

COLUMNS = (
    "seq, occurred_at, actor_id, actor_label, kind, subject_type, subject_id, department_id, before, after, "
    "prev_hash, hash"
)
NOW = timezone.now()


def append(count: int, start: dt.datetime) -> None:
    """Append `count` valid events after the head by COPY, one second apart from `start`, triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM governance_auditchainhead WHERE id = 1")
        seq, prev_hash = cursor.fetchone()
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY governance_auditevent ({COLUMNS}) FROM STDIN") as copy:
            for number in range(count):
                seq += 1
                after = {"verdict": "allow", "amount": f"{seq % 997}.50", "agent_id": seq % 40, "risk_score": 20}
                payload = {
                    "seq": seq,
                    "occurred_at": (start + dt.timedelta(seconds=number)).isoformat(),
                    "actor_id": None,
                    "actor_label": f"agent:{seq % 40}",
                    "kind": "decision.created",
                    "subject_type": "decision",
                    "subject_id": str(seq),
                    "department_id": None,
                    "before": None,
                    "after": after,
                    "prev_hash": prev_hash,
                }
                prev_hash = hash_payload(payload)
                row = (seq, payload["occurred_at"], None, payload["actor_label"], "decision.created", "decision")
                copy.write_row((*row, str(seq), None, None, canonical(after), payload["prev_hash"], prev_hash))
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("UPDATE governance_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev_hash])


def bare_copy_to(cut: int) -> tuple[float, int]:
    started, size = time.perf_counter(), 0
    query = f"COPY (SELECT * FROM governance_auditevent WHERE seq <= {cut}) TO STDOUT"
    with connection.cursor() as cursor, cursor.copy(query) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def bare_delete(cut: int) -> float:
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL session_replication_role = replica")
        started = time.perf_counter()
        cursor.execute("DELETE FROM governance_auditevent WHERE seq <= %s", [cut])
        elapsed = time.perf_counter() - started
        cursor.execute("ROLLBACK")
        cursor.execute("VACUUM ANALYZE governance_auditevent")
    return elapsed


def timed_retention() -> tuple[float, dict[str, tuple[float, float]], int]:
    """retention.apply with its phases timed, wall clock and this process's CPU: writing the archive, reading it
    back to verify, deleting."""
    spent: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    for name in ("archive", "_verify", "delete"):
        setattr(retention, name, _timing(getattr(retention, name), name, spent, cpu))
    started = time.perf_counter()
    applied = retention.apply(now=NOW)
    total = time.perf_counter() - started
    assert sum(batch.archive.seq - batch.archive.first_seq + 1 for batch in applied) == EVENTS
    phases = {
        "write the signed gzip archive, sign the checkpoint": (
            spent["archive"] - spent["_verify"],
            cpu["archive"] - cpu["_verify"],
        ),
        "read the archive back and verify it": (spent["_verify"], cpu["_verify"]),
        "read its rows back, delete them in one transaction": (spent["delete"], cpu["delete"]),
    }
    return total, phases, len(applied)


def _timing(function, name: str, spent: dict[str, float], cpu: dict[str, float]):
    def timed(*args, **kwargs):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - started_cpu

    return timed


def main() -> None:
    started = time.perf_counter()
    append(EVENTS, NOW - dt.timedelta(days=400))
    append(NEW, NOW - dt.timedelta(days=1))
    print(f"seeded {EVENTS:,} expired and {NEW:,} recent chained events in {time.perf_counter() - started:.1f} s")
    print(f"load average at the start of the timed part: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    copy_seconds, copy_bytes = bare_copy_to(EVENTS)
    delete_seconds = bare_delete(EVENTS)
    total, phases, batches = timed_retention()
    report = chain.verify_chain()
    assert report.ok and report.checked == NEW + batches, report  # the recent events and retention's own, one a batch
    archived = sum(path.stat().st_size for path in ARCHIVE_DIR.iterdir())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nload average at the end (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    print(f"| {EVENTS:,} expired events | seconds | µs per event | of it, this process's CPU (s) |")
    print("|---|---|---|---|")
    print(
        f"| baseline: bare COPY TO of the rows ({copy_bytes / 1e6:,.0f} MB of text) | {copy_seconds:.1f} | "
        f"{copy_seconds / EVENTS * 1e6:.1f} | |"
    )
    print(
        f"| baseline: bare DELETE of the rows, triggers off | {delete_seconds:.1f} | "
        f"{delete_seconds / EVENTS * 1e6:.1f} | |"
    )
    for phase, (seconds, cpu_seconds) in phases.items():
        print(f"| retention: {phase} | {seconds:.1f} | {seconds / EVENTS * 1e6:.1f} | {cpu_seconds:.1f} |")
    print(
        f"| **retention, all of it** ({batches} archives of {settings.RETENTION_BATCH:,}) | {total:.1f} | "
        f"{total / EVENTS * 1e6:.1f} | |"
    )
    print(
        f"\narchives: {archived / 1e6:,.1f} MB gzip ({archived / EVENTS:.0f} bytes per event); "
        f"peak memory of the process {peak_mb:,.0f} MB; remaining chain verified from the cut "
        f"({report.checked:,} events); {AuditEvent.objects.count():,} events left"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        connection.close()
        databases.drop(DATABASE)
        for path in ARCHIVE_DIR.iterdir():
            path.unlink()
        ARCHIVE_DIR.rmdir()
