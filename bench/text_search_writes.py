"""What the trigram index of decision text search (governance migration 0014) costs each decision written.

    .venv/bin/python bench/text_search_writes.py [--rows 300000] [--inserts 2000] [--rounds 2]

One throwaway PostgreSQL database (regent_bench_search_writes) holds --rows decisions of varied text (the engine's
kinds of explanation, distinct resources) so that the index has a realistic shape. Then, interleaved in rounds
(no index, index with GIN's pending list, index without it), two writes are timed: single decisions, each its
own INSERT and COMMIT on one connection (as `evaluate_action` commits one decision; without the audit link), and
bench/ingest.py's COPY baseline (batches of 1,000 of its rows, rollup trigger firing, one transaction each).
Default server settings (synchronous_commit on): each commit waits for its WAL to reach the disk.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

DATABASE = "regent_bench_search_writes"
INDEX = "decision_searched_text_trgm"
INDEX_SQL = (  # as governance migration 0014 builds it (not concurrently: nothing else writes here)
    f"CREATE INDEX {INDEX} ON governance_decision "
    "USING gin ((action || E'\\n' || resource || E'\\n' || explanation) gin_trgm_ops)"
)
COLUMNS = (
    "agent_id, department_id, action, resource, amount, currency, data_classes, context, verdict, risk_score, "
    "explanation, shadow_verdict, matched_policies, policy_versions, inputs, latency_us, created_at, idempotency_key"
)
ACTIONS = ("invoice.approve", "refund.issue", "ticket.reply", "data.export", "deploy.release", "contract.sign")
EXPLANATIONS = (
    "No enforced policy applied; the Finance default (allow) stands.",
    "Required approval by “Large payments” (v3): Payments over 2,000 EUR need a finance lead's sign-off.",
    "Denied by “Sanctioned vendors” (v1): The vendor is on the sanctions list; no payment may be made.",
    "Flagged by “Exports of personal data” (v2): Personal data leaving the EU is reviewed weekly.\n"
    "Shadow: would have denied by “Night deploys” (v1): No releases between 19:00 and 07:00.",
)
VARIANTS = ("no index", "trigram index, pending list (fastupdate on)", "trigram index, fastupdate off")


def setup() -> tuple[int, int]:
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = databases.recreate(DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from decimal import Decimal

    from orchestration.models import Agent, Department, ModelProvider

    department = Department.objects.create(name="Finance", slug="finance", monthly_budget=Decimal("1e9"))
    agent = Agent.objects.create(
        name="Invoice Bot",
        slug="invoice-bot",
        department=department,
        provider=ModelProvider.objects.create(name="Sim"),
        monthly_budget=Decimal("1e9"),
    )
    return agent.pk, department.pk


def decision_row(agent: tuple[int, int], n: int, moment: dt.datetime, key: str = "") -> tuple:
    action = ACTIONS[n % len(ACTIONS)]
    return (
        *agent,
        action,
        f"{action.split('.')[0]}/{n * 7919 % 10_000_019:08d}",
        "120.00",
        "EUR",
        "[]",
        "{}",
        "allow",
        20,
        EXPLANATIONS[n % len(EXPLANATIONS)],
        "",
        "[]",
        "[]",
        "{}",
        150,
        moment,
        key,
    )


def ingest_row(agent: tuple[int, int], batch: int, n: int, moment: dt.datetime) -> tuple:
    """bench/ingest.py's COPY row: its `items` as `bench_copy` writes them."""
    return (
        *agent,
        "invoice.approve",
        f"invoice/{batch}-{n}",
        "120.00",
        "EUR",
        "[]",
        json.dumps({"vendor": "ACME", "po": n}),
        "allow",
        20,
        "",
        "",
        "[]",
        "[]",
        "{}",
        0,
        moment,
        f"copy-{batch}-{n}",
    )


def prefill(connection, agent: tuple[int, int], rows: int) -> None:
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL regent.bulk_load = 'on'")
        with cursor.copy(f"COPY governance_decision ({COLUMNS}) FROM STDIN") as copy:
            for n in range(rows):
                copy.write_row(decision_row(agent, n, now - dt.timedelta(seconds=86400 * n / rows)))
    connection.commit()
    connection.autocommit = True
    connection.execute("VACUUM ANALYZE governance_decision")


def become(connection, variant: str) -> None:
    exists = connection.execute("SELECT 1 FROM pg_class WHERE relname = %s", [INDEX]).fetchone()
    if variant == VARIANTS[0]:
        connection.execute(f"DROP INDEX IF EXISTS {INDEX}")
        return
    if not exists:
        connection.execute(INDEX_SQL)
    fastupdate = "on" if variant == VARIANTS[1] else "off"
    connection.execute(f"ALTER INDEX {INDEX} SET (fastupdate = {fastupdate})")
    connection.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")  # every variant starts empty


def single_inserts(connection, agent: tuple[int, int], count: int, first: int) -> list[float]:
    sql = f"INSERT INTO governance_decision ({COLUMNS}) VALUES ({', '.join(['%s'] * 18)})"
    seconds = []
    for n in range(first, first + count):
        started = time.perf_counter()
        connection.execute(sql, decision_row(agent, n, dt.datetime.now(dt.UTC)))
        connection.commit()
        seconds.append(time.perf_counter() - started)
    return seconds


def copies(connection, agent: tuple[int, int], batches: int, first: int) -> list[float]:
    seconds = []
    for batch in range(first, first + batches):
        rows = [ingest_row(agent, batch, n, dt.datetime.now(dt.UTC)) for n in range(1000)]
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY governance_decision ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--inserts", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    agent = setup()
    import psycopg

    print(f"text search index write cost, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()}")
    results = {variant: {"insert": [], "copy": []} for variant in VARIANTS}
    with psycopg.connect(databases.url_of(DATABASE), autocommit=False) as connection:
        prefill(connection, agent, options.rows)
        n, batch = options.rows, 0
        for round_ in range(options.rounds):
            for variant in VARIANTS if round_ % 2 == 0 else reversed(VARIANTS):
                connection.autocommit = True
                become(connection, variant)
                connection.autocommit = False
                results[variant]["insert"] += single_inserts(connection, agent, options.inserts, n)
                results[variant]["copy"] += copies(connection, agent, options.batches, batch)
                n, batch = n + options.inserts, batch + options.batches
                inserts, copied = (
                    results[variant]["insert"][-options.inserts :],
                    results[variant]["copy"][-options.batches :],
                )
                print(
                    f"  round {round_ + 1}, {variant}: {len(inserts) / sum(inserts):,.0f} inserts/s, "
                    f"COPY {1000 * len(copied) / sum(copied):,.0f} rows/s (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        connection.autocommit = True
        become(connection, VARIANTS[1])
        sizes = connection.execute(
            "SELECT pg_relation_size('governance_decision'), pg_relation_size(%s::regclass), count(*) "
            "FROM governance_decision",
            [INDEX],
        ).fetchone()
    databases.drop(DATABASE)

    base = results[VARIANTS[0]]
    print(f"\n{'':48}{'INSERT+COMMIT/s':>16}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'COPY rows/s':>13}")
    for variant, timings in results.items():
        inserts, copy = timings["insert"], timings["copy"]
        rate, copy_rate = len(inserts) / sum(inserts), 1000 * len(copy) / sum(copy)
        cuts = statistics.quantiles(inserts, n=100)
        print(
            f"{variant:48}{rate:>10,.0f} {rate / (len(base['insert']) / sum(base['insert'])):>4.2f}×"
            f"{cuts[49] * 1000:>8.2f}{cuts[98] * 1000:>8.2f}{max(inserts) * 1000:>8.1f}"
            f"{copy_rate:>7,.0f} {copy_rate / (1000 * len(base['copy']) / sum(base['copy'])):>4.2f}×"
        )
    heap, index, rows = sizes
    print(f"rows {rows:,}; table {heap / 2**20:,.0f} MiB; trigram index {index / 2**20:,.0f} MiB ({index / heap:.0%})")


if __name__ == "__main__":
    main()
