"""Load: AGENTS simulated agents acting concurrently over HTTP, SOCKETS dashboard clients on the live stream.

Run from the repository root: `.venv/bin/python bench/load.py` (2,000 agents, 200 sockets, 60 s by default).
It brings up the private stack that bench/faults.py uses (own PostgreSQL and Redis on loopback, Regent's
Procfile processes), seeds the agents with keys and one session per socket, and lets every agent evaluate,
report outcomes and start workflows for SECONDS, pausing THINK seconds on average between actions and
honouring Retry-After. Per endpoint: answers, 2xx per second, p50 and p99 of 2xx latency, other answers by
status; per socket: events received. The invariants are checked afterwards, as in bench/faults.py.
"""

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.faults import client_cpu, uptime
from bench.stack import report, scenario


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scenario.add_load_arguments(parser)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"load: {args.agents} agents, {args.sockets} sockets, {args.seconds:g} s; {uptime()}", flush=True)
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
                phase=args.seconds,
                faults=[],
                down=0,
            )
        )
    rows = report.invariants(outcome.checked, outcome.watchers, outcome.exited)
    print(report.endpoints_table(outcome.answers, outcome.seconds))
    print()
    print(report.sockets_table(outcome.watchers, outcome.checked["sockets"]))
    print()
    print(report.invariants_table(rows))
    print(report.samples_table(outcome.samples))
    print(f"{outcome.seconds:.0f} s of load; the clients' own CPU: {client_cpu():.0f} s; {uptime()}")
    return 0 if all(holds for _, holds, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
