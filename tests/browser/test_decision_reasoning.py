"""The agent's reasoning on a decision's page, in Chromium: an agent traced with the OpenTelemetry SDK asks Regent
(regent_client, inside its trace) and exports its spans to /v1/traces; bob, who supervises Finance, sees its
model call (model, tokens, latency), its tool call (arguments and result) and its messages, collapsed."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from orchestration.keys import issue_key
from regent_client import Regent
from tests.support.browser import SLOW_MS, log_in
from tests.support.otel import agent_tracing
from traces.models import TokenPrice

pytestmark = pytest.mark.browser


def test_the_decision_page_shows_the_agents_steps_around_it(
    page: Page, asgi_server, bob: User, finance_agent, screenshots: Path
):
    # Given gpt-4o's price, and the invoice agent tracing its work with the OpenTelemetry SDK
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    key = issue_key(finance_agent)
    provider = agent_tracing(asgi_server.url, key)
    tracer, regent = provider.get_tracer("invoice-agent"), Regent(asgi_server.url, key)

    # When it reasons with a model, looks the invoice up with a tool, asks Regent, and exports its spans
    with tracer.start_as_current_span("invoke_agent invoice-agent"):
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.input_tokens": 1834,
                    "gen_ai.usage.output_tokens": 212,
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "Settle invoice 7 from Acme"}]}]
                    ),
                    "gen_ai.output.messages": json.dumps(
                        [{"role": "assistant", "parts": [{"type": "text", "content": "I will look it up first."}]}]
                    ),
                }
            )
        with tracer.start_as_current_span("execute_tool lookup_invoice") as tool:
            tool.set_attributes(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup_invoice",
                    "gen_ai.tool.call.id": "call_41",
                    "gen_ai.tool.call.arguments": '{"invoice": 7}',
                    "gen_ai.tool.call.result": '{"supplier": "Acme", "total": "120.00 EUR"}',
                }
            )
        with tracer.start_as_current_span("execute_tool pay_invoice"):
            asked = regent.evaluate("invoice.approve", resource="invoice/7", amount="120.00", currency="EUR")
    provider.force_flush()
    provider.shutdown()

    # Then bob sees, on the decision's page, the model call, the tool call and where Regent decided
    page.set_default_timeout(SLOW_MS)
    log_in(page, "bob")
    page.goto(f"/decisions/{asked.decision_id}/")
    reasoning = page.get_by_test_id("reasoning")
    model_call = reasoning.get_by_test_id("step-model")
    expect(model_call).to_contain_text("gpt-4o")
    expect(model_call).to_contain_text("1,834 tokens in, 212 out")
    expect(model_call).to_contain_text(" ms")
    expect(model_call).to_contain_text("$6.705")
    tool_call = reasoning.get_by_test_id("step-tool").filter(has_text="lookup_invoice")
    expect(tool_call.get_by_test_id("tool-arguments")).to_have_text('{"invoice": 7}')
    expect(tool_call.get_by_test_id("tool-result")).to_contain_text("Acme")
    expect(reasoning.get_by_test_id("step-decision")).to_contain_text("Regent decided")
    expect(reasoning.get_by_test_id("asked-here")).to_have_count(1)
    # And the messages are there but collapsed until he opens them
    messages = model_call.get_by_test_id("messages")
    expect(messages.get_by_text("Settle invoice 7 from Acme")).to_be_hidden()
    messages.locator("summary").click()
    expect(messages.get_by_text("Settle invoice 7 from Acme")).to_be_visible()
    expect(messages).to_contain_text("I will look it up first.")
    reasoning.screenshot(path=screenshots / "decision-reasoning.png")


def test_the_agent_page_shows_model_usage_and_token_cost_by_model(page: Page, asgi_server, alice: User, finance_agent):
    # Given the invoice agent made two priced gpt-4o calls and one unpriced call today
    TokenPrice.objects.create(model="gpt-4o", input_per_1k=Decimal("2.5"), output_per_1k=Decimal("10"))
    provider = agent_tracing(asgi_server.url, issue_key(finance_agent))
    tracer = provider.get_tracer("invoice-agent")
    for model, tokens in (("gpt-4o", 1000), ("gpt-4o", 3000), ("local-llama", 500)):
        with tracer.start_as_current_span(f"chat {model}") as chat:
            chat.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": tokens,
                    "gen_ai.usage.output_tokens": 100,
                }
            )
    provider.shutdown()

    # When alice, an executive, opens its page for the last 24 hours
    page.set_default_timeout(SLOW_MS)
    log_in(page, "alice")
    page.goto(f"/agents/{finance_agent.pk}/?period=24h")

    # Then its model usage lists each model with calls, tokens and token cost
    usage = page.get_by_test_id("model-usage")
    gpt = usage.locator("tr", has_text="gpt-4o")
    expect(gpt).to_contain_text("2")
    expect(gpt).to_contain_text("4,000")
    expect(gpt).to_contain_text("$12.00")
    expect(usage.locator("tr", has_text="local-llama")).to_contain_text("1 calls without a price")
