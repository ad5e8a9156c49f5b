"""Faults under load: the load of bench/load.py, and during it, in turn, Redis restarted, a web process and a
Celery worker SIGKILLed, PostgreSQL restarted; then the invariants.

Run from the repository root: `.venv/bin/python bench/faults.py` (about 3 minutes with the defaults). It brings
up a private stack (its own PostgreSQL cluster and redis-server on loopback ports in STACK_PORTS, 18200-18299 by
default; Regent's Procfile processes: granian web workers, the uvicorn stream, Celery worker, beat, the audit
sequencer), seeds AGENTS agents with keys and SOCKETS dashboard sessions, and runs them for PHASE seconds before
the first fault and after each. Per fault: how long until the store or process was back, the time to recover
(the first 2xx to a request sent once it was back, from the fault), and every other answer in its window by
status. Afterwards it checks that every acknowledged decision (a 2xx with its id) is stored with exactly one
audit event, the chain verifies, and every socket received each event its viewer may see exactly once (resuming
by last_event_id after each disconnect). Exit status 1 if an invariant breaks. Everything is removed at the end,
Ctrl-C included (--keep keeps the logs).
"""

import argparse
import asyncio
import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import report, scenario


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scenario.add_load_arguments(parser)
    parser.add_argument(
        "--phase", type=float, default=20.0, help="seconds of load before the first fault and after each"
    )
    parser.add_argument("--down", type=float, default=2.0, help="seconds a restarted store stays down")
    args = parser.parse_args()
    print(f"faults: {args.agents} agents, {args.sockets} sockets, {args.phase:g} s per phase; {uptime()}", flush=True)
    with scenario.private_stack(args.web, keep=args.keep) as stack:
        seeded = stack.regent.prepare(args.agents, args.sockets)
        stack.regent.start()
        outcome = asyncio.run(
            scenario.run(
                stack,
                seeded,
                agents=args.agents,
                sockets=args.sockets,
                think=args.think,
                phase=args.phase,
                faults=list(scenario.FAULTS),
                down=args.down,
            )
        )
    rows = report.invariants(outcome.checked, outcome.watchers, outcome.exited)
    print(report.endpoints_table(outcome.answers, outcome.seconds))
    print()
    print(report.faults_table(outcome.windows, outcome.answers))
    print()
    print(report.sockets_table(outcome.watchers, outcome.checked["sockets"]))
    print()
    print(report.invariants_table(rows))
    print(report.samples_table(outcome.samples))
    print(f"{outcome.seconds:.0f} s of load; the clients' own CPU: {client_cpu():.0f} s; {uptime()}")
    return 0 if all(holds for _, holds, _ in rows) else 1


def client_cpu() -> float:
    """CPU seconds this process (the agents and sockets) used: the clients share the machine's cores."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
