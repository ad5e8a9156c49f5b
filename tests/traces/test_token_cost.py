"""Token cost in the figures executives see, read from the usage buckets ingest keeps: a department's cost on
Strategy & value and the period's cost figure count the model tokens its agents' traces reported, at the prices set
when they arrived; scope still applies; the buckets agree with the spans whatever period is asked."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from dashboard.kpis.tiles import _figures
from dashboard.kpis.value import cost_and_value
from dashboard.periods import period_for
from fastpath import writes
from traces import ingest as ingest_module
from traces.ingest import ingest
from traces.models import Span, TokenPrice, TokenUsage
from traces.otlp import ReceivedSpan
from traces.usage import count_spans, model_usage, token_cost

SPAN_IDS = itertools.count(1)


@pytest.fixture(autouse=True)
def prices(db) -> None:
    # gpt-4o: 2.50 per thousand input tokens, 10.00 per thousand output tokens; mistral-large has no price
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))


def call(at: dt.datetime, model: str = "gpt-4o", tokens_in: int = 1000, tokens_out: int = 100) -> ReceivedSpan:
    """A model call as an exporter sends it: 1,000 + 100 tokens of gpt-4o cost 2.50 + 1.00."""
    start = int(at.timestamp() * 1e9)
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
    }
    span_id = f"{next(SPAN_IDS):016x}"
    return ReceivedSpan(
        "", "ab" * 16, span_id, "", f"chat {model}", 3, start, start + 900_000_000, False, "", attributes, []
    )


def tool_call(at: dt.datetime) -> ReceivedSpan:
    start = int(at.timestamp() * 1e9)
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "pay"}
    return ReceivedSpan(
        "", "ab" * 16, f"{next(SPAN_IDS):016x}", "", "pay", 1, start, start + 1000, False, "", attributes, []
    )


def spans_say(agent_id: int, start: dt.datetime, end: dt.datetime) -> dict:
    """What summing the stored spans themselves gives, by model: the reading the buckets replace."""
    spans = Span.objects.filter(agent_id=agent_id, started_at__gte=start, started_at__lt=end).exclude(request_model="")
    rows = spans.values("request_model").annotate(
        calls=Count("id"), tokens_in=Sum("input_tokens"), spent=Sum("cost"), unpriced=Count("id", filter=Q(cost=None))
    )
    return {r["request_model"]: (r["calls"], r["tokens_in"], r["spent"], r["unpriced"]) for r in rows}


def buckets_say(agent_id: int, start: dt.datetime, end: dt.datetime) -> dict:
    return {u.model: (u.calls, u.input_tokens, u.cost, u.unpriced_calls) for u in model_usage(agent_id, start, end)}


def test_a_departments_cost_includes_its_agents_token_cost(alice, bob, finance_agent, support_agent):
    # Given Finance's agent made two model calls (3.50 and 1.75), Support's one (7.00), in the last hour
    recently = timezone.now() - dt.timedelta(minutes=5)
    ingest(finance_agent, [call(recently), call(recently, tokens_in=300, tokens_out=100)])
    ingest(support_agent, [call(recently, tokens_in=2000, tokens_out=200), tool_call(recently)])
    period = period_for("24h", timezone.now())

    # When alice (every department) and bob (Finance only) read cost per department and the period's cost figure
    everyone = {row.name: row.cost for row in cost_and_value(alice, period, by="department")}
    bobs = {row.name: row.cost for row in cost_and_value(bob, period, by="department")}

    # Then each department's cost holds its token cost, and bob sees Finance's only
    assert everyone == {"Finance": 5.25, "Customer Support": 7.0}
    assert bobs == {"Finance": 5.25}
    assert _figures(period, None)["cost"] == 12.25
    assert _figures(period, [finance_agent.department_id])["cost"] == 5.25


def test_the_buckets_agree_with_the_spans_for_periods_of_hours_days_and_both(finance_agent):
    # Given calls over five days, several in some hours, of a priced and an unpriced model, and tool calls
    base = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    moments = [base + dt.timedelta(hours=h, minutes=m) for h in range(0, 120, 7) for m in (0, 59)]
    calls = [call(at, "gpt-4o" if i % 3 else "mistral-large", 100 + i, 10 + i) for i, at in enumerate(moments)]
    ingest(finance_agent, [*calls[:20], tool_call(moments[0])])
    ingest(finance_agent, calls[20:])

    # When usage is read for an hour-grain day, whole days, and periods that start and end mid-day
    periods = [
        (base + dt.timedelta(days=1), base + dt.timedelta(days=2)),
        (base, base + dt.timedelta(days=5)),
        (base + dt.timedelta(hours=5), base + dt.timedelta(days=3, hours=17)),
        (base + dt.timedelta(hours=30), base + dt.timedelta(hours=31)),
        (base - dt.timedelta(days=30), base + dt.timedelta(days=30)),
    ]

    # Then the buckets say what the spans say, tokens and cost to the cent, the unpriced model without a cost
    for start, end in periods:
        expected = spans_say(finance_agent.pk, start, end)
        assert buckets_say(finance_agent.pk, start, end) == expected, (start, end)
    whole = buckets_say(finance_agent.pk, base, base + dt.timedelta(days=5))
    assert whole["mistral-large"][2] is None and whole["mistral-large"][3] == whole["mistral-large"][0]
    assert whole["gpt-4o"][0] == sum(1 for i, _ in enumerate(moments) if i % 3)
    assert token_cost(base, base + dt.timedelta(days=5), None) == {finance_agent.department_id: whole["gpt-4o"][2]}


def test_a_period_not_in_whole_hours_counts_its_first_and_last_hours_whole(finance_agent):
    # Given calls at 10:05 and 10:50, and 12:10
    base = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    ingest(finance_agent, [call(base + dt.timedelta(minutes=5)), call(base + dt.timedelta(minutes=50))])
    ingest(finance_agent, [call(base + dt.timedelta(hours=2, minutes=10))])

    # When usage is read from 10:30 to 12:01, and from 11:00 to 12:00
    # Then the first counts 10:00–13:00, the second the 11 o'clock hour only (no calls)
    assert (
        model_usage(finance_agent.pk, base + dt.timedelta(minutes=30), base + dt.timedelta(hours=2, minutes=1))[0].calls
        == 3
    )
    assert model_usage(finance_agent.pk, base + dt.timedelta(hours=1), base + dt.timedelta(hours=2)) == []


def test_an_export_sent_again_is_counted_once(finance_agent):
    # Given an export of two model calls, stored
    at = timezone.now() - dt.timedelta(minutes=5)
    export = [call(at), call(at)]
    ingest(finance_agent, export)

    # When the exporter sends it again (it got no answer), with one new call
    ingest(finance_agent, [*export, call(at)])

    # Then three calls are counted, as three spans are stored
    usage = model_usage(finance_agent.pk, at - dt.timedelta(hours=1), at + dt.timedelta(hours=1))
    assert Span.objects.count() == 3
    assert [(u.model, u.calls, u.cost) for u in usage] == [("gpt-4o", 3, Decimal("10.5"))]


def test_counting_all_stored_spans_rebuilds_the_buckets_ingest_kept(finance_agent, support_agent):
    # Given exports from two agents (the migration counts spans stored before the buckets existed this way)
    at = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    ingest(finance_agent, [call(at), call(at + dt.timedelta(hours=3), "mistral-large")])
    ingest(support_agent, [call(at + dt.timedelta(days=2)), tool_call(at)])
    kept = sorted(TokenUsage.objects.values_list("grain", "start", "agent_id", "model", "calls", "cost"))

    # When the buckets are emptied and every stored span is counted again
    TokenUsage.objects.all().delete()
    count_spans(Span.objects.all())

    # Then they hold what ingest kept: 3 model calls, in hour and day buckets
    assert sorted(TokenUsage.objects.values_list("grain", "start", "agent_id", "model", "calls", "cost")) == kept
    assert len(kept) == 6


def test_exports_stored_by_one_copy_are_counted_from_their_rows_and_once_when_resent(finance_agent):
    # Given an export of 300 calls over two days (three models, one unpriced): large enough to be one COPY
    base = dt.datetime(2026, 11, 2, 22, tzinfo=dt.UTC)
    models = ("gpt-4o", "gpt-4o-mini", "mistral-large")
    export = [call(base + dt.timedelta(minutes=9 * i), models[i % 3], 100 + i, 1 + i % 50) for i in range(300)]
    assert len(export) >= writes.COPY_FROM

    # When it is ingested, then sent again with 150 new calls
    ingest(finance_agent, export)
    first = buckets_say(finance_agent.pk, base - dt.timedelta(days=1), base + dt.timedelta(days=3))
    ingest(finance_agent, [*export, *(call(base + dt.timedelta(minutes=9 * i + 4)) for i in range(150))])

    # Then both times the buckets say what the stored spans say, for whole days and for hours
    assert first["gpt-4o"][0] == 100
    for start, end in (
        (base - dt.timedelta(days=1), base + dt.timedelta(days=3)),
        (base + dt.timedelta(hours=3), base + dt.timedelta(hours=27)),
    ):
        assert buckets_say(finance_agent.pk, start, end) == spans_say(finance_agent.pk, start, end)
    assert Span.objects.count() == 450


def test_an_export_whose_stored_spans_come_last_is_stored_and_counted_whole(finance_agent):
    # Given 100 calls stored, and an export of 200 new calls followed by those 100: its COPY takes the new ones as
    # they are made and meets a stored span only near its end
    at = timezone.now() - dt.timedelta(minutes=5)
    stored = [call(at) for _ in range(100)]
    ingest(finance_agent, stored)
    fresh = [call(at, tokens_in=10, tokens_out=1) for _ in range(200)]
    assert len(fresh) > ingest_module.SPANS_AT_ONCE and len(fresh) + len(stored) >= writes.COPY_FROM

    # When it is ingested
    received = ingest(finance_agent, [*fresh, *stored])

    # Then every span is stored once, and the buckets count the 300 calls, not 400 (100 x 3.50 + 200 x 0.035)
    assert received.accepted == 300 and Span.objects.count() == 300
    window = (at - dt.timedelta(hours=1), at + dt.timedelta(hours=1))
    assert buckets_say(finance_agent.pk, *window) == {"gpt-4o": (300, 100 * 1000 + 200 * 10, Decimal("357"), 0)}
