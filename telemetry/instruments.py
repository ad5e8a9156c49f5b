"""What only a process can observe, for operators' Prometheus (`/metrics`, health.metrics).

Figures the database holds (decisions by verdict, open approvals, the audit queue, failed deliveries) are read
at scrape time instead, so they are exact and the same whichever process answers. These are the rest: how long
each evaluate took, and the live stream's sockets. A deployment with several processes per machine sets
PROMETHEUS_MULTIPROC_DIR (the Procfile's `make up` does), and prometheus-client keeps each process's values in
files there that a scrape adds up; without it, a process reports its own.
"""

import os
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram, multiprocess

# Seconds, from a few milliseconds (the engine alone) to the pool's wait (a second) and past it.
EVALUATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

evaluate_seconds = Histogram(
    "regent_evaluate_seconds",
    "Time to decide an agent's proposed action, from the request's arrival at evaluate_action to its commit.",
    buckets=EVALUATE_BUCKETS,
)
stream_clients = Gauge(
    "regent_stream_clients",
    "Dashboard sockets connected to the live decision stream.",
    multiprocess_mode="livesum",
)
stream_dropped = Counter(
    "regent_stream_dropped",
    "Live stream clients that fell too far behind and were told to reload (resync) instead of receiving events.",
)


def forget_dead_processes() -> None:
    """Drop the live gauges of processes that are gone (a restarted stream process), so a sum counts the living.

    prometheus-client keeps a file per process in PROMETHEUS_MULTIPROC_DIR; a process that dies cannot remove its
    own, and its last socket count would otherwise be added in for ever.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
