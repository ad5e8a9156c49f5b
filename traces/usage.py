"""Token usage kept per hour and day as spans arrive, so that cost figures never sum the spans themselves.

Summing a million spans took about a second per read (bench/token_cost.py); the buckets hold one row per hour (and
day), department, agent and model. Ingest adds an export's calls in the transaction that stores them: a `Tally` of
its rows, or `count_spans` of what was stored when a resent export had some already. Readers take whole UTC days
from the day buckets and the hours around them from the hour buckets. A call counts in the UTC hour it started: a
period that is not whole hours (the figures' periods are) gets its first and last hours whole.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDay, TruncHour

from traces.models import TokenUsage

HOUR, DAY = "hour", "day"
KEY = ("grain", "start", "department_id", "agent_id", "model")
MEASURES = ("calls", "input_tokens", "output_tokens", "cost", "unpriced_calls")


def count_spans(spans: QuerySet, usage: type[Model] = TokenUsage) -> int:
    """Add the model calls among `spans` to the hour and day buckets; return how many bucket rows were touched.

    `spans` is read once per grain; the migration passes its historical Span and TokenUsage."""
    rows = []
    for grain, truncate in ((HOUR, TruncHour), (DAY, TruncDay)):
        rows += [
            (grain, row["bucket"], row["department_id"], row["agent_id"], row["model_name"], *_measures(row))
            for row in _aggregate(spans, truncate("started_at", tzinfo=dt.UTC))
        ]
    if rows:
        _add(usage._meta.db_table, rows)
    return len(rows)


def _aggregate(spans: QuerySet, bucket) -> Iterable[dict]:
    return (
        spans.annotate(model_name=Coalesce(NullIf("response_model", Value("")), NullIf("request_model", Value(""))))
        .exclude(model_name=None)
        .annotate(bucket=bucket)
        .values("bucket", "department_id", "agent_id", "model_name")
        .annotate(
            calls=Count("id"),
            input=Coalesce(Sum("input_tokens"), 0),
            output=Coalesce(Sum("output_tokens"), 0),
            priced=Coalesce(Sum("cost"), Decimal(0)),
            unpriced=Count("id", filter=Q(cost=None)),
        )
        .order_by("bucket", "department_id", "agent_id", "model_name")  # one lock order: concurrent adds never deadlock
    )


def _measures(row: dict) -> tuple:
    return row["calls"], row["input"], row["output"], row["priced"], row["unpriced"]


def _add(table: str, rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join((*KEY, *MEASURES))
    additions = ", ".join(f"{name} = {quote(table)}.{name} + excluded.{name}" for name in MEASURES)
    placeholders = ", ".join(["%s"] * (len(KEY) + len(MEASURES)))
    sql = (
        f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608 (names from metadata)
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {additions}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


class Tally:
    """An export's model calls counted as ingest makes its rows (positions in the row given once), so that the
    usual export, stored whole by one COPY, adds to the buckets without reading its spans back."""

    def __init__(self, columns: tuple[str, ...]):
        at = columns.index
        self._started, self._request, self._response = at("started_at"), at("request_model"), at("response_model")
        self._input, self._output, self._cost = at("input_tokens"), at("output_tokens"), at("cost")
        self.hours: dict[tuple[dt.datetime, str], list] = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])

    def add(self, row: tuple) -> tuple:
        model = row[self._response] or row[self._request]
        if model:
            hour = row[self._started].replace(minute=0, second=0, microsecond=0)  # ingest makes it in UTC
            total, cost = self.hours[hour, model], row[self._cost]
            total[0] += 1
            total[1] += row[self._input] or 0
            total[2] += row[self._output] or 0
            if cost is None:
                total[4] += 1
            else:
                total[3] += cost
        return row

    def add_to_buckets(self, department_id: int, agent_id: int, usage: type[Model] = TokenUsage) -> None:
        days: dict[tuple[dt.datetime, str], list] = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
        for (hour, model), measures in self.hours.items():
            day = days[_day(hour), model]
            for i, value in enumerate(measures):
                day[i] += value
        rows = [
            (grain, start, department_id, agent_id, model, *measures)
            for grain, totals in ((HOUR, self.hours), (DAY, days))
            for (start, model), measures in sorted(totals.items())
        ]
        if rows:
            _add(usage._meta.db_table, rows)


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelUsage:
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost: Decimal | None  # None when no call of the model had a price
    unpriced_calls: int


def model_usage(agent_id: int, start: dt.datetime, end: dt.datetime) -> list[ModelUsage]:
    """An agent's model calls in [start, end) by model: calls, tokens and token cost, most costly first."""
    totals: dict[str, list] = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    rows = TokenUsage.objects.filter(_within(start, end), agent_id=agent_id).values_list("model", *MEASURES)
    for model, *measures in rows:
        total = totals[model]
        for i, value in enumerate(measures):
            total[i] += value
    usage = [
        ModelUsage(model, calls, tokens_in, tokens_out, None if unpriced == calls else cost, unpriced)
        for model, (calls, tokens_in, tokens_out, cost, unpriced) in totals.items()
    ]
    usage.sort(key=lambda u: (-(u.cost or 0), -u.calls, u.model))
    return usage


def token_cost(start: dt.datetime, end: dt.datetime, departments: list[int] | None) -> dict[int, Decimal]:
    """Token cost in the organisation's currency per department, of the calls made in [start, end)."""
    rows = TokenUsage.objects.filter(_within(start, end)).exclude(unpriced_calls=F("calls"))
    if departments is not None:
        rows = rows.filter(department_id__in=departments)
    return dict(rows.values("department_id").annotate(total=Sum("cost")).values_list("department_id", "total"))


def _within(start: dt.datetime, end: dt.datetime) -> Q:
    """The buckets of the UTC hours that [start, end) touches: whole days from the day buckets."""
    first_hour, last_hour = _hour(start), _hour(end - dt.timedelta(microseconds=1)) + dt.timedelta(hours=1)
    first_day = _day(first_hour) + (dt.timedelta(days=1) if _day(first_hour) < first_hour else dt.timedelta(0))
    last_day = _day(last_hour)
    if first_day >= last_day:
        return Q(grain=HOUR, start__gte=first_hour, start__lt=last_hour)
    return (
        Q(grain=DAY, start__gte=first_day, start__lt=last_day)
        | Q(grain=HOUR, start__gte=first_hour, start__lt=first_day)
        | Q(grain=HOUR, start__gte=last_day, start__lt=last_hour)
    )


def _hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _day(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0)
