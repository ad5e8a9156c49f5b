"""/v1/traces served by a real server (uvicorn in a thread), fed by the OpenTelemetry SDK's OTLP/HTTP exporter
as an agent would, and by hand-written OTLP JSON; what is stored is read back from PostgreSQL."""

import gzip
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from opentelemetry.trace import Status, StatusCode

from governance.models import Decision
from orchestration.keys import issue_key
from regent_client import Regent
from tests.support.otel import SPAN_HEX, TRACE_HEX, agent_tracing, json_span, otlp_json, post
from traces.models import Span, TokenPrice


@pytest.fixture
def key(finance_agent) -> str:
    return issue_key(finance_agent)


def test_spans_exported_by_the_sdk_are_stored_with_their_gen_ai_attributes(asgi_server, finance_agent, key):
    # Given gpt-4o priced at 2.50 and 10.00 per thousand tokens, and an agent tracing with the OpenTelemetry SDK
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    provider = agent_tracing(asgi_server.url, key)
    tracer = provider.get_tracer("invoice-agent")

    # When it makes a model call and a tool call inside one agent step, and exports them (protobuf)
    with tracer.start_as_current_span("invoke_agent invoice-agent") as root:
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.model": "gpt-4o-2024-08-06",
                    "gen_ai.usage.input_tokens": 1200,
                    "gen_ai.usage.output_tokens": 300,
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "Pay invoice 7"}]}]
                    ),
                }
            )
        with tracer.start_as_current_span("execute_tool lookup_invoice") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup_invoice",
                    "gen_ai.tool.call.id": "call_7",
                    "gen_ai.tool.call.arguments": '{"invoice": 7}',
                    "gen_ai.tool.call.result": '{"total": 120}',
                }
            )
            tool.set_status(Status(StatusCode.ERROR, "upstream slow"))
    provider.force_flush()
    provider.shutdown()

    # Then the three spans are stored as the agent's, in one trace, with what the conventions say
    spans = {span.name: span for span in Span.objects.all()}
    assert set(spans) == {"invoke_agent invoice-agent", "chat gpt-4o", "execute_tool lookup_invoice"}
    chat, tool = spans["chat gpt-4o"], spans["execute_tool lookup_invoice"]
    trace_id = format(root.get_span_context().trace_id, "032x")
    assert {span.trace_id for span in spans.values()} == {trace_id}
    assert chat.parent_span_id == format(root.get_span_context().span_id, "016x")
    assert (chat.agent_id, chat.department_id) == (finance_agent.pk, finance_agent.department_id)
    assert (chat.operation, chat.provider, chat.request_model, chat.response_model) == (
        "chat",
        "openai",
        "gpt-4o",
        "gpt-4o-2024-08-06",
    )
    assert (chat.input_tokens, chat.output_tokens, chat.cost) == (1200, 300, Decimal("6.000000"))
    assert json.loads(chat.input_messages) == [
        {"role": "user", "parts": [{"type": "text", "content": "Pay invoice 7"}]}
    ]
    assert (chat.system_instructions, chat.output_messages) == ("", "")
    assert chat.attributes == {"service.name": "invoice-agent"}
    assert (tool.tool_name, tool.tool_call_id, tool.tool_arguments, tool.tool_result) == (
        "lookup_invoice",
        "call_7",
        '{"invoice": 7}',
        '{"total": 120}',
    )
    assert (tool.failed, tool.status_message) == (True, "upstream slow")


def test_a_json_export_is_stored_and_answered_in_json(asgi_server, key):
    # Given an export in OTLP's JSON, with hex ids
    body = otlp_json(json_span(**{"gen_ai.operation.name": "chat", "gen_ai.request.model": "claude-sonnet"}))

    # When the agent posts it
    status, answer = post(asgi_server.url, body, key=key)

    # Then it is accepted whole, answered in JSON, and stored under the same ids
    assert (status, json.loads(answer)) == (200, {})
    span = Span.objects.get()
    assert (span.trace_id, span.span_id, span.request_model, span.duration_us) == (
        TRACE_HEX,
        SPAN_HEX,
        "claude-sonnet",
        850_000,
    )
    assert span.attributes == {"service.name": "claims-agent"}


def test_spans_without_valid_ids_are_refused_as_a_partial_success(asgi_server, key):
    # Given an export with one good span and one whose span id is too short
    body = otlp_json(json_span(), json_span(span_id="abcd"))

    # When it is posted
    status, answer = post(asgi_server.url, body, key=key)

    # Then the good one is kept and the answer counts the refused one
    assert status == 200
    assert json.loads(answer)["partialSuccess"]["rejectedSpans"] == "1"
    assert Span.objects.count() == 1


def test_a_gzipped_protobuf_export_is_read(asgi_server, key):
    # Given the SDK's own encoding of a span, gzipped as exporters send it with compression on
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes.fromhex(TRACE_HEX), bytes.fromhex(SPAN_HEX), "plan"

    # When it is posted
    status, answer = post(
        asgi_server.url,
        gzip.compress(request.SerializeToString()),
        key=key,
        content_type="application/x-protobuf",
        **{"Content-Encoding": "gzip"},
    )

    # Then it is stored, and the answer is an empty protobuf response
    assert (status, answer) == (200, b"")
    assert Span.objects.get().name == "plan"


def test_an_unknown_key_is_refused_with_401(asgi_server, finance_agent):
    status, _ = post(asgi_server.url, otlp_json(json_span()), key="rgt_not-a-key")

    assert status == 401
    assert not Span.objects.exists()


def test_a_body_that_is_not_an_export_is_refused_with_400(asgi_server, key):
    for body, content_type in ((b"{not json", "application/json"), (b"\xff\xff\xff", "application/x-protobuf")):
        status, answer = post(asgi_server.url, body, key=key, content_type=content_type)

        assert status == 400, answer
    assert (
        post(asgi_server.url, b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', key=key)[0]
        == 400
    )
    assert not Span.objects.exists()


def test_another_media_type_is_refused_with_415(asgi_server, key):
    assert post(asgi_server.url, b"hello", key=key, content_type="text/plain")[0] == 415


def test_a_body_over_the_limit_is_refused_with_413_compressed_or_not(asgi_server, key, settings):
    # Given a limit of 2,000 bytes
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    big = otlp_json(*(json_span(span_id=f"{i:016x}") for i in range(1, 40)))
    assert len(big) > 2_000 and len(gzip.compress(big)) < 2_000

    # When a body over it arrives, as it is or gzipped small but larger once decompressed
    plain, _ = post(asgi_server.url, big, key=key)
    zipped, _ = post(asgi_server.url, gzip.compress(big), key=key, **{"Content-Encoding": "gzip"})

    # Then both are refused with 413 and nothing is stored
    assert (plain, zipped) == (413, 413)
    assert not Span.objects.exists()


def test_evaluate_within_a_trace_links_the_decision_to_it(asgi_server, finance_agent, key):
    # Given an agent tracing with OpenTelemetry and calling Regent with its client inside a span
    provider = agent_tracing(asgi_server.url, key)
    tracer = provider.get_tracer("invoice-agent")
    regent = Regent(asgi_server.url, key)

    # When it asks to approve an invoice within that span
    with tracer.start_as_current_span("execute_tool approve_invoice") as span:
        asked = regent.evaluate("invoice.approve", resource="invoice/7")
    provider.shutdown()

    # Then the decision carries the span's trace and span ids
    decision = Decision.objects.get(pk=asked.decision_id)
    context = span.get_span_context()
    assert (decision.trace_id, decision.span_id) == (format(context.trace_id, "032x"), format(context.span_id, "016x"))


def test_a_malformed_traceparent_is_ignored(asgi_server, key):
    # When an agent sends evaluate a traceparent that does not follow W3C Trace Context
    request = urllib.request.Request(  # noqa: S310
        f"{asgi_server.url}/api/v1/decisions/evaluate",
        data=json.dumps({"action": "invoice.approve"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}", "traceparent": "00-zz-1-01"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        decision_id = json.loads(response.read())["decision_id"]

    # Then the decision is made, without a trace
    assert Decision.objects.get(pk=decision_id).trace_id == ""


def test_an_agent_over_the_rate_limit_is_told_when_to_retry(asgi_server, key, settings):
    # Given a rate limit of one request a minute per caller
    settings.API_THROTTLE_RATE = "1/min"
    body = otlp_json(json_span())

    # When the agent exports twice at once
    first, _ = post(asgi_server.url, body, key=key)
    request = urllib.request.Request(  # noqa: S310
        f"{asgi_server.url}/v1/traces",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310

    # Then the second is answered 429 with Retry-After, as OTLP exporters expect, and only the first is stored
    assert (first, refused.value.code) == (200, 429)
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert Span.objects.count() == 1


@pytest.mark.parametrize("spans", [3, 150], ids=["a few spans (INSERT)", "a batch (COPY)"])
def test_a_resent_export_is_stored_once(asgi_server, key, spans):
    # Given an export the agent's exporter got no answer for
    body = otlp_json(*(json_span(span_id=f"{i:016x}") for i in range(1, spans + 1)))
    assert post(asgi_server.url, body, key=key)[0] == 200

    # When it sends it again, and then a next export holding one of those spans and a new one
    again, answer = post(asgi_server.url, body, key=key)
    overlapping = otlp_json(json_span(span_id=f"{spans:016x}"), json_span(span_id=f"{spans + 1:016x}"))
    assert post(asgi_server.url, overlapping, key=key)[0] == 200

    # Then the resend is answered as a success, and each span is stored once
    assert (again, json.loads(answer)) == (200, {})
    stored = list(Span.objects.values_list("span_id", flat=True))
    assert sorted(stored) == [f"{i:016x}" for i in range(1, spans + 2)]


def test_another_agents_span_with_the_same_ids_is_kept(asgi_server, key, support_agent):
    # Given a span stored for the Finance agent
    assert post(asgi_server.url, otlp_json(json_span()), key=key)[0] == 200

    # When another agent sends a span with the same trace and span ids
    assert post(asgi_server.url, otlp_json(json_span()), key=issue_key(support_agent))[0] == 200

    # Then both are stored: no agent can keep another's span out by sending its ids first
    assert Span.objects.count() == 2
