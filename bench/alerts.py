"""One alert evaluation pass at 100 thousand and at 10 million decisions: the cost must not grow with history.

    .venv/bin/python bench/alerts.py [--small 100000] [--passes 20] [--keep]

Small stage: a throwaway PostgreSQL database gets the demo company (one day of its own history, which leaves some
approvals waiting) and `seed_history` up to --small decisions over 90 days, rollups built as the fold builds them.
Large stage: a copy of it whose rollup buckets are replaced by those 10 million decisions over the same 90 days
leave: every (hour or day, agent, provider, verdict, currency) the history holds is filled in every hour and day,
their counts summing to 10 million (the key space is saturated: more decisions only make the counts bigger). The
decision table itself keeps the small stage's rows: evaluation never reads it, and seeding 10 million rows takes
most of an hour on this shared machine (bench/README.md, the dashboard's seed).

Both stages get the same rules, one of each kind over the whole organisation (two for budgets and approvals). A
first pass opens the alerts; then `evaluate_rules` is timed --passes times per stage in a child process of its
own, small, large, small, large, and each rule's `findings` alone. Steady state: the condition holds or not, no
alert changes, the reads are the cost.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

SMALL_DATABASE = os.environ.get("BENCH_DATABASE", "regent_bench_alerts")
LARGE_DATABASE = f"{SMALL_DATABASE}_large"
LARGE_DECISIONS = 10_000_000
ROUNDS = 2
RULES = [  # (name, fields)
    ("Agent budget at 80%", {"kind": "budget", "level": "agent", "threshold": 80}),
    ("Department budget, pro rata", {"kind": "budget", "level": "department", "threshold": 100, "pro_rata": True}),
    (
        "Violations twice the week's rate",
        {"kind": "violation_rate", "threshold": 2, "minimum_volume": 20, "window_hours": 1, "baseline_days": 7},
    ),
    (
        "Escalations twice the week's rate",
        {"kind": "escalation_rate", "threshold": 2, "minimum_volume": 20, "window_hours": 1, "baseline_days": 7},
    ),
    ("Risk above appetite, 24 h", {"kind": "risk_appetite", "minimum_volume": 20, "window_hours": 24}),
    ("10 approvals waiting", {"kind": "approvals_waiting", "threshold": 10}),
    ("Approval waiting over 30 min", {"kind": "approvals_waiting", "minutes": 30}),
    ("Failures over 20%, 24 h", {"kind": "failure_rate", "threshold": 20, "minimum_volume": 10, "window_hours": 24}),
    ("Kill switch used", {"kind": "kill_switch"}),
    ("Audit log broken", {"kind": "audit_chain"}),
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed_small(total: int) -> None:
    from django.db import connection

    from alerting.models import AlertRule
    from audit.chain import integrate_all
    from dashboard.tasks import fold_rollups
    from demo.history import load_history
    from demo.seed import seed_company
    from governance.models import Decision

    started = time.perf_counter()
    seed_company(history_days=1)
    integrate_all()
    fold_rollups()
    report = load_history(total - Decision.objects.count(), days=90, seed=total)
    AlertRule.objects.all().delete()  # the demo's own rules: the bench times its set, one of each kind
    for name, fields in RULES:
        rule = AlertRule(name=name, **fields)
        rule.full_clean()
        rule.save()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"  {total:,} decisions ({report.decisions:,} synthetic) in {time.perf_counter() - started:.0f} s", flush=True
    )


SATURATE = """
WITH keys AS (  -- every combination the history holds, with its share of the decisions
    SELECT department_id, agent_id, provider_id, verdict, currency,
           sum(decisions)::numeric / sum(sum(decisions)) OVER () AS share,
           sum(risk_total)::numeric / nullif(sum(decisions), 0) AS risk,
           sum(outcomes)::numeric / nullif(sum(decisions), 0) AS outcome_share,
           sum(successes)::numeric / nullif(sum(outcomes), 0) AS success_share,
           sum(spend) / nullif(sum(decisions), 0) AS amount
    FROM dashboard_decisionrollup WHERE grain = %(grain)s GROUP BY 1, 2, 3, 4, 5
), buckets AS (
    SELECT generate_series(date_trunc(%(grain)s, now() - interval '90 days'), now(), %(step)s::interval) AS start
)
INSERT INTO dashboard_decisionrollup (grain, start, department_id, agent_id, provider_id, verdict, currency,
    decisions, risk_total, outcomes, successes, spend)
SELECT %(grain)s, b.start, k.department_id, k.agent_id, k.provider_id, k.verdict, k.currency, n,
       round(n * coalesce(k.risk, 0)), round(n * coalesce(k.outcome_share, 0)),
       round(n * coalesce(k.outcome_share, 0) * coalesce(k.success_share, 0)), round(n * coalesce(k.amount, 0), 2)
FROM buckets b CROSS JOIN keys k
CROSS JOIN LATERAL (SELECT greatest(1, round(%(total)s * k.share / (SELECT count(*) FROM buckets)))::bigint AS n) c
"""


def saturate_large() -> tuple[int, int]:
    """Replace the copy's decision buckets by those LARGE_DECISIONS decisions over 90 days leave."""
    from django.db import connection, transaction

    from dashboard.rollups import add_up_department_buckets

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE history AS SELECT * FROM dashboard_decisionrollup")
        cursor.execute("DELETE FROM dashboard_decisionrollup")
        for grain, step in (("hour", "1 hour"), ("day", "1 day")):
            sql = SATURATE.replace("dashboard_decisionrollup WHERE", "history WHERE")
            cursor.execute(sql, {"grain": grain, "step": step, "total": LARGE_DECISIONS})
        add_up_department_buckets()
        cursor.execute("SELECT grain, sum(decisions), count(*) FROM dashboard_decisionrollup GROUP BY grain")
        sums = {grain: (decisions, rows) for grain, decisions, rows in cursor.fetchall()}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE dashboard_decisionrollup")
        cursor.execute("ANALYZE dashboard_departmentrollup")
    return [int(value) for value in sums["hour"]]


def bucket_rows() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(decisions), count(*) FROM dashboard_decisionrollup WHERE grain = 'hour'")
        return tuple(int(value) for value in cursor.fetchone())


def time_passes(passes: int) -> dict[str, list[float]]:
    """In a child process on one stage's database: ms per whole pass, and per rule's findings."""
    from django.utils import timezone

    from alerting.checks import findings
    from alerting.evaluation import evaluate_rules
    from alerting.models import AlertRule

    evaluate_rules()  # opens what holds now; the timed passes change nothing unless the clock crosses an hour
    timings: dict[str, list[float]] = {"whole pass": []}
    rules = list(AlertRule.objects.order_by("pk"))
    for _ in range(passes):
        started = time.perf_counter()
        evaluate_rules()
        timings["whole pass"].append((time.perf_counter() - started) * 1000)
        for rule in rules:
            started = time.perf_counter()
            findings(rule, None, timezone.now())
            timings.setdefault(rule.name, []).append((time.perf_counter() - started) * 1000)
    return timings


def in_child(*arguments: str) -> str:
    """Run this script in a child process set up on another database; its last line of output."""
    child = subprocess.run(  # noqa: S603 (this script, fixed arguments)
        [sys.executable, __file__, *arguments], check=True, capture_output=True, text=True
    )
    return child.stdout.strip().splitlines()[-1]


def passes_of(database: str, passes: int) -> dict[str, list[float]]:
    return json.loads(in_child("--child", database, "--passes", str(passes)))


def release_connections() -> None:
    """Close every connection and its pool: a database with sessions cannot be a template."""
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def report(passes: int, stages: dict[str, str]) -> None:
    samples: dict[str, dict[str, list[float]]] = {SMALL_DATABASE: {}, LARGE_DATABASE: {}}
    for round_ in range(1, ROUNDS + 1):
        for database in samples:
            print(f"timing {database}, round {round_} (load average {os.getloadavg()[0]:.1f})…", flush=True)
            for name, values in passes_of(database, passes).items():
                samples[database].setdefault(name, []).extend(values)
    print(f"\nEvaluation, ms ({ROUNDS} rounds × {passes} passes after one that opens the alerts)")
    print(f"{'':<36} {'p50 100 k':>10} {'max 100 k':>10} {'p50 10 M':>10} {'max 10 M':>10} {'p50 10 M/100 k':>15}")
    for name, small in samples[SMALL_DATABASE].items():
        large = samples[LARGE_DATABASE][name]
        cells = (statistics.median(small), max(small), statistics.median(large), max(large))
        ratio = cells[2] / cells[0]
        print(f"{name:<36} " + " ".join(f"{c:>10.1f}" for c in cells) + f" {ratio:>14.2f}x")
    for database, text in stages.items():
        print(f"{'100 k' if database == SMALL_DATABASE else '10 M'}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="Leave both databases behind.")
    parser.add_argument("--child", metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument("--saturate", metavar="DATABASE", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django(databases.url_of(args.child))
        print(json.dumps(time_passes(args.passes)))
        return
    if args.saturate:
        setup_django(databases.url_of(args.saturate))
        print(json.dumps(saturate_large()))
        return
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    try:
        setup_django(databases.recreate(SMALL_DATABASE))
        print(f"seeding {args.small:,} decisions…", flush=True)
        seed_small(args.small)
        small_decisions, small_rows = bucket_rows()
        release_connections()
        databases.clone(SMALL_DATABASE, LARGE_DATABASE)
        print("filling the copy's buckets as 10 million decisions would…", flush=True)
        large_decisions, large_rows = json.loads(in_child("--saturate", LARGE_DATABASE))
        stages = {
            SMALL_DATABASE: f"{small_decisions:,} decisions in {small_rows:,} hour buckets (real seed)",
            LARGE_DATABASE: f"{large_decisions:,} decisions in {large_rows:,} hour buckets (filled, not seeded)",
        }
        report(args.passes, stages)
    finally:
        if not args.keep:
            databases.drop(SMALL_DATABASE)
            databases.drop(LARGE_DATABASE)


if __name__ == "__main__":
    main()
