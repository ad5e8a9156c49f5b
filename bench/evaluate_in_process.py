"""Regent's own work per decision with no HTTP and no DRF: the floor under the served evaluate (bench/serving.py).

One process of `threads` threads, each a closed loop of `authenticate_agent_key` + `evaluate_action` for `seconds`,
on the database and settings bench/serving.py gives its servers. Prints {"answers": n, "latencies": [...],
"python_cpu_s": s, "postgres_cpu_s": s} as JSON: the CPU this process and its PostgreSQL backends spent on the loops,
which bench/serving.py turns into CPU per decision and the rate the machine's cores could reach at best.
Usage (bench/serving.py runs it): python bench/evaluate_in_process.py SECONDS THREADS KEY [KEY ...]
"""

import json
import os
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from governance.evaluation import ActionRequest, evaluate_action  # noqa: E402
from orchestration.keys import authenticate_agent_key  # noqa: E402

REQUESTS = [
    ActionRequest("invoice.approve", amount=Decimal(f"{120 + n}.50"), currency="USD", context={"region": "eu", "n": n})
    for n in range(10)
]


def loop(keys: list[str], deadline: float, latencies: list[float], backend_cpu: list[float]) -> None:
    with connection.cursor() as cursor:  # the thread keeps this connection (and its backend) until it closes it
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before = process_cpu_seconds(backend)
    i = 0
    while (started := time.perf_counter()) < deadline:
        agent = authenticate_agent_key(keys[i % len(keys)])
        evaluate_action(agent, REQUESTS[i % len(REQUESTS)])
        latencies.append(time.perf_counter() - started)
        i += 1
    backend_cpu.append(process_cpu_seconds(backend) - cpu_before)
    connection.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process of this machine (a PostgreSQL backend), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    seconds, threads, keys = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    for n in range(3):  # warm-up: the pool, the policy cache, the imports
        evaluate_action(authenticate_agent_key(keys[n % len(keys)]), REQUESTS[n])
    deadline = time.perf_counter() + seconds
    shares: list[list[float]] = [[] for _ in range(threads)]
    backend_cpu: list[float] = []
    workers = [
        threading.Thread(target=loop, args=(keys[n::threads] or keys, deadline, shares[n], backend_cpu))
        for n in range(threads)
    ]
    cpu_before = time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    python_cpu = time.process_time() - cpu_before
    latencies = [s for share in shares for s in share]
    print(
        json.dumps(
            {
                "answers": len(latencies),
                "latencies": latencies,
                "python_cpu_s": python_cpu,
                "postgres_cpu_s": sum(backend_cpu),
            }
        )
    )


if __name__ == "__main__":
    main()
