"""Dashboard pages at 100 thousand and 10 million decisions, and the seed against a raw COPY.

    .venv/bin/python bench/dashboard.py [--small N] [--large N] [--requests 30] [--keep]
    .venv/bin/python bench/dashboard.py --pages-only [--requests 30]

Seeding: one throwaway PostgreSQL database gets the demo company, then `seed_history` up to --small
decisions; a copy of it is kept as the small stage (CREATE DATABASE … TEMPLATE); the first database goes
on to --large decisions. After each seed the same rows (at most --baseline-rows of them) are exported
and loaded again with a bare COPY into the same table (rolled back): the rate the seed is compared with.

Pages: each stage's database is timed by a child process of its own (Django set up on that database),
small, large, small, large, so that a change in the machine's load lands on both stages. Server time
in-process with Django's test client (view, queries, template; no network), after warm-up requests.
Pages whose URL does not exist in this checkout are left out. --keep leaves both databases behind and
--pages-only times them again (e.g. after adding pages) without seeding.

Goals: pages at --large within 1.5x of --small; seed rate at least half the raw COPY rate.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

# BENCH_DATABASE names the pair, so that two checkouts on one PostgreSQL do not drop each other's.
LARGE_DATABASE = os.environ.get("BENCH_DATABASE", "regent_bench_dashboard")
SMALL_DATABASE = f"{LARGE_DATABASE}_small"
WARM_UP = 3
ROUNDS = 2
# (page, who asks, URL name, objects in its path, query with {objects}): the child process looks them up.
PAGES = [
    ("overview, 24 h", "executive", "dashboard:overview", (), "?period=24h"),
    ("overview, 30 days", "executive", "dashboard:overview", (), "?period=30d"),
    ("overview, 30 days (supervisor)", "supervisor", "dashboard:overview", (), "?period=30d"),
    ("risk, 30 days", "executive", "dashboard:risk", (), "?period=30d"),
    ("strategy, 30 days", "executive", "dashboard:strategy", (), "?period=30d"),
    ("board report, 30 days", "executive", "dashboard:board", (), "?period=30d"),
    ("board PDF, 30 days", "executive", "dashboard:board-pdf", (), "?period=30d"),
    ("board CSV, 30 days", "executive", "dashboard:board-csv", (), "?period=30d"),
    ("approvals inbox (supervisor)", "supervisor", "dashboard:approvals", (), ""),
    ("explorer, first page", "executive", "dashboard:decisions", (), ""),
    ("explorer, denied", "executive", "dashboard:decisions", (), "?verdict=deny"),
    ("explorer, text search, no match", "executive", "dashboard:decisions", (), "?q=no-such-text"),
    ("explorer, text search, common", "executive", "dashboard:decisions", (), "?q=refund"),
    ("explorer, one agent", "supervisor", "dashboard:decisions", (), "?agent={agent}"),
    ("decision page", "auditor", "dashboard:decision", ("decision",), ""),
    ("agents league, 30 days", "executive", "dashboard:agents", (), "?period=30d"),
    ("agent page, 30 days", "supervisor", "dashboard:agent", ("agent",), "?period=30d"),
    ("interaction graph, 30 days", "executive", "dashboard:interactions", (), "?period=30d"),
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed_to(total: int) -> tuple[int, float, str]:
    """Add decisions up to `total`; return how many were added, the wall-clock seconds, and their marker."""
    from django.db import connection

    from demo.history import load_history
    from governance.models import Decision

    missing = total - Decision.objects.count()
    started = time.perf_counter()
    report = load_history(missing, days=90, seed=total)
    seconds = time.perf_counter() - started
    print(
        f"  seeded {report.decisions:,} in {seconds:.1f} s: COPY {report.copy_seconds:.1f} s, outcomes and "
        f"approvals {report.follow_up_seconds:.1f} s, rollups {report.rollup_seconds:.1f} s "
        f"(load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    with connection.cursor() as cursor:  # what autovacuum does to a table this size soon after: index-only scans
        cursor.execute("VACUUM (ANALYZE)")  # need its visibility map, and the timing is not the seed's
    return missing, seconds, report.resource


def raw_copy_seconds(marker: str, limit: int) -> float:
    """Export (up to `limit`) rows of one seed and COPY them into the same table again, rolled back: the floor."""
    from django.db import connection, transaction

    from dashboard.rollups import BULK_LOAD_SETTING
    from demo.history import DECISION_COLUMNS

    columns = ", ".join(DECISION_COLUMNS)
    with tempfile.TemporaryFile() as dump:
        with connection.cursor() as cursor:
            rows = f"SELECT {columns} FROM governance_decision WHERE resource = '{marker}' LIMIT {int(limit)}"
            export = f"COPY ({rows}) TO STDOUT"
            with cursor.copy(export) as copy:
                for block in copy:
                    dump.write(block)
        dump.seek(0)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {BULK_LOAD_SETTING} = 'on'")  # the triggers off, as in the seed
                started = time.perf_counter()
                with cursor.copy(f"COPY governance_decision ({columns}) FROM STDIN") as copy:
                    while block := dump.read(1 << 20):
                        copy.write(block)
                seconds = time.perf_counter() - started
                raise _Rollback
        except _Rollback:
            pass
    return seconds


class _Rollback(Exception):
    pass


def release_connections() -> None:
    """Close every connection and its pool: a database with sessions cannot be a template."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def seed(args: argparse.Namespace) -> dict[int, tuple[int, float, float]]:
    """Seed both stages; return, per stage, decisions added, seconds, and the raw COPY rate."""
    url = databases.recreate(LARGE_DATABASE)
    setup_django(url)
    from django.core.management import call_command

    from dashboard.tasks import fold_rollups

    call_command("demo", seed_only=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    fold_rollups()  # what the beat does within seconds of the demo's history arriving
    results = {}
    for size in (args.small, args.large):
        print(f"seeding to {size:,} decisions…", flush=True)
        added, seconds, marker = seed_to(size)
        copied = min(added, args.baseline_rows)
        baseline = raw_copy_seconds(marker, copied)
        print(f"  raw COPY of {copied:,} of the same rows: {baseline:.1f} s", flush=True)
        results[size] = (added, seconds, copied / baseline)
        if size == args.small:
            release_connections()
            databases.clone(LARGE_DATABASE, SMALL_DATABASE)
    release_connections()
    return results


def time_pages(requests: int) -> dict[str, list[float]]:
    """In a child process set up on one stage's database: server time of every page, in ms."""
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from governance.models import Decision
    from orchestration.models import Agent

    objects = {  # the same demo agent in both stages; the newest decision
        "agent": Agent.objects.get(slug="finance-invoice-1").pk,
        "decision": Decision.objects.order_by("-pk").values_list("pk", flat=True).first(),
    }
    clients: dict[str, Client] = {}
    timings = {}
    for name, username, url_name, path_objects, query in PAGES:
        try:
            url = reverse(url_name, args=[objects[part] for part in path_objects]) + query.format(**objects)
        except NoReverseMatch:
            continue
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


def pages_of(database: str, requests: int) -> dict[str, list[float]]:
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


def report_pages(requests: int, small_label: str, large_label: str) -> None:
    samples: dict[str, dict[str, list[float]]] = {SMALL_DATABASE: {}, LARGE_DATABASE: {}}
    for round_ in range(1, ROUNDS + 1):
        for database in (SMALL_DATABASE, LARGE_DATABASE):
            print(f"timing pages on {database}, round {round_} (load average {os.getloadavg()[0]:.1f})…", flush=True)
            for page, values in pages_of(database, requests).items():
                samples[database].setdefault(page, []).extend(values)
    print(f"\nServer time per page, ms ({ROUNDS} rounds × {requests} requests after {WARM_UP} warm-up, pooled)")
    headers = ("p50 small", "p99 small", "p50 large", "p99 large")
    print(f"{'page':<32} " + " ".join(f"{h:>10}" for h in headers) + f" {'p50 large/small':>16}")
    for page, small in samples[SMALL_DATABASE].items():
        large = samples[LARGE_DATABASE][page]
        p50_s, p50_l = statistics.median(small), statistics.median(large)
        cells = (p50_s, percentile(small, 0.99), p50_l, percentile(large, 0.99))
        print(f"{page:<32} " + " ".join(f"{c:>10.1f}" for c in cells) + f" {p50_l / p50_s:>15.2f}x")
    print(f"\nsmall = {small_label}, large = {large_label}")


def decisions_in(database: str) -> int:
    import psycopg

    with psycopg.connect(databases.url_of(database)) as connection:
        return connection.execute("SELECT count(*) FROM governance_decision").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--baseline-rows", type=int, default=1_000_000, help="Rows of each seed loaded again by the raw COPY."
    )
    parser.add_argument("--keep", action="store_true", help="Leave both databases behind for --pages-only.")
    parser.add_argument("--pages-only", action="store_true", help="Time the pages of the kept databases.")
    parser.add_argument("--child", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django(databases.url_of(args.child))
        print(json.dumps(time_pages(args.requests)))
        return
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.pages_only:
        for kept in (SMALL_DATABASE, LARGE_DATABASE):
            databases.migrate(kept)  # kept by an earlier checkout: its pages may read newer tables
        small, large = decisions_in(SMALL_DATABASE), decisions_in(LARGE_DATABASE)
        report_pages(args.requests, f"{small:,} decisions", f"{large:,} decisions")
        return
    try:
        results = seed(args)
        report_pages(args.requests, f"{args.small:,} decisions", f"{args.large:,} decisions")
    finally:
        if not args.keep:
            databases.drop(SMALL_DATABASE)
            databases.drop(LARGE_DATABASE)
    print("\nSeed (decisions/s) against a raw COPY of the same rows into the same table")
    print(f"{'stage':>12} {'added':>12} {'seed /s':>10} {'raw COPY /s':>12} {'seed / raw':>11}")
    for size, (added, seconds, raw_rate) in results.items():
        rates = f"{added / seconds:>10,.0f} {raw_rate:>12,.0f} {added / seconds / raw_rate:>10.2f}x"
        print(f"{size:>12,} {added:>12,} {rates}")


if __name__ == "__main__":
    main()
