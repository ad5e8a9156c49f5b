"""Audit sequencing benchmark: decisions/s with 50 concurrent in-process writers, inline against queued.

Run from the repository root: `.venv/bin/python bench/audit_sequencing.py`. It creates the PostgreSQL database
regent_bench_sequencing and, in one run, for each section, has WRITERS threads (one pooled connection each)
write decisions for SECONDS seconds after WARMUP seconds, in three modes:

- **floor**: the same decision and audit rows with no chain at all: the audit row is queued and nothing
  sequences it (no head lock, no hashing, no NOTIFY);
- **inline** (the default on SQLite; on PostgreSQL when asked): the audit event linked under the chain head's
  row lock in the decision's transaction, its NOTIFY trigger firing at commit;
- **queued**: the audit row queued, and `manage.py sequence_audit` running as a process of its own, as in
  production. Reported with the queue's oldest entry's age, sampled every 0.2 s (the sequencing delay),
  and how long the queue took to drain once the writers stopped.

Sections: *rows*, one transaction per decision with the decision row (fastpath insert) and its
`decision.created` event (`audit.chain.record`); *evaluate*, `governance.evaluation.evaluate_action` (the
policy engine, budget, decision and audit event). The chain is verified at the end. Nothing asserts a
wall-clock limit.
"""

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_sequencing"
WRITERS = int(os.environ.get("SEQUENCING_WRITERS", "50"))
SECONDS = float(os.environ.get("SEQUENCING_SECONDS", "10"))
WARMUP = 2.0

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DB_POOL_MAX=str(WRITERS + 10), DB_POOL_TIMEOUT="30")

from bench import databases  # noqa: E402

DATABASE_URL = databases.recreate(DATABASE)
os.environ["DATABASE_URL"] = DATABASE_URL

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit import chain  # noqa: E402
from audit.models import AuditEvent, PendingEvent  # noqa: E402
from fastpath import writes  # noqa: E402
from governance.evaluation import ActionRequest, decision_summary, evaluate_action  # noqa: E402
from governance.models import Decision  # noqa: E402
from orchestration.models import Agent, Department, ModelProvider  # noqa: E402


def seed() -> list[Agent]:
    department = Department.objects.create(name="Finance", slug="finance", monthly_budget=Decimal("1e9"))
    provider = ModelProvider.objects.create(name="Sim")
    return [
        Agent.objects.create(
            name=f"Bench Bot {n}",
            slug=f"bench-bot-{n}",
            department=department,
            provider=provider,
            monthly_budget=Decimal("1e9"),
        )
        for n in range(WRITERS)
    ]


def decision_row(agent: Agent) -> None:
    """One decision and its audit event in one transaction, as evaluate_action writes them."""
    with transaction.atomic():
        now = timezone.now()
        decision = Decision(
            agent=agent,
            department=agent.department,
            action="report.read",
            verdict="allow",
            shadow_verdict="allow",
            risk_score=10,
            latency_us=100,
            created_at=now,
        )
        writes.insert([decision])
        chain.record(
            "decision.created",
            subject_type="decision",
            subject_id=decision.pk,
            actor_label=f"agent:{agent.slug}",
            department_id=agent.department_id,
            after=decision_summary(decision),
            at=now,
        )


def evaluate(agent: Agent) -> None:
    evaluate_action(agent, ActionRequest(action="report.read"))


def writer(agent: Agent, work, stop: threading.Event, counting: threading.Event, counts: list, index: int) -> None:
    try:
        while not stop.is_set():
            work(agent)
            if counting.is_set():
                counts[index] += 1
    finally:
        connection.close()


def queue_age_ms() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(epoch FROM now() - min(occurred_at)) * 1000 FROM audit_pendingevent")
        age = cursor.fetchone()[0]
    return float(age or 0)


def run(mode: str, work, agents: list[Agent]) -> dict:
    settings.AUDIT_SEQUENCING = "inline" if mode == "inline" else "queued"
    sequencer = None
    if mode == "queued":
        environment = {**os.environ, "AUDIT_SEQUENCING": "queued", "DB_POOL_MAX": "4"}
        sequencer = subprocess.Popen(
            [sys.executable, "manage.py", "sequence_audit"], cwd=ROOT, env=environment, stderr=subprocess.DEVNULL
        )
        time.sleep(2)  # Django's start-up, then the election
    stop, counting, counts = threading.Event(), threading.Event(), [0] * len(agents)
    threads = [
        threading.Thread(target=writer, args=(agent, work, stop, counting, counts, n)) for n, agent in enumerate(agents)
    ]
    for thread in threads:
        thread.start()
    time.sleep(WARMUP)
    counting.set()
    started, ages = time.monotonic(), []
    while time.monotonic() - started < SECONDS:
        time.sleep(0.2)
        if mode == "queued":
            ages.append(queue_age_ms())
    counting.clear()
    elapsed = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join()
    result = {"mode": mode, "decisions": sum(counts), "per_second": sum(counts) / elapsed}
    if mode == "queued":
        stopped = time.monotonic()
        while PendingEvent.objects.exists():
            time.sleep(0.01)
        result["drain_ms"] = (time.monotonic() - stopped) * 1000
        ages.sort()
        result["age_p50_ms"], result["age_max_ms"] = ages[len(ages) // 2], ages[-1]
        sequencer.terminate()
        sequencer.wait(10)
    else:
        PendingEvent.objects.all().delete()  # the floor's rows: never chained
    return result


def main() -> None:
    agents = seed()
    load = os.getloadavg()[0]
    print(f"{WRITERS} writers, {SECONDS:.0f} s per cell after {WARMUP:.0f} s warm-up, load {load:.2f} at start")
    rows = []
    for section, work in (("rows", decision_row), ("evaluate", evaluate)):
        results = {mode: run(mode, work, agents) for mode in ("floor", "inline", "queued")}
        for result in results.values():
            rows.append((section, result, result["per_second"] / results["floor"]["per_second"]))
    report = chain.verify_chain()
    print()
    print("| section | mode | decisions/s | ÷ floor | queue age p50 / max (ms) | drain after stop (ms) |")
    print("|---|---|---|---|---|---|")
    for section, result, ratio in rows:
        age = f"{result['age_p50_ms']:.0f} / {result['age_max_ms']:.0f}" if "age_p50_ms" in result else ""
        drain = f"{result['drain_ms']:.0f}" if "drain_ms" in result else ""
        print(f"| {section} | {result['mode']} | {result['per_second']:.0f} | {ratio:.2f} | {age} | {drain} |")
    print()
    print(
        f"chain: {report.checked} events, {'verified' if report.ok else 'BROKEN: ' + report.reason}; "
        f"{AuditEvent.objects.count()} events; load {os.getloadavg()[0]:.2f} at end"
    )
    connection.close()
    databases.drop(DATABASE)


if __name__ == "__main__":
    main()
