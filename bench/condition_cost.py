"""Condition cost benchmark: conditions at the cost limits against a trivial one, in the same run.

Run from the repository root: `.venv/bin/python bench/condition_cost.py` (about a minute; no database).
For each shape of expensive condition it finds the largest instance the limits of
`governance/condition_cost.py` accept, then times `CompiledCondition.evaluate` on it as the engine calls
it (with the request's data, so the run-time cost check is included), against `amount > 100.0`. Shapes
that read request data are timed on the largest data the run-time check lets them run on. It also times
what a save costs: refusing the condition of issue 18 and accepting each condition at the limit. Nothing
here asserts a wall-clock limit; bench/README.md records a run.
"""

import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import cel  # noqa: E402

from governance.condition_cost import MAX_STEPS, RequestData  # noqa: E402
from governance.conditions import CompiledCondition, ConditionError, compile_condition, sample_context  # noqa: E402

RUNS = 3_000
WARMUP = 300
TRIVIAL = "amount > 100.0"


def numbers(count: int) -> str:
    return "[" + ", ".join(str(i) for i in range(count)) + "]"


def words(count: int) -> str:
    return "[" + ", ".join(f'"w{i}"' for i in range(count)) + "]"


@dataclass(frozen=True)
class Shape:
    """An expensive kind of condition, grown by `k` until the limits refuse it."""

    name: str
    build: Callable[[int], str]
    data: Callable[[int], dict] | None = None  # request context for k, when the size is the request's

    def accepts(self, k: int) -> bool:
        if not self.data:
            try:
                compile_condition(self.build(k))
            except ConditionError:
                return False
            return True
        try:
            compile_condition(self.build(1)).cost.check(RequestData({"context": self.data(k)}))
        except RuntimeError:
            return False
        return True

    def largest(self) -> tuple[int, str]:
        """The largest k accepted: doubling, then halving the gap (a larger k never costs less)."""
        if not self.accepts(1):
            raise SystemExit(f"{self.name}: even k=1 is refused")
        low, high = 1, 2
        while self.accepts(high):
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self.accepts(middle) else (low, middle)
        return low, self.build(1 if self.data else low)


SHAPES = [
    Shape("2 nested exists over literal lists", lambda k: f"{numbers(k)}.exists(a, {numbers(k)}.exists(b, a * b < 0))"),
    Shape(
        "2 nested map (issue 18, two levels)", lambda k: f"size({numbers(k)}.map(a, {numbers(k)}.map(b, a * b))) > 0"
    ),
    Shape("map over a literal list", lambda k: f"size({numbers(k)}.map(x, x + 1)) > 0"),
    Shape("filter over a literal list", lambda k: f"size({numbers(k)}.filter(x, x >= 0)) > 0"),
    Shape(
        "membership in a 100-word list, in exists",
        lambda k: f'{numbers(k)}.exists(i, "w" + string(i) + "x" in {words(100)})',
    ),
    Shape("regex: \\d{k}", lambda k: f'resource.matches("^\\\\d{{{k}}}$")'),
    Shape("regex: .{k}", lambda k: f'resource.matches("^.{{{k}}}$")'),
    Shape("regex: \\w then [a-z]{k}", lambda k: f'resource.matches("^\\\\w[a-z]{{{k}}}$")'),
    Shape("regex: (?i)k{k}, case folded", lambda k: f'resource.matches("(?i)k{{{k}}}")'),
    Shape("regex: [^a-z]{k}, negated class", lambda k: f'resource.matches("[^a-z]{{{k}}}")'),
    Shape("terms joined by ||, no macro", lambda k: " || ".join(["amount > 1.0"] * k)),
    Shape(
        "exists over request data",
        lambda k: 'context.items.exists(i, i == "zz")',
        lambda k: {"items": [f"item-{i}" for i in range(k)]},
    ),
    Shape(
        "map over request data",
        lambda k: "size(context.items.map(i, i)) > 0",
        lambda k: {"items": [f"item-{i}" for i in range(k)]},
    ),
    Shape(
        "request list read inside a literal exists",
        lambda k: f"{numbers(10)}.exists(i, size(context.items) == i)",
        lambda k: {"items": [f"item-{i}" for i in range(k)]},
    ),
]
ISSUE_18 = "size(" + "".join(f"{numbers(10)}.map(x{d}, " for d in range(1, 7)) + "1" + ")" * 6 + ") > 0"


def time_evaluations(compiled: CompiledCondition, context: cel.Context, values: dict) -> list[float]:
    """As the engine evaluates: the request's data sized afresh each time (RequestData), then the condition."""
    for _ in range(WARMUP):
        compiled.evaluate(context, RequestData(values))
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter_ns()
        compiled.evaluate(context, RequestData(values))
        samples.append((time.perf_counter_ns() - started) / 1000)
    return sorted(samples)


def p99(samples: list[float]) -> float:
    return samples[int(len(samples) * 0.99)]


def save_ms(source: str) -> tuple[float, str]:
    """Median wall time of the checks a save runs (the cache bypassed), and whether they accept."""
    timings, outcome = [], "accepted"
    for _ in range(20):
        started = time.perf_counter()
        try:
            compile_condition.__wrapped__(source)
        except ConditionError:
            outcome = "refused"
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), outcome


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(
        f"Condition cost benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, common-expression-language {version('common-expression-language')}; "
        f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {RUNS:,} timed runs each after {WARMUP}"
    )
    trivial = compile_condition(TRIVIAL)
    rows = []
    for shape in SHAPES:
        k, source = shape.largest()
        compiled = compile_condition(source)
        request = shape.data(k) if shape.data else {}
        context = sample_context()
        context.update({"context": request})
        values = {"context": request}
        steps = compiled.cost.assumed_steps
        if shape.data:
            steps = round(compiled.cost.steps.at(RequestData(values).symbol))
        baseline = time_evaluations(trivial, sample_context(), {})
        samples = time_evaluations(compiled, context, values)
        rows.append((shape.name, k, steps, samples, baseline, source))

    print(
        f"\nAt the limit (MAX_STEPS = {MAX_STEPS:,}); µs per evaluation, the trivial condition timed just before each"
    )
    headers = ["shape", "k", "steps", "p50 µs", "p99 µs", "trivial p50", "trivial p99", "÷ trivial p50", "µs/1k steps"]
    table = []
    for name, k, steps, samples, baseline, _ in rows:
        p50, trivial_p50 = statistics.median(samples), statistics.median(baseline)
        table.append(
            [name, k, steps, p50, p99(samples), trivial_p50, p99(baseline), p50 / trivial_p50, 1000 * p50 / steps]
        )
    print_table(headers, table)
    worst = max(rows, key=lambda row: statistics.median(row[3]))
    print(f"\nSlowest at the limit: {worst[0]}, p50 {statistics.median(worst[3]):.1f} µs, p99 {p99(worst[3]):.1f} µs")
    print(f"  {worst[5][:160]}")

    print("\nWhat a save's checks take (ms, median of 20, uncached)")
    saves = [("issue 18: six nested map over 10 items", ISSUE_18), ("trivial", TRIVIAL)]
    saves += [(name, source) for name, _, _, _, _, source in rows]
    print_table(["condition", "ms", "outcome"], [[name, *save_ms(source)] for name, source in saves])


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [headers] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for number, row in enumerate(cells):
        print(
            " | ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("-+-".join("-" * width for width in widths))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


if __name__ == "__main__":
    main()
