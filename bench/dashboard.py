"""Executive pages at 100 thousand and 10 million decisions, and the seed against a raw COPY.

    .venv/bin/python bench/dashboard.py [--small N] [--large N] [--requests 30]

In one throwaway PostgreSQL database: the demo company, then `seed_history` up to --small decisions,
page timings; then up to --large decisions, page timings again. Pages are timed in-process with Django's
test client (server time: view, queries, template; no network), after warm-up requests. After each seed
the same rows (at most --baseline-rows of them) are exported and loaded again with a bare COPY into
the same table (rolled back): the rate the seed is compared with. Goals: pages at --large within 1.5x
of --small; seed rate at least half the raw COPY rate.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

DATABASE = "regent_bench_dashboard"
PAGES = [
    ("overview, 24 h", "/?period=24h"),
    ("overview, 30 days", "/?period=30d"),
    ("risk, 30 days", "/risk/?period=30d"),
]
WARM_UP = 3


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed_to(total: int) -> tuple[int, float, str]:
    """Add decisions up to `total`; return how many were added, the wall-clock seconds, and their marker."""
    from django.db import connection

    from dashboard.history import load_history
    from governance.models import Decision

    missing = total - Decision.objects.count()
    started = time.perf_counter()
    report = load_history(missing, days=90, seed=total)
    seconds = time.perf_counter() - started
    print(
        f"  seeded {report.decisions:,} in {seconds:.1f} s: COPY {report.copy_seconds:.1f} s, outcomes and "
        f"approvals {report.follow_up_seconds:.1f} s, rollups {report.rollup_seconds:.1f} s",
        flush=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dashboard_decisionrollup, dashboard_policyrollup, governance_decision")
    return missing, seconds, report.resource


def raw_copy_seconds(marker: str, limit: int) -> float:
    """Export (up to `limit`) rows of one seed and COPY them into the same table again, rolled back: the floor."""
    from django.db import connection, transaction

    from dashboard.history import DECISION_COLUMNS
    from dashboard.rollups import BULK_LOAD_SETTING

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


def time_pages(requests: int) -> dict[str, tuple[float, float]]:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="executive"))
    timings = {}
    for name, url in PAGES:
        for _ in range(WARM_UP):
            assert client.get(url).status_code == 200
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        samples.sort()
        timings[name] = (statistics.median(samples), samples[min(len(samples) - 1, round(0.99 * len(samples)) - 1)])
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--baseline-rows", type=int, default=1_000_000, help="Rows of each seed loaded again by the raw COPY."
    )
    args = parser.parse_args()

    url = databases.recreate(DATABASE)
    setup_django(url)
    from django.core.management import call_command

    try:
        call_command("demo", seed_only=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
        from dashboard.tasks import fold_rollups

        fold_rollups()  # what the beat does within seconds of the demo's history arriving
        results = {}
        for size in (args.small, args.large):
            print(f"seeding to {size:,} decisions…", flush=True)
            added, seconds, marker = seed_to(size)
            copied = min(added, args.baseline_rows)
            baseline = raw_copy_seconds(marker, copied)
            print(f"  raw COPY of {copied:,} of the same rows: {baseline:.1f} s", flush=True)
            results[size] = (added, seconds, copied / baseline, time_pages(args.requests))
    finally:
        from django.db import connections

        connections.close_all()
        databases.drop(DATABASE)

    small, large = results[args.small], results[args.large]
    print("\nSeed (decisions/s) against a raw COPY of the same rows into the same table")
    print(f"{'stage':>12} {'added':>12} {'seed /s':>10} {'raw COPY /s':>12} {'seed / raw':>11}")
    for size, (added, seconds, raw_rate, _) in results.items():
        rates = f"{added / seconds:>10,.0f} {raw_rate:>12,.0f} {added / seconds / raw_rate:>10.2f}x"
        print(f"{size:>12,} {added:>12,} {rates}")
    print(f"\nServer time per page, ms ({args.requests} requests after {WARM_UP} warm-up)")
    headers = ("p50 small", "p99 small", "p50 large", "p99 large")
    print(f"{'page':<20} " + " ".join(f"{h:>10}" for h in headers) + f" {'p50 large/small':>16}")
    for name, _ in PAGES:
        (p50_s, p99_s), (p50_l, p99_l) = small[3][name], large[3][name]
        print(f"{name:<20} {p50_s:>10.1f} {p99_s:>10.1f} {p50_l:>10.1f} {p99_l:>10.1f} {p50_l / p50_s:>15.2f}x")
    print(f"\nsmall = {args.small:,} decisions, large = {args.large:,} decisions")


if __name__ == "__main__":
    main()
