"""The agents' reasoning as they report it: OpenTelemetry spans, token prices, and what is masked or not kept."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from orchestration.models import Agent, Department


class Span(models.Model):
    """One unit of an agent's work (a model call, a tool call, a step), received on /v1/traces.

    Written only by traces.ingest, after redaction and with every value bounded in size. The gen_ai.* attributes
    the pages read have columns of their own; the rest are kept, bounded, in `attributes`."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="spans", db_index=False)
    # The agent's department when the span arrived, as on a decision: scoping must not move if the agent does.
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="spans", db_index=False)
    trace_id = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    parent_span_id = models.CharField(max_length=16, blank=True)
    name = models.CharField(max_length=200)
    kind = models.PositiveSmallIntegerField(default=0, help_text="OTLP span kind: 1 internal, 2 server, 3 client…")
    started_at = models.DateTimeField()
    duration_us = models.BigIntegerField(help_text="End minus start, in microseconds.")
    failed = models.BooleanField(default=False, help_text="The span's status was Error.")
    status_message = models.CharField(max_length=500, blank=True)
    operation = models.CharField(max_length=40, blank=True, help_text="gen_ai.operation.name: chat, execute_tool…")
    provider = models.CharField(max_length=80, blank=True, help_text="gen_ai.provider.name (or gen_ai.system).")
    request_model = models.CharField(max_length=120, blank=True)
    response_model = models.CharField(max_length=120, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Token cost at the price when it arrived."
    )
    tool_name = models.CharField(max_length=200, blank=True)
    tool_call_id = models.CharField(max_length=200, blank=True)
    tool_arguments = models.TextField(blank=True)
    tool_result = models.TextField(blank=True)
    # The messages as the agent sent them (JSON text, by the conventions), masked: empty when none were sent or its
    # department does not keep content. Kept as text: reading and rewriting the JSON doubled ingest's CPU.
    system_instructions = models.TextField(blank=True)
    input_messages = models.TextField(blank=True)
    output_messages = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # An exporter resends an export it got no answer for: a span is stored once. The agent is part of it so
            # that no agent can keep another's span out by sending its ids first; it also serves a trace's spans.
            models.UniqueConstraint(fields=["trace_id", "agent", "span_id"], name="span_once_per_agent"),
        ]
        indexes = [
            models.Index(fields=["agent", "started_at"], name="span_agent_started"),
            models.Index(fields=["department", "started_at"], name="span_department_started"),
            # Retention takes the oldest received first (audit.retention): without it each batch read every span.
            models.Index(fields=["received_at", "id"], name="span_received"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.trace_id}/{self.span_id})"

    @property
    def model(self) -> str:
        return self.response_model or self.request_model

    @property
    def duration_ms(self) -> float:
        return self.duration_us / 1000

    @property
    def messages(self) -> list[tuple[str, str]]:
        """(what, text) for each kind of message sent, in the order of the conversation."""
        parts = (
            ("System instructions", self.system_instructions),
            ("Sent to the model", self.input_messages),
            ("The model's answer", self.output_messages),
        )
        return [(label, text) for label, text in parts if text]


class TokenUsage(models.Model):
    """Model calls, tokens and token cost per UTC hour or day, department, agent and model: what the figures read.

    Added to by traces.usage in the transaction that stores the spans, so it always matches them. It is not taken
    away when retention deletes old spans: what was spent stays spent. Token cost is in the organisation's currency;
    `unpriced_calls` had no price when they arrived (their tokens are counted, their cost is not)."""

    grain = models.CharField(max_length=4, choices=[("hour", "Hour"), ("day", "Day")])
    start = models.DateTimeField()
    # No constraints: a derived figure must never block (or be blocked by) the registry, as the decision rollups.
    department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    agent = models.ForeignKey(Agent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False)
    model = models.CharField(max_length=120)
    calls = models.BigIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal(0))
    unpriced_calls = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grain", "start", "department", "agent", "model"], name="token_usage_key")
        ]
        indexes = [
            models.Index(fields=["grain", "start"], name="token_usage_period"),
            models.Index(fields=["agent", "grain", "start"], name="token_usage_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.start:%Y-%m-%d %H}h, {self.model}: {self.calls} calls"


class TokenPrice(models.Model):
    """What a model's tokens cost, in the organisation's currency (ORG_CURRENCY), per thousand tokens.

    A span's model is priced by the longest entry it starts with, so `gpt-4o` prices `gpt-4o-2024-08-06`."""

    model = models.CharField(max_length=120, unique=True, help_text="The model's name as agents report it.")
    input_per_1k = models.DecimalField(
        "input, per 1,000 tokens", max_digits=12, decimal_places=6, validators=[MinValueValidator(Decimal("0"))]
    )
    output_per_1k = models.DecimalField(
        "output, per 1,000 tokens", max_digits=12, decimal_places=6, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return self.model


def _compiles(pattern: str) -> None:
    """Refuse what could not join the other patterns (traces.redaction scans with all of them at once)."""
    try:
        compiled = re.compile(f"(?:{pattern})")
    except re.error as exc:
        raise ValidationError(f"Not a regular expression Python can read here: {exc}.") from exc
    if compiled.groupindex:
        raise ValidationError("Named groups are not allowed; use plain groups (…) or (?:…).")
    if compiled.fullmatch(""):
        raise ValidationError("The pattern matches an empty text, so it would mask between every character.")


class RedactionPattern(models.Model):
    """One of the organisation's own patterns, masked in every span before it is stored (beside the built-in
    e-mail, phone, IBAN and card number patterns)."""

    name = models.CharField(max_length=60, unique=True, help_text="Shown in place of what it masks: [name].")
    pattern = models.CharField(max_length=500, validators=[_compiles], help_text="A Python regular expression.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContentSetting(models.Model):
    """Whether a department's agents' message content is kept: off, messages, system instructions and tool
    arguments and results are dropped at ingest and never stored. A department without a row keeps them."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="trace_content")
    keep_content = models.BooleanField(
        default=True, help_text="Keep the prompts, answers and tool arguments and results agents send."
    )

    def __str__(self) -> str:
        return f"{self.department}: {'kept' if self.keep_content else 'not kept'}"
