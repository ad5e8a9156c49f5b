"""What a workflow step costs in this process: statements per 3-step run and CPU milliseconds per step.

Run from the repository root: `.venv/bin/python bench/step_cost.py` (about 20 s). It uses
bench/orchestration.py's database and seed (150 runs there, RUNS here), with tasks run in process, so
neither the broker nor the worker is timed: only Regent's own work on the step path. CPU time
(`time.process_time`) is counted in batches of 10 runs; the minimum is the figure least disturbed by a
busy machine, the median the typical one. Nothing is asserted; tests pin the statement count.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import databases
from bench.orchestration import DATABASE, seed
from config.celery import app
from workflows.models import WorkflowRun
from workflows.runtime import start_workflow

RUNS = 300
BATCH = 10
WARM_UP = 20  # the policy index, the rankings and the statements written once per process


def main() -> None:
    app.conf.task_always_eager = True
    workflow = seed()
    for _ in range(WARM_UP):
        start_workflow(workflow, {}, started_by="bench")
    with CaptureQueriesContext(connection) as statements:
        start_workflow(workflow, {}, started_by="bench")
    per_step = []
    for _ in range(RUNS // BATCH):
        started = time.process_time()
        for _ in range(BATCH):
            start_workflow(workflow, {}, started_by="bench")
        per_step.append((time.process_time() - started) * 1000 / (BATCH * 3))
    unfinished = WorkflowRun.objects.exclude(status=WorkflowRun.Status.SUCCEEDED).count()
    connection.close()
    databases.drop(DATABASE)
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(f"\nA 3-step run in process (tasks eager), {RUNS} runs after {WARM_UP} to warm up; load {load}")
    print(f"statements per 3-step run (start_workflow included): {len(statements)}")
    low, typical = min(per_step), statistics.median(per_step)
    print(f"CPU ms per step, batches of {BATCH} runs: min {low:.2f}, median {typical:.2f}")
    if unfinished:
        print(f"{unfinished} runs did not succeed")


if __name__ == "__main__":
    main()
