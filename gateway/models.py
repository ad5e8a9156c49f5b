"""Upstream MCP servers, the tools Regent exposes from them, and each call an agent made through the gateway."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from governance.models import Decision
from orchestration.models import Agent, Capability
from orchestration.models.registry import capability_code

SECRET_SHOWN = 4  # characters of a credential the admin shows back, so a person can tell two apart


def argument_path(value: str) -> None:
    """A dotted path into a tool's arguments (`invoice.total`); list items by index (`lines.0.amount`)."""
    if value and any(not part for part in value.split(".")):
        raise ValidationError(f"“{value}” is not a dotted path such as invoice.total.")


class UpstreamServer(models.Model):
    """An MCP server (Streamable HTTP) whose tools agents reach through Regent."""

    name = models.CharField(max_length=120, unique=True)
    url = models.URLField(help_text="Its Streamable HTTP endpoint, e.g. https://tools.example.com/mcp.")
    credential_header = models.CharField(
        max_length=80, default="Authorization", help_text="The HTTP header Regent sends the credential in."
    )
    credential = models.CharField(
        max_length=500,
        blank=True,
        help_text="Sent to the server with every call (e.g. “Bearer …”); never shown back in full, never logged.",
    )
    timeout_seconds = models.PositiveSmallIntegerField(default=30, help_text="How long one call may take.")
    enabled = models.BooleanField(default=True, help_text="Off: none of its tools are listed or called.")

    class Meta:
        ordering = ["name"]
        verbose_name = "upstream MCP server"

    def __str__(self) -> str:
        return self.name

    def credential_hint(self) -> str:
        if not self.credential:
            return "none"
        return f"set, ending …{self.credential[-SECRET_SHOWN:]}" if len(self.credential) > 3 * SECRET_SHOWN else "set"

    def headers(self) -> dict[str, str]:
        return {self.credential_header: self.credential} if self.credential else {}


class GatewayTool(models.Model):
    """One upstream tool as agents see it: who may call it, the action it is governed as, and where in its
    arguments the resource, amount, currency and data classes are."""

    server = models.ForeignKey(UpstreamServer, on_delete=models.CASCADE, related_name="tools")
    name = models.CharField(max_length=128, help_text="The tool's name, as the upstream server and agents know it.")
    description = models.TextField(blank=True)
    input_schema = models.JSONField(default=dict, blank=True, help_text="The arguments' JSON Schema, from upstream.")
    exposed = models.BooleanField(default=False, help_text="Listed to, and callable by, agents with the capability.")
    capability = models.ForeignKey(
        Capability,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gateway_tools",
        help_text="Agents holding it see and may call the tool. An exposed tool needs one.",
    )
    action = models.CharField(
        max_length=80,
        blank=True,
        validators=[capability_code],
        help_text="The action policies see; empty means “tool.<name>” (lower case, other characters as _).",
    )
    resource_path = models.CharField(max_length=200, blank=True, validators=[argument_path])
    amount_path = models.CharField(max_length=200, blank=True, validators=[argument_path])
    currency_path = models.CharField(max_length=200, blank=True, validators=[argument_path])
    data_classes_path = models.CharField(
        max_length=200, blank=True, validators=[argument_path], help_text="A list of data classes, or one."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["server", "name"], name="gateway_tool_once_per_server"),
            models.UniqueConstraint(fields=["name"], condition=Q(exposed=True), name="gateway_exposed_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.server})"

    @property
    def governed_action(self) -> str:
        if self.action:
            return self.action
        word = re.sub(r"[^a-z0-9_]", "_", self.name.lower())
        return f"tool.{word if word[:1].isalpha() else 't' + word}"[:80]

    def clean(self) -> None:
        if self.exposed and self.capability_id is None:
            raise ValidationError({"capability": "Say which capability lets an agent call this tool."})
        clash = GatewayTool.objects.filter(name=self.name, exposed=True).exclude(pk=self.pk)
        if self.exposed and clash.exists():
            raise ValidationError({"exposed": f"Another server already exposes a tool named {self.name}."})


class ToolCall(models.Model):
    """A tools/call through the gateway: what was asked, what Regent decided, what the upstream answered."""

    class Status(models.TextChoices):
        FORWARDED = "forwarded", "Forwarded"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        DENIED = "denied", "Denied"
        REJECTED = "rejected", "Rejected by a person"
        EXPIRED = "expired", "Expired waiting for a person"
        WITHDRAWN = "withdrawn", "Withdrawn (the agent was stopped)"

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="tool_calls")
    tool = models.ForeignKey(GatewayTool, on_delete=models.SET_NULL, null=True, related_name="calls")
    tool_name = models.CharField(max_length=128)
    # No database constraint: retention deletes decisions on their own schedule and tool calls on theirs
    # (gateway.apps), and a call must never keep a decision past its time.
    decision = models.OneToOneField(
        Decision, on_delete=models.DO_NOTHING, db_constraint=False, related_name="tool_call"
    )
    traceparent = models.CharField(max_length=55, help_text="The W3C trace context the call ran in.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FORWARDED)
    detail = models.TextField(blank=True, help_text="Why it was refused, or the upstream's error.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    upstream_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time the upstream took, ms.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["agent", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.tool_name} by {self.agent_id} ({self.status})"
