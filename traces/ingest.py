"""Spans in: an OTLP export's spans from one agent made rows, masked, bounded, and written in one statement.

Every string is masked (traces.redaction) before it is stored, and every value is bounded: a string attribute at
MAX_VALUE_CHARS, a span's other attributes at MAX_ATTRIBUTES, content (messages, tool arguments and results) at
MAX_CONTENT_CHARS. A department that does not keep content (traces.models.ContentSetting) has its agents'
messages, system instructions and tool arguments and results dropped here, never written.
The gen_ai.* attributes are read as the OpenTelemetry GenAI semantic conventions name them (v1.37 and later),
with gen_ai.system as the older name of gen_ai.provider.name. A span sent again (exporters retry) is stored once.
"""

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from fastpath import writes
from orchestration.models import Agent
from traces.models import ContentSetting, RedactionPattern, Span, TokenPrice
from traces.otlp import ReceivedSpan
from traces.redaction import Masker, masker
from traces.usage import Tally, count_spans

MAX_ATTRIBUTES = 64
MAX_VALUE_CHARS = 2_000
MAX_CONTENT_CHARS = 32_000

OPERATION, PROVIDER, SYSTEM = "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system"
REQUEST_MODEL, RESPONSE_MODEL = "gen_ai.request.model", "gen_ai.response.model"
INPUT_TOKENS, OUTPUT_TOKENS = "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"
TOOL_NAME, TOOL_CALL_ID = "gen_ai.tool.name", "gen_ai.tool.call.id"
TOOL_ARGUMENTS, TOOL_RESULT = "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"
MESSAGES = {
    "gen_ai.system_instructions": "system_instructions",
    "gen_ai.input.messages": "input_messages",
    "gen_ai.output.messages": "output_messages",
}
CONTENT = frozenset({*MESSAGES, TOOL_ARGUMENTS, TOOL_RESULT})
COLUMNS = frozenset({OPERATION, PROVIDER, SYSTEM, REQUEST_MODEL, RESPONSE_MODEL, INPUT_TOKENS, OUTPUT_TOKENS})
COLUMNS |= {TOOL_NAME, TOOL_CALL_ID}


@dataclass(frozen=True)
class Received:
    """What came of an export: spans kept, spans refused and why (OTLP's partial success)."""

    accepted: int
    rejected: int = 0
    message: str = ""


def ingest(agent: Agent, spans: list[ReceivedSpan]) -> Received:
    """Store the export's spans as the agent's, in its department as it is now (one COPY or INSERT in all), and
    count their model calls in the usage buckets in the same transaction."""
    patterns, keeps_content, prices = _in_force(agent.department_id)
    mask, price = masker(patterns), _pricer(prices)
    now = timezone.now()
    owner = (agent.pk, agent.department_id)
    valid = [span for span in spans if span.trace_id and span.span_id]
    tally = Tally(ROW)
    rows = map(tally.add, _rows(owner, valid, mask, keeps_content, price, now))
    with transaction.atomic():
        if writes.insert_new(Span, ROW, rows, len(valid)):
            tally.add_to_buckets(agent.department_id, agent.pk)
        else:  # some may have been stored before (a resent export keeps its first arrival's time): count what is new
            count_spans(Span.objects.filter(received_at=now, agent_id=agent.pk))
    rejected = len(spans) - len(valid)
    message = f"{rejected} spans had no valid trace id or span id." if rejected else ""
    return Received(len(valid), rejected, message)


# The columns read from attributes: (column, attribute, longest, content?). Content is kept only where the
# department keeps it.
TEXT_COLUMNS = (
    ("operation", OPERATION, 40, False),
    ("provider", PROVIDER, 80, False),
    ("request_model", REQUEST_MODEL, 120, False),
    ("response_model", RESPONSE_MODEL, 120, False),
    ("tool_name", TOOL_NAME, 200, False),
    ("tool_call_id", TOOL_CALL_ID, 200, False),
    ("tool_arguments", TOOL_ARGUMENTS, MAX_CONTENT_CHARS, True),
    ("tool_result", TOOL_RESULT, MAX_CONTENT_CHARS, True),
    *((column, key, MAX_CONTENT_CHARS, True) for key, column in MESSAGES.items()),
)
REQUEST_MODEL_AT, RESPONSE_MODEL_AT = (
    [column for column, *_ in TEXT_COLUMNS].index(name) for name in ("request_model", "response_model")
)
TEXT_SLOTS = {key: (2 + n, limit, content) for n, (_, key, limit, content) in enumerate(TEXT_COLUMNS)}
NO_TEXTS = ("",) * len(TEXT_COLUMNS)
SPANS_AT_ONCE = 64  # about 45 kB of rows: psycopg sends a COPY's rows on in pieces of 32 kB
STRINGS = 2 + len(TEXT_COLUMNS)  # a span's strings always masked: name, status message, TEXT_COLUMNS
MAX_KIND = 5  # OTLP's span kinds run 0 to 5
SEPARATOR = "\x1f"  # joins strings masked in one call; no built-in pattern matches it


# A row's values, in this order.
ROW = ("agent_id", "department_id", "trace_id", "span_id", "parent_span_id", "name", "kind", "started_at")
ROW += ("duration_us", "failed", "status_message", "input_tokens", "output_tokens", "cost")
ROW += (*(column for column, *_ in TEXT_COLUMNS), "attributes", "received_at")


def _rows(owner: tuple, spans: list[ReceivedSpan], mask: Masker, keeps_content: bool, price, now) -> Iterator[tuple]:
    """The spans' rows, made SPANS_AT_ONCE spans at a time, so that the database stores some while the next are made
    (the COPY takes them as they come); each time every string of those spans masked in one call, where masking
    span by span paid the scan's fixed cost 512 times an export (bench/span_ingest.py)."""
    for start in range(0, len(spans), SPANS_AT_ONCE):
        some = spans[start : start + SPANS_AT_ONCE]
        texts: list[str] = []
        readings = [_read(span, keeps_content, texts) for span in some]
        masked = _mask_all(texts, mask, [STRINGS + 2 * len(plain) for plain, _ in readings])
        at = 0
        for span, (plain, others) in zip(some, readings, strict=True):
            end = at + STRINGS + 2 * len(plain)
            yield _row(owner, span, masked[at:end], len(plain), others, mask, price, now)
            at = end


def _read(span: ReceivedSpan, keeps_content: bool, texts: list[str]) -> tuple[list[str], dict]:
    """A span's strings appended to `texts`: STRINGS of them (name, status message, TEXT_COLUMNS), then the keys of
    its other string attributes, then their values; returns those keys, and its other attributes of other types."""
    attributes = span.attributes
    for _, event_attributes in span.events:  # conventions before v1.37, and the details event, carry messages
        for key, value in event_attributes.items():
            if key in CONTENT and key not in attributes:
                attributes[key] = value
    if PROVIDER not in attributes and SYSTEM in attributes:
        attributes[PROVIDER] = attributes[SYSTEM]
    columns = [_bounded(span.name, 200), _bounded(span.status_message, 500), *NO_TEXTS]
    extra: dict = {"service.name": span.service} if span.service else {}
    for key, value in attributes.items():  # one pass: most of TEXT_COLUMNS are missing from a span
        slot = TEXT_SLOTS.get(key)
        if slot is not None:
            at, limit, content = slot
            if keeps_content or not content:
                text = value if type(value) is str else _text(value)
                columns[at] = text if len(text) <= limit else _bounded(text, limit)
        elif key not in COLUMNS and len(extra) < MAX_ATTRIBUTES:
            extra[key[:200]] = value
    plain = [key for key, value in extra.items() if isinstance(value, str)]
    texts += columns
    texts += plain
    texts += [_bounded(extra.pop(key), MAX_VALUE_CHARS) for key in plain]
    return plain, extra


def _row(owner: tuple, span: ReceivedSpan, strings: list[str], plain: int, others: dict, mask, price, now) -> tuple:
    """A span's row from its masked strings (as _read laid them out) and its attributes of other types."""
    attributes = span.attributes
    columns = strings[2:STRINGS]
    kept = {mask(key): _masked(value, mask) for key, value in others.items()} if others else {}
    kept.update(zip(strings[STRINGS : STRINGS + plain], strings[STRINGS + plain :], strict=True))
    input_tokens, output_tokens = _count(attributes.get(INPUT_TOKENS)), _count(attributes.get(OUTPUT_TOKENS))
    start, end = span.start_ns, span.end_ns
    return (
        *owner,
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        strings[0],
        span.kind if 0 <= span.kind <= MAX_KIND else 0,
        dt.datetime.fromtimestamp(start / 1e9, tz=dt.UTC) if start else now,
        max(end - start, 0) // 1000 if start and end else 0,
        span.failed,
        strings[1],
        input_tokens,
        output_tokens,
        price(columns[RESPONSE_MODEL_AT] or columns[REQUEST_MODEL_AT], input_tokens, output_tokens),
        *columns,
        kept,
        now,
    )


def _mask_all(texts: list[str], mask: Masker, groups: list[int] | None = None) -> list[str]:
    """The texts masked, in one call on them joined. A match across two of them (an organisation's pattern may)
    takes the separator with it: then each group of texts (a span's: `groups` gives their sizes) is masked the same
    way, and in a group where that happens again each text alone."""
    parts = mask(SEPARATOR.join(texts)).split(SEPARATOR)
    if len(parts) == len(texts):
        return parts
    if groups is None:
        return [mask(text) for text in texts]
    masked, at = [], 0
    for size in groups:
        masked += _mask_all(texts[at : at + size], mask)
        at += size
    return masked


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(value) -> int | None:
    if value is None:  # most spans: not a model call
        return None
    if type(value) is int:  # as exporters send it
        return value if 0 <= value < 2**31 else None
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if 0 <= count < 2**31 else None


def _masked(value, mask: Masker):
    """A value masked and bounded, whatever its shape: strings at MAX_VALUE_CHARS, numbers as they are."""
    if isinstance(value, str):
        return mask(_bounded(value, MAX_VALUE_CHARS))
    if isinstance(value, list):
        return [_masked(item, mask) for item in value]
    if isinstance(value, dict):
        return {mask(str(key)[:200]): _masked(item, mask) for key, item in value.items()}
    if isinstance(value, float) and (value != value or abs(value) == float("inf")):
        return None  # PostgreSQL's JSON has no NaN or infinity
    return value


def _in_force(department_id: int) -> tuple[list[tuple[str, str]], bool, list[tuple[str, Decimal, Decimal]]]:
    """What ingest applies now, as the admin leaves it at any time: the organisation's redaction patterns (name,
    regex), whether the department keeps content, the token prices (model, input and output per 1,000). One plain
    statement: three ORM queries cost 2 ms of an export's time, most of it compiling them."""
    with connection.cursor() as cursor:
        cursor.execute(_in_force_sql(), [department_id])
        rows = cursor.fetchall()
    to_decimal = TokenPrice._meta.get_field("input_per_1k").to_python
    patterns = [(name, pattern) for kind, name, pattern, _, _ in rows if kind == "p"]
    prices = [
        (model, to_decimal(per_input), to_decimal(per_output))
        for kind, model, _, per_input, per_output in rows
        if kind == "t"
    ]
    return patterns, not any(kind == "c" for kind, *_ in rows), prices


@cache
def _in_force_sql() -> str:
    quote = connection.ops.quote_name
    prices, patterns, content = (quote(m._meta.db_table) for m in (TokenPrice, RedactionPattern, ContentSetting))
    # Table names from model metadata; the department is a parameter. Prices first: PostgreSQL types the union's
    # columns from the first branch on.
    return (
        f"SELECT 't', model, NULL, input_per_1k, output_per_1k FROM {prices} "  # noqa: S608
        f"UNION ALL SELECT 'p', name, pattern, NULL, NULL FROM {patterns} WHERE active "
        f"UNION ALL SELECT 'c', NULL, NULL, NULL, NULL FROM {content} WHERE department_id = %s AND NOT keep_content"
    )


def _pricer(prices: list[tuple[str, Decimal, Decimal]]):
    """A function giving a call's token cost in the organisation's currency, by the longest priced model name its
    model starts with; None when the model has no price or the call reported no tokens."""
    prices.sort(key=lambda entry: -len(entry[0]))
    thousand, millionth = Decimal(1000), Decimal("0.000001")
    rates: dict[str, tuple[Decimal, Decimal] | None] = {}  # by model, as found: an export names a few models

    def price(model: str, input_tokens: int | None, output_tokens: int | None) -> Decimal | None:
        if not model or (input_tokens is None and output_tokens is None):
            return None
        if model not in rates:
            rates[model] = next((rate for name, *rate in prices if model.startswith(name)), None)
        rate = rates[model]
        if rate is None:
            return None
        return ((rate[0] * (input_tokens or 0) + rate[1] * (output_tokens or 0)) / thousand).quantize(millionth)

    return price
