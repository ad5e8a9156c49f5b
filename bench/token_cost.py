"""Token cost read from the usage buckets, against summing the spans themselves, at 10 thousand and 1 million spans.

Run from the repository root: `.venv/bin/python bench/token_cost.py [--spans 1000000]`. It creates the PostgreSQL
database regent_bench_token_cost, stores SPANS model calls (and a tool call beside every fourth) for 20 agents in 4
departments over the last 30 days with `generate_series` (three models, one without a price), counts them into the
buckets with `traces.usage.count_spans` over every span (what the migration does on an existing deployment; timed),
and then times, ROUNDS times each, interleaved, the reads the pages make: an agent's model usage (agent page) and
token cost for every department and for one (executive tiles and Strategy & value), for 30 days and 24 hours.
Baseline: the same figures summed from the spans by one SQL statement (what Regent did before the buckets). The
same is done at 10 thousand spans, so the large stage is also compared with the small. The database is dropped.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "regent_bench_token_cost")
ROUNDS = 15
AGENTS, DEPARTMENTS = 20, 4

sys.path.insert(0, str(ROOT))
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench import databases  # noqa: E402

os.environ["DATABASE_URL"] = databases.recreate(DATABASE)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from dashboard.periods import period_for  # noqa: E402
from orchestration.models import Agent, Department, ModelProvider  # noqa: E402
from traces.models import Span, TokenPrice, TokenUsage  # noqa: E402
from traces.usage import count_spans, model_usage, token_cost  # noqa: E402


def seed_registry() -> tuple[list[int], list[int]]:
    provider = ModelProvider.objects.create(name="Sim")
    departments = [
        Department.objects.create(name=f"Department {d}", slug=f"d{d}", monthly_budget=Decimal("1e9"))
        for d in range(DEPARTMENTS)
    ]
    agents = [
        Agent.objects.create(
            name=f"Agent {a}",
            slug=f"a{a}",
            department=departments[a % DEPARTMENTS],
            provider=provider,
            monthly_budget=Decimal("1e9"),
        )
        for a in range(AGENTS)
    ]
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    TokenPrice.objects.create(model="claude-sonnet-4", input_per_1k=Decimal("3"), output_per_1k=Decimal("15"))
    return [a.pk for a in agents], [d.pk for d in departments]


def store_spans(count: int, agents: list[int], departments: list[int]) -> None:
    """`count` model calls spread evenly over the last 30 days, priced as ingest prices them, plus tool calls."""
    agent_array, department_array = (
        f"ARRAY[{','.join(map(str, agents))}]",
        f"ARRAY[{','.join(str(departments[i % DEPARTMENTS]) for i in range(len(agents)))}]",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {Span._meta.db_table}")
        offset = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO traces_span (agent_id, department_id, trace_id, span_id, parent_span_id, name, kind,
                started_at, duration_us, failed, status_message, operation, provider, request_model, response_model,
                input_tokens, output_tokens, cost, tool_name, tool_call_id, tool_arguments, tool_result,
                system_instructions, input_messages, output_messages, attributes, received_at)
            SELECT ({agent_array})[1 + n % {len(agents)}], ({department_array})[1 + n % {len(agents)}],
                lpad(to_hex(n / 8), 32, '0'), lpad(to_hex(n), 16, '0'), '', 'chat', 3,
                now() - interval '30 days' * (n - {offset}) / {count}, 900000, false, '',
                CASE WHEN n % 4 = 0 THEN 'execute_tool' ELSE 'chat' END, 'openai',
                CASE WHEN n % 4 = 0 THEN '' ELSE (ARRAY['gpt-4o', 'claude-sonnet-4', 'mistral-large'])[1 + n % 3] END,
                '', CASE WHEN n % 4 = 0 THEN NULL ELSE 800 + n % 900 END,
                CASE WHEN n % 4 = 0 THEN NULL ELSE 50 + n % 300 END,
                CASE WHEN n % 4 = 0 OR n % 3 = 2 THEN NULL
                     ELSE round(((2.5 + (n % 3) * 0.5) * (800 + n % 900) + (10 + (n % 3) * 5) * (50 + n % 300))
                                / 1000, 6) END,
                '', '', '', '', '', repeat('x', 600), '', '{{}}', now()
            FROM generate_series({offset + 1}, {offset + count}) AS n
            """
        )
        cursor.execute("ANALYZE traces_span")


def summed_from_spans(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


SPAN_USAGE = """SELECT coalesce(nullif(response_model, ''), nullif(request_model, '')) AS model, count(*),
    sum(input_tokens), sum(output_tokens), sum(cost) FROM traces_span
    WHERE agent_id = %s AND started_at >= %s AND started_at < %s
    AND coalesce(nullif(response_model, ''), nullif(request_model, '')) IS NOT NULL GROUP BY 1"""
SPAN_COST = """SELECT department_id, sum(cost) FROM traces_span
    WHERE started_at >= %s AND started_at < %s AND cost IS NOT NULL {departments} GROUP BY 1"""


def reads(agent: int, department: int) -> dict[str, tuple]:
    """(bucket read, the same summed from the spans) per figure a page shows."""
    now = dt.datetime.now(dt.UTC)
    figures = {}
    for key in ("30d", "24h"):
        period = period_for(key, now)
        span = (period.start, period.end)
        figures[f"agent page, model usage, {key}"] = (
            lambda p=period: model_usage(agent, p.start, p.end),
            lambda s=span: summed_from_spans(SPAN_USAGE, [agent, *s]),
        )
        figures[f"token cost, every department, {key}"] = (
            lambda p=period: token_cost(p.start, p.end, None),
            lambda s=span: summed_from_spans(SPAN_COST.format(departments=""), list(s)),
        )
        figures[f"token cost, one department, {key}"] = (
            lambda p=period: token_cost(p.start, p.end, [department]),
            lambda s=span: summed_from_spans(SPAN_COST.format(departments="AND department_id = %s"), [*s, department]),
        )
    return figures


def check(figures: dict) -> None:
    """The buckets must say what the spans say, or the timing means nothing."""
    for label, (buckets, spans) in figures.items():
        if label.startswith("agent page"):
            got = {u.model: (u.calls, u.input_tokens, u.cost) for u in buckets()}
            want = {m: (c, i, cost) for m, c, i, _o, cost in spans()}
        else:
            got, want = {k: v for k, v in buckets().items()}, dict(spans())
        assert got == want, (label, got, want)


def time_stage(figures: dict) -> dict[str, tuple[float, float]]:
    samples: dict[str, tuple[list, list]] = {label: ([], []) for label in figures}
    for _ in range(ROUNDS):
        for label, (buckets, spans) in figures.items():
            for way, read in ((0, buckets), (1, spans)):
                started = time.perf_counter()
                read()
                samples[label][way].append(time.perf_counter() - started)
    return {label: (statistics.median(b) * 1000, statistics.median(s) * 1000) for label, (b, s) in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    agents, departments = seed_registry()
    stages = {}
    try:
        for total in (args.small, args.spans):
            store_spans(total - Span.objects.count(), agents, departments)
            TokenUsage.objects.all().delete()
            started = time.perf_counter()
            count_spans(Span.objects.all())
            counted = time.perf_counter() - started
            connection.cursor().execute("ANALYZE traces_tokenusage")
            figures = reads(agents[0], departments[1])
            check(figures)
            stages[total] = time_stage(figures)
            print(f"{total:,} spans stored; counted into {TokenUsage.objects.count():,} buckets in {counted:.1f} s")
    finally:
        connection.close()
        databases.drop(DATABASE)
    small, large = stages[args.small], stages[args.spans]
    print(
        f"\nms, median of {ROUNDS}; buckets ÷ summing the spans, at {args.spans:,};"
        f" buckets at {args.spans:,} ÷ at {args.small:,}"
    )
    print(f"{'read':40}{'buckets':>9}{'spans':>9}{'÷ spans':>9}{'small':>8}{'÷ small':>9}")
    for label, (buckets, spans) in large.items():
        print(
            f"{label:40}{buckets:>9.1f}{spans:>9.1f}{buckets / spans:>9.3f}{small[label][0]:>8.1f}"
            f"{buckets / small[label][0]:>9.2f}"
        )


if __name__ == "__main__":
    main()
