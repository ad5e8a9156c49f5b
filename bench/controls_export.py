"""Controls export benchmark: an auditor's per-framework report and ZIP at 100 k and at 1 M audit events.

Run from the repository root: `.venv/bin/python bench/controls_export.py` (CONTROLS_SMALL=100000 and
CONTROLS_LARGE=1000000 events, CONTROLS_ROUNDS=3 timings of the report and the baseline, the ZIP once,
CONTROLS_DATABASE=regent_bench_controls). It creates the database, writes a valid chain by COPY (hashed as Regent
hashes them, triggers off: the benchmark owns the database), the events spread over the last 29 days in 4
departments, folds them into the counts per hour (audit.counts, what beat does) and analyzes the table, then times,
in the same run, at the small size and again once the chain has grown to the large size:

- **report**: `framework_report` for an Auditor over the last 30 days (the page, the CSV and controls.json);
- **baseline**: the count the audit-log control used to make, the period's events one by one;
- **zip**: `export.write_bundle` (what the page and `manage.py export_controls` write), whose evidence pack holds
  every event of the period, so it grows with them by design (CONTROLS_ZIP=0 leaves it out).

Prints the median of each (the ZIP's single time), the large ÷ small ratio and the load average. Nothing asserts
a wall-clock limit.
"""

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("CONTROLS_DATABASE", "regent_bench_controls")
SMALL = int(os.environ.get("CONTROLS_SMALL", "100000"))
LARGE = int(os.environ.get("CONTROLS_LARGE", "1000000"))
ROUNDS = int(os.environ.get("CONTROLS_ROUNDS", "3"))
ZIP = os.environ.get("CONTROLS_ZIP", "1") == "1"

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench import databases  # noqa: E402

os.environ["DATABASE_URL"] = databases.recreate(DATABASE)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit import counts  # noqa: E402
from audit.hashing import canonical, hash_payload  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from dashboard.compliance import export  # noqa: E402
from dashboard.compliance.library import library  # noqa: E402
from dashboard.compliance.report import framework_report  # noqa: E402
from dashboard.periods import period_for  # noqa: E402
from orchestration.models import Department  # noqa: E402
from orchestration.roles import Role  # noqa: E402

COLUMNS = (
    "seq, occurred_at, actor_id, actor_label, kind, subject_type, subject_id, department_id, before, after, "
    "prev_hash, hash"
)
NOW = timezone.now()
SPREAD = dt.timedelta(days=29).total_seconds()


def append(count: int, total: int, departments: list[int]) -> None:
    """Append `count` valid events after the head by COPY, the chain's `total` events evenly over 29 days."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM governance_auditchainhead WHERE id = 1")
        seq, prev_hash = cursor.fetchone()
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(f"COPY governance_auditevent ({COLUMNS}) FROM STDIN") as copy:
            for _ in range(count):
                seq += 1
                after = {"verdict": "allow", "amount": f"{seq % 997}.50", "agent_id": seq % 40}
                occurred = NOW - dt.timedelta(days=29) + dt.timedelta(seconds=SPREAD * seq / total)
                payload = {
                    "seq": seq,
                    "occurred_at": occurred.isoformat(),
                    "actor_id": None,
                    "actor_label": f"agent:{seq % 40}",
                    "kind": "decision.created",
                    "subject_type": "decision",
                    "subject_id": str(seq),
                    "department_id": departments[seq % len(departments)],
                    "before": None,
                    "after": after,
                    "prev_hash": prev_hash,
                }
                prev_hash = hash_payload(payload)
                copy.write_row(
                    (seq, payload["occurred_at"], None, payload["actor_label"], "decision.created", "decision",
                     str(seq), payload["department_id"], None, canonical(after), payload["prev_hash"], prev_hash)
                )  # fmt: skip
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("UPDATE governance_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev_hash])


def median_seconds(work) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def once(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(auditor) -> dict[str, float]:
    framework = library().framework("eu-ai-act")
    period = period_for("30d", timezone.now())

    def report():
        return framework_report(auditor, framework, period)

    def baseline():
        AuditEvent.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end).count()

    def bundle():
        with tempfile.TemporaryFile() as file:
            export.write_bundle(report(), file)

    audit_log = next(row for row in report().controls if row.control.query == "audit_events")
    print(f"  the audit-log control counts {audit_log.evidence.count:,} events", flush=True)
    times = {"report": median_seconds(report), "baseline": median_seconds(baseline)}
    return times | {"zip": once(bundle)} if ZIP else times


def main() -> None:
    departments = [
        Department.objects.create(name=f"Department {n}", slug=f"department-{n}", monthly_budget=10_000).pk
        for n in range(4)
    ]
    auditor = get_user_model().objects.create_user("auditor")
    auditor.groups.add(Group.objects.get(name=Role.AUDITOR))
    results = {}
    for size, added in ((SMALL, SMALL), (LARGE, LARGE - SMALL)):
        started = time.perf_counter()
        for done in range(0, added, 500_000):  # the events' times are spread as if the chain had LARGE events
            append(min(500_000, added - done), LARGE, departments)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        counts.fold_all()
        with connection.cursor() as cursor:  # as autovacuum does after a bulk load: the planner needs the new sizes
            cursor.execute("ANALYZE governance_auditevent")
        print(f"{size:,} events: seeded in {seeded:.1f} s, folded in {time.perf_counter() - started:.1f} s", flush=True)
        results[size] = measure(auditor)
        print(f"  {results[size]}", flush=True)
    print(f"\nload average (1, 5, 15 min): {', '.join(f'{value:.2f}' for value in os.getloadavg())}\n")
    print(f"| measure | {SMALL:,} events (s) | {LARGE:,} events (s) | large ÷ small |")
    print("|---|---|---|---|")
    for name in results[SMALL]:
        small, large = results[SMALL][name], results[LARGE][name]
        print(f"| {name} | {small:.3f} | {large:.3f} | {large / small:.2f}× |")


if __name__ == "__main__":
    try:
        main()
    finally:
        connection.close()
        databases.drop(DATABASE)
