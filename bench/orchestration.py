"""Orchestration benchmark: workflow steps through a real worker and Redis, beside two baselines.

Run from the repository root: `.venv/bin/python bench/orchestration.py`. It creates the PostgreSQL
database regent_bench_orch, starts a Celery worker (prefork, concurrency 2) on Redis db 6, runs
3-step workflows, then as many steps of the raw PostgreSQL floor (bench/raw_step.py: a step's durable
writes in hand-written SQL) and as many no-op tasks through the same worker, and times routing alone
for 10, 100 and 1,000 candidate agents. Ratios are against the baselines and the 10-agent routing time
measured in the same run; nothing asserts a wall-clock limit.
"""

import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regent_bench_orch"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/6"
RUNS = 150
ROUTING_SIZES = (10, 100, 1000)
ROUTING_REPEATS = 30

sys.path.insert(0, str(ROOT))
# DEBUG off, as in production: with DEBUG on, Django keeps every statement each process runs.
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings",
    DATABASE_URL=DATABASE_URL,
    REDIS_URL=REDIS_URL,
    SIMULATED_PROVIDER_LATENCY_MS="0",
    DB_CONN_MAX_AGE="60",
    DEBUG="false",
    SECRET_KEY="bench-" + "x" * 50,
)

import psycopg  # noqa: E402
import redis  # noqa: E402

from bench import databases  # noqa: E402

databases.recreate(DATABASE)
redis.Redis.from_url(REDIS_URL).flushdb()

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench import raw_step  # noqa: E402
from bench.celery_app import noop  # noqa: E402
from governance.models import Decision, Verdict  # noqa: E402
from governance.outcomes import report_outcome  # noqa: E402
from orchestration.models import Agent, Capability, Department, ModelProvider  # noqa: E402
from workflows.models import StepRun, StepTemplate, WorkflowRun, WorkflowTemplate  # noqa: E402
from workflows.routing import rank_candidates, route  # noqa: E402
from workflows.runtime import start_workflow  # noqa: E402
from workflows.strategy import set_strategy  # noqa: E402


def seed() -> WorkflowTemplate:
    department = Department.objects.create(name="Bench", slug="bench", monthly_budget=Decimal("1e9"))
    provider = ModelProvider.objects.create(name="Sim", cost_per_unit=Decimal("0.001"))
    workflow = WorkflowTemplate.objects.create(name="Three steps", slug="three")
    previous = ""
    for position, code in enumerate(("bench.one", "bench.two", "bench.three")):
        capability = Capability.objects.create(code=code)
        for n in range(5):
            agent = Agent.objects.create(
                name=f"{code} {n}",
                slug=f"{code.replace('.', '-')}-{n}",
                department=department,
                provider=provider,
                monthly_budget=Decimal("1e9"),
                risk_tier=1,
            )
            agent.capabilities.add(capability)
        StepTemplate.objects.create(
            workflow=workflow,
            key=code.split(".")[1],
            capability=capability,
            action=code,
            depends_on=previous,
            position=position,
        )
        previous = code.split(".")[1]
    set_strategy(cost=25, risk=25, customer_satisfaction=25, resilience=25)
    return workflow


def start_worker() -> subprocess.Popen:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.celery_app",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "-Q",
            "celery",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if noop.delay() and _wait_for_empty_queue(10):
            return worker
    raise RuntimeError("the worker did not start")


def _wait_for_empty_queue(timeout: float) -> bool:
    client = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen("celery") == 0 and not client.hlen("unacked"):
            return True
        time.sleep(0.01)
    return False


def bench_workflows(workflow: WorkflowTemplate) -> tuple[float, int]:
    started = time.perf_counter()
    for _ in range(RUNS):
        start_workflow(workflow, {}, started_by="bench")
    deadline = time.monotonic() + 600
    while WorkflowRun.objects.exclude(status=WorkflowRun.Status.SUCCEEDED).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("runs did not finish")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    steps = StepRun.objects.filter(status=StepRun.Status.SUCCEEDED).count()
    return elapsed, steps


def bench_raw_steps(runs: int, steps_per_run: int) -> float:
    with psycopg.connect(DATABASE_URL, autocommit=True) as db:
        raw_step.create_tables(db)
        first_steps = raw_step.add_runs(db, runs, steps_per_run)
        started = time.perf_counter()
        for step_id in first_steps:
            raw_step.raw_step.delay(step_id)
        deadline = time.monotonic() + 600
        while db.execute("SELECT count(*) FROM raw_step WHERE status <> 'succeeded'").fetchone()[0]:
            if time.monotonic() > deadline:
                raise RuntimeError("raw steps did not finish")
            time.sleep(0.01)
        return time.perf_counter() - started


def bench_noop(count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        noop.delay()
    if not _wait_for_empty_queue(600):
        raise RuntimeError("no-op tasks did not drain")
    return time.perf_counter() - started


def bench_routing() -> dict[int, tuple[float, float]]:
    department = Department.objects.get(slug="bench")
    provider = ModelProvider.objects.get(name="Sim")
    results = {}
    for size in ROUTING_SIZES:
        capability = Capability.objects.create(code=f"route.size{size}")
        agents = Agent.objects.bulk_create(
            Agent(
                name=f"router {size}-{n}",
                slug=f"router-{size}-{n}",
                department=department,
                provider=provider,
                monthly_budget=Decimal("1e9"),
                risk_tier=1 + n % 4,
            )
            for n in range(size)
        )
        capability.agents.add(*agents)
        for agent in agents[: min(size, 200)]:  # some measured history for the scores
            decision = Decision.objects.create(
                agent=agent,
                department=department,
                action=capability.code,
                verdict=Verdict.ALLOW,
                risk_score=10,
                latency_us=1,
            )
            reporter = f"agent:{agent.slug}"
            report_outcome(decision, "success", reported_by=reporter, cost=Decimal("0.5"), value=Decimal("1"), csat=4)
        cold, step = [], []
        for _ in range(ROUTING_REPEATS):
            t = time.perf_counter()
            rank_candidates(capability.pk)
            cold.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            route(capability.pk)
            step.append((time.perf_counter() - t) * 1000)
        results[size] = (statistics.median(cold), statistics.median(step))
    return results


def main() -> None:
    workflow = seed()
    worker = start_worker()
    try:
        elapsed, steps = bench_workflows(workflow)
        raw_elapsed = bench_raw_steps(RUNS, steps // RUNS)
        noop_elapsed = bench_noop(steps)
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
    routing = bench_routing()
    connection.close()
    databases.drop(DATABASE)

    step_ms, raw_ms, noop_ms = (seconds / steps * 1000 for seconds in (elapsed, raw_elapsed, noop_elapsed))
    print(f"\nWorkflows: {RUNS} runs × 3 steps through a real worker (prefork, concurrency 2) and Redis")
    print(f"{'':28}{'tasks':>8}{'seconds':>10}{'per s':>10}{'ms each':>10}")
    print(f"{'workflow steps':28}{steps:>8}{elapsed:>10.2f}{steps / elapsed:>10.1f}{step_ms:>10.2f}")
    raw_rate = steps / raw_elapsed
    print(f"{'raw PostgreSQL step (floor)':28}{steps:>8}{raw_elapsed:>10.2f}{raw_rate:>10.1f}{raw_ms:>10.2f}")
    print(f"{'no-op task (baseline)':28}{steps:>8}{noop_elapsed:>10.2f}{steps / noop_elapsed:>10.1f}{noop_ms:>10.2f}")
    print(f"per-step time ÷ no-op task time: {step_ms / noop_ms:.2f}×  (goal: ≤ 3×)")
    print(
        f"raw PostgreSQL step ÷ no-op task: {raw_ms / noop_ms:.2f}×; per-step time ÷ raw PostgreSQL step: "
        f"{step_ms / raw_ms:.2f}×"
    )
    print(f"\nRouting alone, median of {ROUTING_REPEATS}: ranking every candidate from measured history, and what a")
    print("step pays (route: the ranking reused for 10 s per capability and strategy; top candidates' status checked)")
    print(f"{'candidates':>12}{'rank ms':>10}{'÷ 10':>8}{'route ms':>10}{'÷ 10':>8}")
    base_rank, base_route = routing[ROUTING_SIZES[0]]
    for size, (rank_ms, route_ms) in routing.items():
        print(f"{size:>12}{rank_ms:>10.2f}{rank_ms / base_rank:>8.2f}{route_ms:>10.2f}{route_ms / base_route:>8.2f}")


if __name__ == "__main__":
    main()
