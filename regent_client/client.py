"""The Regent API over HTTP for agents (evaluate, report an outcome) and the `governed` decorator."""

import functools
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

try:  # optional: with OpenTelemetry in the agent, each request carries the current trace (W3C traceparent)
    from opentelemetry.propagate import inject
except ImportError:  # the client stands alone without it
    inject = None

PROCEEDS = ("allow", "flag")


class RegentError(Exception):
    """Regent refused the request (bad input, bad key, throttled) or could not be reached."""

    def __init__(self, status: int, code: str, detail: str, fields: dict | None = None):
        self.status, self.code, self.detail, self.fields = status, code, detail, fields or {}
        super().__init__(f"{status} {code}: {detail}" + (f" {fields}" if fields else ""))


@dataclass(frozen=True)
class Decision:
    decision_id: int
    verdict: str
    risk_score: int
    explanation: str
    approval_id: int | None = None
    matched_policies: list[dict] = field(default_factory=list)

    @property
    def proceeds(self) -> bool:
        """Whether the agent may go ahead now (allowed, or allowed and flagged for a look)."""
        return self.verdict in PROCEEDS


class NotAllowed(Exception):
    """Regent denied the action or holds it for a person's approval."""

    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(f"{decision.verdict}: {decision.explanation}")


class Regent:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0):
        self.base_url, self.api_key, self.timeout = base_url.rstrip("/"), api_key, timeout

    def evaluate(
        self,
        action: str,
        *,
        resource: str = "",
        amount: Decimal | float | str | None = None,
        currency: str = "",
        data_classes: list[str] | tuple[str, ...] = (),
        context: dict | None = None,
    ) -> Decision:
        """Ask whether the agent may perform the action; Regent records the decision either way."""
        body = {
            "action": action,
            "resource": resource,
            "currency": currency,
            "data_classes": list(data_classes),
            "context": context or {},
            "amount": None if amount is None else str(amount),
        }
        answer = self._post("/api/v1/decisions/evaluate", body)
        return Decision(
            decision_id=answer["decision_id"],
            verdict=answer["verdict"],
            risk_score=answer["risk_score"],
            explanation=answer["explanation"],
            approval_id=answer["approval_id"],
            matched_policies=answer["matched_policies"],
        )

    def report_outcome(
        self,
        decision_id: int,
        result: str,
        *,
        cost: Decimal | float | str = 0,
        value: Decimal | float | str = 0,
        csat: int | None = None,
    ) -> dict:
        """Report what happened after a decision: "success" or "failure", with its cost, value and CSAT."""
        body = {"decision": decision_id, "result": result, "cost": str(cost), "value": str(value), "csat": csat}
        return self._post("/api/v1/outcomes", body)

    def governed(
        self,
        action: str,
        *,
        resource: Callable[..., str] | str = "",
        amount: Callable[..., Any] | None = None,
        currency: str = "",
        data_classes: tuple[str, ...] = (),
        report: bool = True,
    ) -> Callable:
        """Decorate a function so it runs only when Regent allows the action; `resource` and `amount`
        may be functions of the call's arguments. Its success, or the exception it raised, is reported."""

        def decorate(function: Callable) -> Callable:
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                decision = self.evaluate(
                    action,
                    resource=resource(*args, **kwargs) if callable(resource) else resource,
                    amount=amount(*args, **kwargs) if amount is not None else None,
                    currency=currency,
                    data_classes=data_classes,
                    context={"function": function.__qualname__},
                )
                if not decision.proceeds:
                    raise NotAllowed(decision)
                try:
                    result = function(*args, **kwargs)
                except Exception:
                    if report:
                        self.report_outcome(decision.decision_id, "failure")
                    raise
                if report:
                    self.report_outcome(decision.decision_id, "success")
                return result

            return wrapper

        return decorate

    def _post(self, path: str, body: dict) -> dict:
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        if inject is not None:
            inject(headers)  # adds traceparent when a span is current: Regent links the decision to the trace
        request = urllib.request.Request(  # noqa: S310 (the Regent URL the agent was configured with)
            self.base_url + path, data=json.dumps(body).encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read())
            except ValueError:
                error = {}
            raise RegentError(
                exc.code, error.get("code", "error"), error.get("detail", exc.reason), error.get("fields")
            ) from None
        except OSError as exc:
            raise RegentError(0, "unreachable", f"Regent did not answer: {exc}") from None
