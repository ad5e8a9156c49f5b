"""Providers behind one interface: the agent's provider row says which runs a step, never the code.

- simulated: seeded per agent and step, with the agent's own cost, failure and CSAT distributions
- http_webhook: a signed JSON POST to the provider's endpoint, with a timeout
- openai_compatible: a chat completion at `{endpoint}/chat/completions`
"""

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from orchestration.models import Agent, ModelProvider

TIMEOUT_SECONDS = 10


class ProviderError(Exception):
    """The provider could not do the work this time (down, timed out, refused); worth another try."""


@dataclass(frozen=True)
class WorkOrder:
    idempotency_key: str
    action: str
    input: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WorkResult:
    cost: Decimal
    value: Decimal
    csat: int | None
    output: dict


def perform(agent: Agent, order: WorkOrder) -> WorkResult:
    """Have the agent's provider do the work; raise ProviderError when it fails."""
    kind = agent.provider.kind
    if kind == ModelProvider.Kind.SIMULATED:
        return _simulated(agent, order)
    if kind == ModelProvider.Kind.HTTP_WEBHOOK:
        return _webhook(agent, order)
    if kind == ModelProvider.Kind.OPENAI_COMPATIBLE:
        return _openai_compatible(agent, order)
    raise ProviderError(f"unknown provider kind {kind!r}")


def _simulated(agent: Agent, order: WorkOrder) -> WorkResult:
    rng = random.Random(f"{agent.pk}:{order.idempotency_key}")  # noqa: S311 (a simulation, not a secret)
    failure_rate = 0.02 + 0.03 * (agent.risk_tier - 1)
    time.sleep(rng.uniform(0.0, settings.SIMULATED_PROVIDER_LATENCY_MS / 1000))
    if rng.random() < failure_rate:
        raise ProviderError(f"simulated failure of {agent.slug}")
    units = rng.randint(1, 20)
    return WorkResult(
        cost=(agent.provider.cost_per_unit * units).quantize(Decimal("0.01")),
        value=Decimal(str(round(rng.uniform(5, 60), 2))),
        csat=rng.choices([2, 3, 4, 5], weights=[5, 15, 45, 35])[0],
        output={"units": units, "summary": f"{order.action} done by {agent.slug}"},
    )


def _post(url: str, body: dict, headers: dict[str, str]) -> dict:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **headers}
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310 (http(s) URLField)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (admin-set URL)
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise ProviderError(f"{url} answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise ProviderError(f"{url} failed: {exc}") from None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _webhook(agent: Agent, order: WorkOrder) -> WorkResult:
    body = {"agent": agent.slug, "action": order.action, "input": order.input, "idempotency_key": order.idempotency_key}
    timestamp = str(int(time.time()))
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "Idempotency-Key": order.idempotency_key,
        "X-Regent-Timestamp": timestamp,
        "X-Regent-Signature": signature(agent.provider.signing_secret, timestamp, raw),
    }
    answer = _post(agent.provider.endpoint, body, headers)
    try:
        cost, value = Decimal(str(answer.get("cost", "0"))), Decimal(str(answer.get("value", "0")))
        csat = answer.get("csat")
    except (AttributeError, ArithmeticError):
        raise ProviderError(f"{agent.provider.endpoint} answered with no work result") from None
    if not (cost.is_finite() and value.is_finite() and csat in (None, 1, 2, 3, 4, 5)):
        raise ProviderError(f"{agent.provider.endpoint} answered with no usable work result")
    return WorkResult(cost=cost, value=value, csat=csat, output=answer.get("output", {}))


def _openai_compatible(agent: Agent, order: WorkOrder) -> WorkResult:
    body = {
        "model": agent.model_name,
        "messages": [
            {"role": "system", "content": f"You are {agent.name}. Carry out the action and answer briefly."},
            {"role": "user", "content": json.dumps({"action": order.action, "input": order.input})},
        ],
    }
    answer = _post(
        agent.provider.endpoint.rstrip("/") + "/chat/completions", body, {"Idempotency-Key": order.idempotency_key}
    )
    try:
        content = answer["choices"][0]["message"]["content"]
        tokens = int(answer.get("usage", {}).get("total_tokens", 0))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise ProviderError("the completion had no message") from None
    return WorkResult(
        cost=(agent.provider.cost_per_unit * Decimal(tokens) / 1000).quantize(Decimal("0.01")),
        value=Decimal("0"),
        csat=None,
        output={"content": content, "tokens": tokens},
    )
