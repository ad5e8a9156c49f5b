"""OTLP/HTTP's wire formats for traces: a request's body read into plain spans, and the answers the exporters
expect, in the request's own format (binary protobuf or OTLP's JSON).

OTLP's JSON is read straight from the parsed document, not through protobuf's JSON mapping: that mapping, in Python,
took 60% of a JSON export's time on the span benchmark. As the specification says, its keys are lowerCamelCase and
its ids hexadecimal."""

import base64
import binascii
import gzip
import json
import zlib
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

PROTOBUF, JSON = "application/x-protobuf", "application/json"
MAX_ITEMS = 64  # of an array or key-value list attribute: the rest is not read
ERROR_STATUS = 2  # OTLP's STATUS_CODE_ERROR
EVENTS_READ = "gen_ai."  # a span's events are read only when their name starts so: the others are not stored
SPAN_KINDS = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3}
SPAN_KINDS |= {"SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}
STATUS_CODES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": ERROR_STATUS}


@dataclass(slots=True)
class ReceivedSpan:
    """One span of an export as plain Python, whichever the format. An id that is not of its size (or a trace id of
    zeros) is "": such a span is refused at ingest."""

    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    failed: bool
    status_message: str
    attributes: dict
    events: list[tuple[str, dict]]


class BadRequest(Exception):
    """A body that is not an OTLP trace export: answered 400, and never retried by the exporter."""


class TooLarge(Exception):
    """A body larger than the API's limit once decompressed: answered 413."""


def media_type(content_type: str) -> str | None:
    """PROTOBUF or JSON for a request's Content-Type, None for anything else (answered 415)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if kind in (PROTOBUF, JSON) else None


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its Content-Encoding (gzip or deflate), refused past `limit` bytes decompressed."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise BadRequest(f"Content-Encoding {encoding!r} is not supported: send gzip, deflate or none.")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        data = inflater.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise BadRequest(f"The body is not valid {encoding}: {exc}.") from exc
    if len(data) > limit:
        raise TooLarge(f"The body is larger than {limit} bytes once decompressed.")
    return data


def parse(body: bytes, kind: str) -> list[ReceivedSpan]:
    """The spans of the export request in a body of the given media type; BadRequest says what is wrong with it."""
    if kind == PROTOBUF:
        message = ExportTraceServiceRequest()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise BadRequest(f"The body is not an OTLP ExportTraceServiceRequest in protobuf: {exc}.") from exc
        return _from_protobuf(message)
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"The body is not an OTLP ExportTraceServiceRequest in JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object with resourceSpans.")
    try:
        return _from_json(document)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError, binascii.Error) as exc:
        raise BadRequest(f"The body is not an OTLP ExportTraceServiceRequest in JSON: {exc}.") from exc


def _from_protobuf(message: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in message.resource_spans:
        service = next(
            (kv.value.string_value for kv in resource_spans.resource.attributes if kv.key == "service.name"), ""
        )
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
                status = span.status
                spans.append(
                    ReceivedSpan(
                        service,
                        trace_id.hex() if len(trace_id) == 16 and any(trace_id) else "",
                        span_id.hex() if len(span_id) == 8 else "",
                        parent.hex() if len(parent) == 8 else "",
                        span.name,
                        span.kind,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano,
                        status.code == ERROR_STATUS,
                        status.message,
                        {kv.key: kv.value.string_value or _value(kv.value) for kv in span.attributes},
                        [
                            (event.name, {kv.key: _value(kv.value) for kv in event.attributes})
                            for event in span.events
                            if event.name.startswith(EVENTS_READ)
                        ],
                    )
                )
    return spans


def _value(value: AnyValue):
    """A protobuf attribute's value as plain Python, arrays and key-value lists cut at MAX_ITEMS."""
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


def _from_json(document: dict) -> list[ReceivedSpan]:
    """The spans in OTLP's JSON; a value of the wrong type raises TypeError or ValueError."""
    spans = []
    for resource_spans in _list(document.get("resourceSpans")):
        attributes = _attributes((resource_spans.get("resource") or {}).get("attributes"))
        service = attributes.get("service.name")
        service = service if isinstance(service, str) else ""
        for scope_spans in _list(resource_spans.get("scopeSpans")):
            for span in _list(scope_spans.get("spans")):
                status = span.get("status") or {}
                spans.append(
                    ReceivedSpan(
                        service,
                        _id(span.get("traceId"), 16),
                        _id(span.get("spanId"), 8),
                        _id(span.get("parentSpanId"), 8),
                        _text(span.get("name")),
                        _enum(span.get("kind"), SPAN_KINDS),
                        _nanoseconds(span.get("startTimeUnixNano")),
                        _nanoseconds(span.get("endTimeUnixNano")),
                        _enum(status.get("code"), STATUS_CODES) == ERROR_STATUS,
                        _text(status.get("message")),
                        _attributes(span.get("attributes")),
                        [
                            (name, _attributes(event.get("attributes")))
                            for event in _list(span.get("events"))
                            if (name := _text(event.get("name"))).startswith(EVENTS_READ)
                        ],
                    )
                )
    return spans


def _list(value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {value!r:.40}")
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {value!r:.40}")
    return value


def _id(value, size: int) -> str:
    """A hex id as stored (lower case); "" when missing, not of `size` bytes, or zeros; ValueError when not hex."""
    raw = bytes.fromhex(_text(value))
    return raw.hex() if len(raw) == size and any(raw) else ""


def _enum(value, names: dict[str, int]) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return names[value] if value in names else int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an enum, not {value!r:.40}")
    return value


def _nanoseconds(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected a time in nanoseconds, not {value!r:.40}")
    number = int(value)
    if not 0 <= number < 2**64:
        raise ValueError(f"{number} nanoseconds is out of range")
    return number


def _attributes(items) -> dict:
    attributes = {}
    for item in _list(items):
        attributes[_text(item["key"])] = _json_value(item.get("value"))
    return attributes


def _json_value(value):
    """An AnyValue in JSON as plain Python, as _value reads one in protobuf."""
    if value is None:
        return None
    text = value.get("stringValue")
    if text is not None:
        return _text(text)
    if "intValue" in value:
        number = value["intValue"]
        if isinstance(number, bool) or not isinstance(number, int | str):
            raise TypeError(f"expected an integer, not {number!r:.40}")
        number = int(number)
        if not -(2**63) <= number < 2**63:
            raise ValueError(f"{number} is out of range for an integer attribute")
        return number
    if "doubleValue" in value:
        number = value["doubleValue"]
        if isinstance(number, bool) or not isinstance(number, int | float | str):
            raise TypeError(f"expected a number, not {number!r:.40}")
        return float(number)
    if "boolValue" in value:
        flag = value["boolValue"]
        if not isinstance(flag, bool):
            raise TypeError(f"expected true or false, not {flag!r:.40}")
        return flag
    if "arrayValue" in value:
        return [_json_value(item) for item in _list((value["arrayValue"] or {}).get("values"))[:MAX_ITEMS]]
    if "kvlistValue" in value:
        return _attributes(_list((value["kvlistValue"] or {}).get("values"))[:MAX_ITEMS])
    if "bytesValue" in value:
        return base64.b64decode(_text(value["bytesValue"]), validate=True).hex()
    return None


def success(kind: str, rejected: int = 0, message: str = "") -> bytes:
    """The answer to an export: empty when every span was kept, a partial success naming what was not."""
    response = ExportTraceServiceResponse()
    if rejected or message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    if kind == PROTOBUF:
        return response.SerializeToString()
    return json_format.MessageToJson(response, indent=None).encode()


# gRPC status codes for the HTTP statuses /v1/traces answers, as google.rpc.Status carries them.
GRPC_CODES = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 429: 8, 503: 14}


def status(kind: str, http_status: int, message: str) -> bytes:
    """A google.rpc.Status (code, message) as OTLP answers an error, written by hand: the runtime has no googleapis
    package, and the message has two fields."""
    code = GRPC_CODES.get(http_status, 2)
    if kind != PROTOBUF:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte, number = number & 0x7F, number >> 7
        out.append(byte | (0x80 if number else 0))
        if not number:
            return bytes(out)
