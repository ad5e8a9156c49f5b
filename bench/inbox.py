"""The approvals inbox at 1,000 and at 100,000 waiting requests: server time per page, filter and sort.

    .venv/bin/python bench/inbox.py [--small 1000] [--large 100000] [--decided 100000] [--requests 20] [--keep]
    .venv/bin/python bench/inbox.py --pages-only [--requests 20]

One throwaway database gets the demo company, --decided requests already decided (the history every inbox
query must skip) and --small waiting ones, spread over the demo's agents, approver levels and ages; a copy
is kept as the small stage, then the first database goes on to --large waiting requests. Each stage is
timed by a child process of its own, small, large, small, large, so that a change in the machine's load
lands on both. Server time in-process with Django's test client (view, queries, template), after warm-up.

Goal: every inbox view at --large within 2x of --small (a page is 25 cards whatever the backlog; what may
grow is counting the matching requests).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

LARGE_DATABASE, SMALL_DATABASE = "regent_bench_inbox", "regent_bench_inbox_small"
WARM_UP = 3
ROUNDS = 2
BATCH = 5_000
# (view, who asks, query): {agent} is a Finance agent of the demo.
VIEWS = [
    ("supervisor, default", "supervisor", ""),
    ("supervisor, one agent", "supervisor", "?agent={agent}"),
    ("supervisor, high risk, over 1 day", "supervisor", "?risk=high&age=24h"),
    ("supervisor, oldest first", "supervisor", "?sort=oldest"),
    ("supervisor, largest amount", "supervisor", "?sort=amount"),
    ("supervisor, highest risk", "supervisor", "?sort=risk"),
    ("supervisor, page 40", "supervisor", "?page=40"),
    ("executive, every approver", "executive", "?role=any"),
    ("executive, any, largest amount", "executive", "?role=any&sort=amount"),
    ("live re-read (rows)", "supervisor", "rows"),
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def add_requests(count: int, *, pending: bool, seed: int) -> None:
    """`count` held decisions with their approval requests, in batches, the rollup triggers off (as the seed)."""
    import datetime as dt
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from dashboard.rollups import BULK_LOAD_SETTING
    from governance.models import Approval, Decision, Verdict
    from orchestration.models import Agent

    rng = random.Random(seed)
    agents = list(Agent.objects.select_related("department"))
    now = timezone.now()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {BULK_LOAD_SETTING} = 'on'")
            picks = [rng.choice(agents) for _ in range(size)]
            ages = [dt.timedelta(minutes=rng.randint(1, 60 * 24 * (3 if pending else 90))) for _ in range(size)]
            decisions = Decision.objects.bulk_create(
                Decision(
                    agent=agent,
                    department=agent.department,
                    action=rng.choice(["invoice.approve", "payment.send", "refund.issue"]),
                    amount=Decimal(rng.randint(500, 90_000)),
                    currency="EUR",
                    verdict=Verdict.REQUIRE_APPROVAL,
                    risk_score=rng.randint(20, 95),
                    latency_us=150,
                    created_at=now - age,
                )
                for agent, age in zip(picks, ages, strict=True)
            )
            Approval.objects.bulk_create(
                Approval(
                    decision=decision,
                    department_id=decision.department_id,
                    approver_role="Executive" if rng.random() < 0.2 else "Supervisor",
                    status=Approval.Status.PENDING if pending else Approval.Status.APPROVED,
                    requested_at=decision.created_at,
                    deadline=decision.created_at + dt.timedelta(hours=rng.choice([4, 24, 72])),
                    decided_at=None if pending else decision.created_at + dt.timedelta(minutes=30),
                )
                for decision in decisions
            )
    with connection.cursor() as cursor:  # what autovacuum does soon after: index-only scans need the visibility map
        cursor.execute("VACUUM ANALYZE governance_approval")
        cursor.execute("ANALYZE governance_decision")


def release_connections() -> None:
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def seed(args: argparse.Namespace) -> None:
    setup_django(databases.recreate(LARGE_DATABASE))
    from django.core.management import call_command

    call_command("demo", seed_only=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    from governance.models import Approval

    Approval.objects.filter(status=Approval.Status.PENDING).update(status=Approval.Status.EXPIRED)
    started = time.perf_counter()
    add_requests(args.decided, pending=False, seed=1)
    add_requests(args.small, pending=True, seed=2)
    print(f"  small stage seeded in {time.perf_counter() - started:.0f} s", flush=True)
    release_connections()
    databases.clone(LARGE_DATABASE, SMALL_DATABASE)
    started = time.perf_counter()
    add_requests(args.large - args.small, pending=True, seed=3)
    print(f"  large stage seeded in {time.perf_counter() - started:.0f} s", flush=True)
    release_connections()


def time_views(requests: int) -> dict[str, list[float]]:
    """In a child process set up on one stage's database: server time of every view, in ms."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from orchestration.models import Agent

    agent = Agent.objects.filter(department__slug="finance").order_by("pk").values_list("pk", flat=True).first()
    clients: dict[str, Client] = {}
    timings = {}
    for name, username, query in VIEWS:
        if query == "rows":
            url = reverse("dashboard:approval-rows") + "?shown=" + ",".join(str(n) for n in range(1, 26))
        else:
            url = reverse("dashboard:approvals") + query.format(agent=agent)
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        client = clients[username]
        for _ in range(WARM_UP):
            assert client.get(url).status_code == 200, url
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        timings[name] = samples
    return timings


def views_of(database: str, requests: int) -> dict[str, list[float]]:
    child = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, "--child", database, "--requests", str(requests)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(child.stdout.strip().splitlines()[-1])


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * len(ordered)) - 1)]


def waiting_in(database: str) -> int:
    import psycopg

    with psycopg.connect(databases.url_of(database)) as connection:
        query = "SELECT count(*) FROM governance_approval WHERE status = 'pending'"
        return connection.execute(query).fetchone()[0]


def report(requests: int) -> None:
    samples: dict[str, dict[str, list[float]]] = {SMALL_DATABASE: {}, LARGE_DATABASE: {}}
    for round_ in range(1, ROUNDS + 1):
        for database in (SMALL_DATABASE, LARGE_DATABASE):
            print(f"timing {database}, round {round_} (load average {os.getloadavg()[0]:.1f})…", flush=True)
            for view, values in views_of(database, requests).items():
                samples[database].setdefault(view, []).extend(values)
    small, large = waiting_in(SMALL_DATABASE), waiting_in(LARGE_DATABASE)
    print(f"\nServer time per inbox view, ms ({ROUNDS} rounds × {requests} requests after {WARM_UP} warm-up)")
    headers = ("p50 small", "p99 small", "p50 large", "p99 large")
    print(f"{'view':<36} " + " ".join(f"{h:>10}" for h in headers) + f" {'p50 large/small':>16}")
    for view, at_small in samples[SMALL_DATABASE].items():
        at_large = samples[LARGE_DATABASE][view]
        p50_s, p50_l = statistics.median(at_small), statistics.median(at_large)
        cells = (p50_s, percentile(at_small, 0.99), p50_l, percentile(at_large, 0.99))
        print(f"{view:<36} " + " ".join(f"{c:>10.1f}" for c in cells) + f" {p50_l / p50_s:>15.2f}x")
    print(f"\nsmall = {small:,} waiting, large = {large:,} waiting; load average {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--decided", type=int, default=100_000, help="Requests already decided, in both stages.")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="Leave both databases behind for --pages-only.")
    parser.add_argument("--pages-only", action="store_true", help="Time the views of the kept databases.")
    parser.add_argument("--child", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django(databases.url_of(args.child))
        print(json.dumps(time_views(args.requests)))
        return
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average {os.getloadavg()}")
    if args.pages_only:
        report(args.requests)
        return
    try:
        seed(args)
        report(args.requests)
    finally:
        if not args.keep:
            databases.drop(SMALL_DATABASE)
            databases.drop(LARGE_DATABASE)


if __name__ == "__main__":
    main()
