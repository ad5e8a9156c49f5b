"""Spans in: an OTLP export from one agent read into rows, masked, bounded, and written in one statement.

Every string is masked (traces.redaction) before it is stored, and every value is bounded: a string attribute at
MAX_VALUE_CHARS, a span's other attributes at MAX_ATTRIBUTES, content (messages, tool arguments and results) at
MAX_CONTENT_CHARS. A department that does not keep content (traces.models.ContentSetting) has its agents'
messages, system instructions and tool arguments and results dropped here, never written.
The gen_ai.* attributes are read as the OpenTelemetry GenAI semantic conventions name them (v1.37 and later),
with gen_ai.system as the older name of gen_ai.provider.name.
"""

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from fastpath import writes
from orchestration.models import Agent
from traces.models import ContentSetting, Span, TokenPrice
from traces.redaction import Masker, current_masker

MAX_ATTRIBUTES = 64
MAX_VALUE_CHARS = 2_000
MAX_CONTENT_CHARS = 32_000
MAX_ITEMS = 64  # of an array or key-value list attribute
ERROR_STATUS = 2  # OTLP's STATUS_CODE_ERROR

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


def ingest(agent: Agent, export: ExportTraceServiceRequest) -> Received:
    """Store the export's spans as the agent's, in its department as it is now; one INSERT or COPY in all."""
    mask = current_masker()
    keeps_content = not ContentSetting.objects.filter(department_id=agent.department_id, keep_content=False).exists()
    price = _pricer(list(TokenPrice.objects.values_list("model", "input_per_1k", "output_per_1k")))
    now = timezone.now()
    rows, rejected = [], 0
    for resource_spans in export.resource_spans:
        service = _service_name(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8 or not any(span.trace_id):
                    rejected += 1
                    continue
                rows.append(_row(agent, span, service, mask, keeps_content, price, now))
    if rows:
        with transaction.atomic():
            writes.insert_rows(Span, rows)
    message = f"{rejected} spans had no valid trace id or span id." if rejected else ""
    return Received(len(rows), rejected, message)


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
SEPARATOR = "\x1f"  # joins a span's strings so they are masked in one call; no built-in pattern matches it


def _row(agent: Agent, span, service: str, mask: Masker, keeps_content: bool, price, now: dt.datetime) -> dict:
    attributes = {kv.key: _value(kv.value) for kv in span.attributes}
    for event in span.events:  # conventions before v1.37, and the details event, carry messages on events
        if event.name.startswith("gen_ai."):
            for kv in event.attributes:
                if kv.key in CONTENT and kv.key not in attributes:
                    attributes[kv.key] = _value(kv.value)
    if PROVIDER not in attributes and SYSTEM in attributes:
        attributes[PROVIDER] = attributes[SYSTEM]
    texts = [_bounded(span.name, 200), _bounded(span.status.message, 500)]
    texts += [
        _bounded(_text(attributes.get(key)), limit) if keeps_content or not content else ""
        for _, key, limit, content in TEXT_COLUMNS
    ]
    extra: dict = {"service.name": _bounded(service, MAX_VALUE_CHARS)} if service else {}
    for key, value in attributes.items():
        if len(extra) >= MAX_ATTRIBUTES:
            break
        if key not in COLUMNS and key not in CONTENT:
            extra[key[:200]] = value
    plain = [key for key, value in extra.items() if isinstance(value, str)]
    texts += plain
    texts += [_bounded(extra[key], MAX_VALUE_CHARS) for key in plain]
    masked = _mask_all(texts, mask)
    name, status_message = masked[0], masked[1]
    columns = dict(zip((column for column, *_ in TEXT_COLUMNS), masked[2 : 2 + len(TEXT_COLUMNS)], strict=True))
    keys, values = masked[2 + len(TEXT_COLUMNS) :][: len(plain)], masked[2 + len(TEXT_COLUMNS) + len(plain) :]
    attributes_kept = {mask(key): _masked(value, mask) for key, value in extra.items() if not isinstance(value, str)}
    attributes_kept.update(zip(keys, values, strict=True))
    input_tokens, output_tokens = _count(attributes.get(INPUT_TOKENS)), _count(attributes.get(OUTPUT_TOKENS))
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    return {
        "agent_id": agent.pk,
        "department_id": agent.department_id,
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() if len(span.parent_span_id) == 8 else "",
        "name": name,
        "kind": span.kind,
        "started_at": dt.datetime.fromtimestamp(start / 1e9, tz=dt.UTC) if start else now,
        "duration_us": max(end - start, 0) // 1000 if start and end else 0,
        "failed": span.status.code == ERROR_STATUS,
        "status_message": status_message,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost": price(columns["response_model"] or columns["request_model"], input_tokens, output_tokens),
        **columns,
        "attributes": attributes_kept,
        "received_at": now,
    }


def _mask_all(texts: list[str], mask: Masker) -> list[str]:
    """The texts masked, in one call on them joined: a match across two of them (an organisation's pattern may)
    takes the separator with it, and then each is masked alone."""
    parts = mask(SEPARATOR.join(texts)).split(SEPARATOR)
    return parts if len(parts) == len(texts) else [mask(text) for text in texts]


def _value(value: AnyValue):
    """An attribute's value as plain Python, arrays and key-value lists cut at MAX_ITEMS."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind in ("int_value", "double_value", "bool_value"):
        return getattr(value, kind)
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values[:MAX_ITEMS]]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values[:MAX_ITEMS]}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return None


def _service_name(attributes) -> str:
    return next((kv.value.string_value for kv in attributes if kv.key == "service.name"), "")


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(value) -> int | None:
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


def _pricer(prices: list[tuple[str, Decimal, Decimal]]):
    """A function giving a call's token cost in the organisation's currency, by the longest priced model name its
    model starts with; None when the model has no price or the call reported no tokens."""
    prices.sort(key=lambda entry: -len(entry[0]))
    thousand = Decimal(1000)

    def price(model: str, input_tokens: int | None, output_tokens: int | None) -> Decimal | None:
        if not model or (input_tokens is None and output_tokens is None):
            return None
        for name, per_input, per_output in prices:
            if model.startswith(name):
                cost = (per_input * (input_tokens or 0) + per_output * (output_tokens or 0)) / thousand
                return cost.quantize(Decimal("0.000001"))
        return None

    return price
