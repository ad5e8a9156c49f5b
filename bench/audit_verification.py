"""Audit verification benchmark: incremental (from the last verified checkpoint) against the full walk.

Run from the repository root: `.venv/bin/python bench/audit_verification.py` (VERIFY_EVENTS=1000000 by default,
VERIFY_NEW=1000 events appended before each incremental run, VERIFY_ROUNDS=1). It creates the PostgreSQL database
regent_bench_verification (or VERIFY_DATABASE), writes a valid chain of VERIFY_EVENTS events by COPY (hashed as
Regent hashes them), then, interleaved in each round: appends VERIFY_NEW events, times an incremental run, times a
full run (the baseline, measured in the same round). Both are `audit.verification` runs as the Celery task makes
them: one REPEATABLE READ snapshot, progress written on a side connection, a signed checkpoint at the end. Prints a
line per million events seeded and each incremental time as measured, then a table and the load average. Nothing
asserts a wall-clock limit.
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("VERIFY_DATABASE", "regent_bench_verification")
EVENTS = int(os.environ.get("VERIFY_EVENTS", "1000000"))
NEW = int(os.environ.get("VERIFY_NEW", "1000"))
ROUNDS = int(os.environ.get("VERIFY_ROUNDS", "1"))

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench import databases  # noqa: E402

os.environ["DATABASE_URL"] = databases.recreate(DATABASE)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from audit import checkpoints, verification  # noqa: E402
from audit.hashing import GENESIS_HASH, canonical, hash_payload  # noqa: E402
from audit.models import VerificationRun  # noqa: E402

COLUMNS = (
    "seq, occurred_at, actor_id, actor_label, kind, subject_type, subject_id, department_id, before, after, "
    "prev_hash, hash"
)
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def append(count: int) -> None:
    """Append `count` valid events after the head by COPY, triggers off (the bench owns the database)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM governance_auditchainhead WHERE id = 1")
        seq, prev_hash = cursor.fetchone()
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY governance_auditevent ({COLUMNS}) FROM STDIN") as copy:
            for _ in range(count):
                seq += 1
                after = {"verdict": "allow", "amount": f"{seq % 997}.50", "agent_id": seq % 40}
                payload = {
                    "seq": seq,
                    "occurred_at": (START + dt.timedelta(seconds=seq)).isoformat(),
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
                copy.write_row(
                    (
                        seq,
                        payload["occurred_at"],
                        None,
                        payload["actor_label"],
                        "decision.created",
                        "decision",
                        str(seq),
                        None,
                        None,
                        canonical(after),
                        payload["prev_hash"],
                        prev_hash,
                    )
                )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("UPDATE governance_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev_hash])


def timed(mode: str) -> tuple[float, VerificationRun]:
    started = time.perf_counter()
    run = verification.verify_now(mode)
    elapsed = time.perf_counter() - started
    assert run.status == VerificationRun.Status.INTACT, run.findings
    return elapsed, run


def main() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditchainhead SET seq = 0, hash = %s WHERE id = 1", [GENESIS_HASH])
    started = time.perf_counter()
    for seeded in range(0, EVENTS, 1_000_000):  # a line per million, so a long run shows its seeding rate
        append(min(1_000_000, EVENTS - seeded))
        print(f"seeded {min(seeded + 1_000_000, EVENTS):,} events, {time.perf_counter() - started:.1f} s", flush=True)
    print(f"seeded {EVENTS:,} chained events in {time.perf_counter() - started:.1f} s", flush=True)
    checkpoints.take(verified=True)  # the seeded chain is valid by construction: its head is the first checkpoint
    rows = []
    for round_number in range(1, ROUNDS + 1):
        append(NEW)
        incremental, inc_run = timed(VerificationRun.Mode.INCREMENTAL)
        print(f"round {round_number}: incremental {inc_run.checked:,} events in {incremental:.3f} s", flush=True)
        append(NEW)
        full, full_run = timed(VerificationRun.Mode.FULL)
        rows.append((round_number, inc_run.checked, incremental, full_run.checked, full))
    print(f"\nload average (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    print("| round | incremental: events | incremental: s | full walk: events | full walk: s | full / incremental |")
    print("|---|---|---|---|---|---|")
    for round_number, inc_events, inc, full_events, full in rows:
        print(f"| {round_number} | {inc_events:,} | {inc:.3f} | {full_events:,} | {full:.1f} | {full / inc:,.0f}× |")
    per_event = sum(r[4] for r in rows) / sum(r[3] for r in rows) * 1e6
    print(f"\nfull walk: {per_event:.1f} µs per event; incremental cost grows with new events, not the chain's size")


if __name__ == "__main__":
    try:
        main()
    finally:
        connection.close()
        databases.drop(DATABASE)
