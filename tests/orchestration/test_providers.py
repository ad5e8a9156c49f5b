"""Providers: a signed webhook and an OpenAI-compatible endpoint, each a real HTTP server the test starts;
which one does an agent's work is the agent's provider row, not code."""

import hmac
import time
from decimal import Decimal

import pytest

from orchestration.models import Agent, ModelProvider
from tests.factories import ModelProviderFactory, StepTemplateFactory, WorkflowTemplateFactory
from tests.support.endpoints import Answer
from tests.support.workflows import steps_of
from workflows import providers
from workflows.providers import ProviderError, WorkOrder, perform, signature

pytestmark = pytest.mark.django_db

ORDER = WorkOrder(idempotency_key="step-7-agent-3-attempt-0", action="invoice.approve", input={"amount": 1200})
WEBHOOK_RESULT = {"cost": "0.40", "value": "35.50", "csat": 5, "output": {"approved": True}}


def completion(content: str = "Approved: the amounts match the purchase order.", tokens: int = 1500) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}], "usage": {"total_tokens": tokens}}


def answering(status: int, body) -> Answer:
    return lambda request: (status, body)


@pytest.fixture
def webhook(serve):
    """An agent's endpoint that does the work and answers with its result."""
    return serve(answering(200, WEBHOOK_RESULT))


@pytest.fixture
def chat_server(serve):
    """An OpenAI-compatible server answering every completion with 1500 tokens."""
    return serve(answering(200, completion()))


@pytest.fixture
def webhook_provider(webhook) -> ModelProvider:
    return ModelProviderFactory(
        name="Invoice service", kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=f"{webhook.url}/work"
    )


@pytest.fixture
def chat_provider(chat_server) -> ModelProvider:
    return ModelProviderFactory(
        name="Chat models",
        kind=ModelProvider.Kind.OPENAI_COMPATIBLE,
        endpoint=f"{chat_server.url}/v1",
        cost_per_unit=Decimal("0.02"),
    )


def agent_of(provider: ModelProvider, hire) -> Agent:
    return hire("approver", "invoice.approve", provider=provider, model_name="approver-large-2")


@pytest.fixture
def approver(hire, webhook_provider) -> Agent:
    return agent_of(webhook_provider, hire)


# The signed webhook


def test_a_webhook_call_carries_its_idempotency_key_and_a_signature_that_verifies(webhook, approver):
    # Given an agent whose provider is a webhook

    # When it is asked to do a piece of work
    perform(approver, ORDER)

    # Then the endpoint got the work with its idempotency key, stamped with a fresh timestamp and signed over
    # timestamp and body with the provider's secret
    (request,) = webhook.received
    assert request.path == "/work"
    assert request.json() == {
        "agent": "approver",
        "action": "invoice.approve",
        "input": {"amount": 1200},
        "idempotency_key": ORDER.idempotency_key,
    }
    assert request.headers["Idempotency-Key"] == ORDER.idempotency_key
    timestamp = request.headers["X-Regent-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = signature(approver.provider.signing_secret, timestamp, request.body)
    assert hmac.compare_digest(request.headers["X-Regent-Signature"], expected)


def test_a_webhook_signature_does_not_verify_with_another_secret(webhook, approver):
    # Given an agent whose provider is a webhook, and another provider with its own secret
    other = ModelProviderFactory(name="Someone else")

    # When the agent is asked to do a piece of work
    perform(approver, ORDER)

    # Then the signature does not verify with the other provider's secret
    (request,) = webhook.received
    forged = signature(other.signing_secret, request.headers["X-Regent-Timestamp"], request.body)
    assert request.headers["X-Regent-Signature"] != forged


def test_a_webhooks_answer_is_the_work_result(webhook, approver):
    # Given an agent whose provider is a webhook

    # When it is asked to do a piece of work
    result = perform(approver, ORDER)

    # Then the result is what the endpoint answered
    assert result == providers.WorkResult(
        cost=Decimal("0.40"), value=Decimal("35.50"), csat=5, output={"approved": True}
    )


def test_a_webhook_answering_500_is_a_provider_error(serve, hire):
    # Given an agent whose webhook fails on the server's side
    failing = serve(answering(500, {"error": "database is down"}))
    agent = agent_of(ModelProviderFactory(kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=failing.url), hire)

    # When it is asked to do a piece of work, then that is a provider error naming the status
    with pytest.raises(ProviderError, match="answered 500"):
        perform(agent, ORDER)


def test_a_webhook_slower_than_the_timeout_is_a_provider_error(serve, hire, monkeypatch):
    # Given an agent whose webhook takes a second to answer, and a timeout of a fifth of that
    monkeypatch.setattr(providers, "TIMEOUT_SECONDS", 0.2)
    slow = serve(lambda request: (time.sleep(1), (200, WEBHOOK_RESULT))[1])
    agent = agent_of(ModelProviderFactory(kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=slow.url), hire)

    # When it is asked to do a piece of work, then the call is given up on as a provider error, in time
    started = time.monotonic()
    with pytest.raises(ProviderError, match="timed out"):
        perform(agent, ORDER)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"<html>Bad gateway</html>", id="not-json"),
        pytest.param(["done"], id="not-an-object"),
        pytest.param({"cost": "a lot"}, id="cost-not-a-number"),
        pytest.param({"cost": "NaN"}, id="cost-not-finite"),
        pytest.param({"csat": "great"}, id="csat-not-a-score"),
        pytest.param({"csat": 9}, id="csat-out-of-range"),
    ],
)
def test_a_webhook_answer_that_is_not_a_result_is_a_provider_error(serve, hire, answer):
    # Given an agent whose webhook answers with something that is not a work result
    odd = serve(answering(200, answer))
    agent = agent_of(ModelProviderFactory(kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=odd.url), hire)

    # When it is asked to do a piece of work, then that is a provider error (worth another try), not a crash
    with pytest.raises(ProviderError):
        perform(agent, ORDER)


# The OpenAI-compatible endpoint


def test_an_openai_compatible_call_sends_the_agents_model_and_the_work_as_messages(chat_server, hire, chat_provider):
    # Given an agent whose provider is an OpenAI-compatible endpoint
    agent = agent_of(chat_provider, hire)

    # When it is asked to do a piece of work
    perform(agent, ORDER)

    # Then a chat completion was asked of the agent's model, with the work as the user's message
    (request,) = chat_server.received
    assert request.path == "/v1/chat/completions"
    body = request.json()
    assert body["model"] == "approver-large-2"
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    assert "Approver" in body["messages"][0]["content"]
    assert body["messages"][1]["content"] == '{"action": "invoice.approve", "input": {"amount": 1200}}'
    assert request.headers["Idempotency-Key"] == ORDER.idempotency_key


def test_an_openai_compatible_answer_gives_the_content_tokens_and_cost(chat_server, hire, chat_provider):
    # Given an agent on an endpoint costing 0.02 per thousand tokens, which answers using 1500 tokens
    agent = agent_of(chat_provider, hire)

    # When it is asked to do a piece of work
    result = perform(agent, ORDER)

    # Then the result holds the content and the tokens, and costs 0.02 × 1500 / 1000
    assert result.output == {"content": "Approved: the amounts match the purchase order.", "tokens": 1500}
    assert result.cost == Decimal("0.03")
    assert (result.value, result.csat) == (Decimal("0"), None)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"choices": []}, id="no-choices"),
        pytest.param({"choices": [{"text": "legacy completion"}]}, id="no-message"),
        pytest.param({**completion(), "usage": {"total_tokens": "many"}}, id="tokens-not-a-number"),
        pytest.param({"error": {"message": "model not found"}}, id="an-error-object"),
        pytest.param({**completion(), "usage": ["total_tokens", 1500]}, id="usage-not-an-object"),
    ],
)
def test_a_malformed_completion_is_a_provider_error(serve, hire, answer):
    # Given an OpenAI-compatible endpoint answering with something that is not a completion
    odd = serve(answering(200, answer))
    agent = agent_of(ModelProviderFactory(kind=ModelProvider.Kind.OPENAI_COMPATIBLE, endpoint=odd.url), hire)

    # When the agent is asked to do a piece of work, then that is a provider error
    with pytest.raises(ProviderError, match="the completion had no message"):
        perform(agent, ORDER)


# Configuration, not code


def test_switching_an_agents_provider_row_switches_who_does_its_work(
    webhook, chat_server, webhook_provider, chat_provider, hire, run_workflow
):
    # Given an approval workflow, and the only approver on the webhook provider, which approved one invoice
    workflow = WorkflowTemplateFactory(slug="approve-invoice")
    StepTemplateFactory(workflow=workflow, key="approve", capability__code="invoice.approve")
    agent = agent_of(webhook_provider, hire)
    run_workflow(workflow, {"amount": 1200})

    # When a Policy Admin points the agent at the OpenAI-compatible provider and another invoice comes in
    agent.provider = chat_provider
    agent.save()
    step = steps_of(run_workflow(workflow, {"amount": 800}))["approve"]

    # Then the first invoice went to the webhook and the second to the chat endpoint, whose answer the step holds
    assert [r.json()["input"] for r in webhook.received] == [{"amount": 1200}]
    assert len(chat_server.received) == 1
    assert step.output["content"] == "Approved: the amounts match the purchase order."
    assert step.decision.outcome.cost == Decimal("0.03")
