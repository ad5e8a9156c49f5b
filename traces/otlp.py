"""OTLP/HTTP's wire formats for traces: a request's body read into an ExportTraceServiceRequest, and the answers
the exporters expect, in the request's own format (binary protobuf or OTLP's JSON)."""

import base64
import gzip
import json
import zlib

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

PROTOBUF, JSON = "application/x-protobuf", "application/json"
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


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


def parse(body: bytes, kind: str) -> ExportTraceServiceRequest:
    """The export request in a body of the given media type; BadRequest says what is wrong with it."""
    message = ExportTraceServiceRequest()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise BadRequest(f"The body is not an OTLP ExportTraceServiceRequest in protobuf: {exc}.") from exc
        return message
    try:
        document = json.loads(body)
        _ids_to_base64(document)
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (ValueError, TypeError, AttributeError, json_format.ParseError) as exc:
        raise BadRequest(f"The body is not an OTLP ExportTraceServiceRequest in JSON: {exc}.") from exc
    return message


def _ids_to_base64(document: dict) -> None:
    """OTLP's JSON writes trace and span ids in hex where protobuf's JSON mapping expects base64."""
    if not isinstance(document, dict):
        raise BadRequest("The body must be a JSON object with resourceSpans.")
    for resource in document.get("resourceSpans") or document.get("resource_spans") or []:
        for scope in resource.get("scopeSpans") or resource.get("scope_spans") or []:
            for span in scope.get("spans") or []:
                _convert(span)
                for link in span.get("links") or []:
                    _convert(link)


def _convert(item: dict) -> None:
    for name in _ID_FIELDS:
        value = item.get(name)
        if isinstance(value, str) and value:
            try:
                item[name] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError as exc:
                raise BadRequest(f"{name} {value!r} is not hexadecimal.") from exc


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
