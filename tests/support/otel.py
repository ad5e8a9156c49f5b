"""An agent's OpenTelemetry setup for tests: a tracer exporting with the SDK's OTLP/HTTP exporter to a live Regent.

A provider of its own per test, never the global one (OpenTelemetry sets that once per process); spans made
current by its tracer are what `opentelemetry.propagate.inject` (and so regent_client) reads."""

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def agent_tracing(base_url: str, api_key: str, service: str = "invoice-agent") -> TracerProvider:
    """A provider exporting to `base_url`/v1/traces with the agent's key; call force_flush() to send."""
    exporter = OTLPSpanExporter(endpoint=f"{base_url}/v1/traces", headers={"Authorization": f"Bearer {api_key}"})
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
