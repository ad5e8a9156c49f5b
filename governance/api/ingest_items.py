"""Validation of bulk ingest items: the same rules as the API's serializers, compiled by pydantic.

A batch holds up to 1,000 items. Validating them through DRF fields cost 50–80 ms per batch, more than
PostgreSQL takes to store them; pydantic-core checks the same rules in a few milliseconds. The rules
mirror `EvaluateRequestSerializer` and the ingest serializers (which still document the endpoint), and
tests/api/test_ingest_validation.py holds the two to the same answers. Errors come back as the API's
field messages: {field: [message, ...]}.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from audit.hashing import canonical
from governance.api.serializers import MAX_CONTEXT_BYTES, unstorable
from governance.filtersets import MAX_ID
from governance.ingest import ExternalDecision, ExternalOutcome
from governance.models import Outcome, Verdict
from orchestration.models import capability_code

CENTS = Decimal("0.01")
CLOCK_SKEW = dt.timedelta(minutes=5)


def _storable(value):
    problem = unstorable(value)
    if problem:
        raise ValueError(problem)
    return value


def _context(value: dict) -> dict:
    _storable(value)
    if len(canonical(value).encode()) > MAX_CONTEXT_BYTES:
        raise ValueError(f"Context is larger than {MAX_CONTEXT_BYTES} bytes.")
    return value


def _aware_and_past(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # as DRF's DateTimeField reads it: the server's time zone
    if value > timezone.now() + CLOCK_SKEW:
        raise ValueError("This moment is in the future.")
    return value


def _text(max_length: int, *, blank: bool = True, pattern: str | None = None):
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length, min_length=0 if blank else 1, pattern=pattern),
        AfterValidator(_storable),
    ]


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    idempotency_key: _text(100, blank=False)


class DecisionItem(_Item):
    type: Literal["decision"]
    action: _text(80, blank=False, pattern=capability_code.regex.pattern)
    resource: _text(255) = ""
    amount: Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=0, allow_inf_nan=False)] | None = None
    currency: Annotated[_text(3, pattern=r"^([A-Z]{3})?$"), Field(validate_default=True)] = ""
    data_classes: Annotated[list[_text(40, blank=False, pattern=r"^[-a-zA-Z0-9_]+$")], Field(max_length=20)] = []
    context: Annotated[dict, AfterValidator(_context)] = {}
    verdict: Literal[tuple(Verdict.values)]
    risk_score: Annotated[int, Field(ge=0, le=100)] | None = None
    explanation: _text(2000) = ""
    occurred_at: Annotated[dt.datetime | None, AfterValidator(_aware_and_past)] = None

    @field_validator("currency")
    @classmethod
    def _currency_of_amount(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("amount") is not None and not value:
            raise ValueError("Give the currency of the amount.")
        return value

    def as_item(self) -> ExternalDecision:
        return ExternalDecision(
            idempotency_key=self.idempotency_key,
            action=self.action,
            verdict=self.verdict,
            resource=self.resource,
            amount=None if self.amount is None else self.amount.quantize(CENTS),
            currency=self.currency,
            data_classes=list(dict.fromkeys(self.data_classes)),
            context=self.context,
            risk_score=self.risk_score,
            explanation=self.explanation,
            occurred_at=self.occurred_at,
        )


class OutcomeItem(_Item):
    type: Literal["outcome"]
    decision: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    decision_key: _text(100, blank=False) | None = None
    result: Literal[tuple(Outcome.Result.values)]
    cost: Annotated[Decimal, Field(max_digits=14, decimal_places=2, ge=0, allow_inf_nan=False)] = Decimal("0")
    value: Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)] = Decimal("0")
    csat: Annotated[int, Field(ge=1, le=5)] | None = None

    @model_validator(mode="after")
    def _one_decision(self):
        if (self.decision is None) == (self.decision_key is None):
            raise ValueError("Name the decision by exactly one of decision and decision_key.")
        return self

    def as_item(self) -> ExternalOutcome:
        return ExternalOutcome(
            idempotency_key=self.idempotency_key,
            result=self.result,
            decision_id=self.decision,
            decision_key=self.decision_key or "",
            cost=self.cost.quantize(CENTS),
            value=self.value.quantize(CENTS),
            csat=self.csat,
        )


ITEM_MODELS = {"decision": DecisionItem, "outcome": OutcomeItem}


def parse(items: list) -> tuple[list, dict[int, dict]]:
    """The valid items as (index, ExternalDecision | ExternalOutcome), and the others' field errors by index."""
    valid, errors = [], {}
    for index, raw in enumerate(items):
        kind = raw.get("type") if isinstance(raw, dict) else None
        model = ITEM_MODELS.get(kind) if isinstance(kind, str) else None  # a list or object is no type either
        if model is None:
            errors[index] = {"type": ['Use "decision" or "outcome".']}
            continue
        try:
            valid.append((index, model.model_validate(raw).as_item()))
        except ValidationError as exc:
            errors[index] = field_errors(exc)
    return valid, errors


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as the API's field messages: {field: [message, ...]}, a rule over fields as
    non_field_errors."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "non_field_errors"
        fields.setdefault(field, []).append(error["msg"].removeprefix("Value error, "))
    return fields
