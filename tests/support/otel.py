"""An agent's OpenTelemetry setup for tests: a tracer exporting with the SDK's OTLP/HTTP exporter to a live Regent.

A provider of its own per test, never the global one (OpenTelemetry sets that once per process); spans made
current by its tracer are what `opentelemetry.propagate.inject` (and so regent_client) reads."""

import json
import urllib.error
import urllib.request

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

TRACE_HEX, SPAN_HEX = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"


def agent_tracing(base_url: str, api_key: str, service: str = "invoice-agent") -> TracerProvider:
    """A provider exporting to `base_url`/v1/traces with the agent's key; call force_flush() to send."""
    exporter = OTLPSpanExporter(endpoint=f"{base_url}/v1/traces", headers={"Authorization": f"Bearer {api_key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def post(url: str, body: bytes, *, key: str, content_type: str = "application/json", **headers) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310
        f"{url}/v1/traces",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {key}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def otlp_json(*spans: dict) -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claims-agent"}}]},
                    "scopeSpans": [{"scope": {"name": "agent"}, "spans": list(spans)}],
                }
            ]
        }
    ).encode()


def json_span(span_id: str = SPAN_HEX, trace_id: str = TRACE_HEX, **attributes) -> dict:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": "1764000000000000000",
        "endTimeUnixNano": "1764000000850000000",
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }
