"""Fixtures for running workflows: an invoice workflow of three steps, agents hired for its capabilities,
a stand-in provider that records every call, and small HTTP endpoints for the real provider kinds.

Tasks run in process whatever broker the environment names. A task is queued when its transaction
commits: `run_workflow` (or `django_capture_on_commit_callbacks(execute=True)`) runs those commits'
tasks one after another, as a worker would; a test that does neither drives the steps one task at a time.
"""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

import pytest

from config.celery import app as celery_app
from orchestration.models import Agent
from tests.factories import (
    AgentFactory,
    CapabilityFactory,
    ModelProviderFactory,
    StepTemplateFactory,
    WorkflowTemplateFactory,
)
from tests.governance.conftest import fresh_policy_index, make_policy  # noqa: F401 (shared fixtures)
from workflows import providers, runtime, tasks
from workflows.models import StepRun, WorkflowRun, WorkflowTemplate

INVOICE = {"invoice": "INV-2026-0042", "vendor": "ACME Paper", "amount": 1200, "currency": "EUR"}
INVOICE_CAPABILITIES = ("invoice.read", "invoice.approve", "payment.send")


@pytest.fixture(autouse=True)
def tasks_run_in_process() -> Iterator[None]:
    """Tasks run in the test's process and transaction, even when REDIS_URL names a broker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def work_done_by(agent: Agent) -> providers.WorkResult:
    return providers.WorkResult(cost=Decimal("0.50"), value=Decimal("20.00"), csat=4, output={"done_by": agent.slug})


class Call(NamedTuple):
    agent: str
    action: str
    idempotency_key: str


@dataclass
class FakeProvider:
    """Stands in for every provider kind. It records each call, fails for the agents that are down, and
    can run something while a call is in flight (a kill switch pressed, a late result arriving)."""

    calls: list[Call] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    while_working: Callable[[Agent, providers.WorkOrder], None] | None = None

    def perform(self, agent: Agent, order: providers.WorkOrder) -> providers.WorkResult:
        self.calls.append(Call(agent.slug, order.action, order.idempotency_key))
        if self.while_working is not None:
            self.while_working(agent, order)
        if agent.slug in self.down:
            raise providers.ProviderError(f"{agent.slug} is down")
        return work_done_by(agent)

    @property
    def agents_called(self) -> list[str]:
        return [call.agent for call in self.calls]

    @property
    def actions_done(self) -> list[str]:
        return [call.action for call in self.calls]


@pytest.fixture
def fake_provider(monkeypatch) -> FakeProvider:
    fake = FakeProvider()
    monkeypatch.setattr(providers, "perform", fake.perform)
    return fake


@pytest.fixture
def hire(finance) -> Callable[..., Agent]:
    """An agent holding the given capabilities; unless given one, with a simulated provider of its own
    so that its unit cost is its own."""

    def make(slug: str, *capability_codes: str, department=None, cost: str = "0.002", provider=None, **fields) -> Agent:
        provider = provider or ModelProviderFactory(name=f"{slug} provider", cost_per_unit=Decimal(cost))
        agent = AgentFactory(
            name=slug.replace("-", " ").title(), slug=slug, department=department or finance, provider=provider,
            **fields,
        )  # fmt: skip
        agent.capabilities.add(*(CapabilityFactory(code=code) for code in capability_codes))
        return agent

    return make


@pytest.fixture
def invoice_workflow(db) -> WorkflowTemplate:
    """Read an invoice, approve it, pay it: each step waits for the one before; paying spends the amount."""
    read, approve, pay = (CapabilityFactory(code=code) for code in INVOICE_CAPABILITIES)
    workflow = WorkflowTemplateFactory(name="Invoice payment", slug="invoice-payment", sample_input=INVOICE)
    StepTemplateFactory(workflow=workflow, key="read", capability=read, position=1)
    StepTemplateFactory(workflow=workflow, key="approve", capability=approve, depends_on="read", position=2)
    StepTemplateFactory(
        workflow=workflow, key="pay", capability=pay, depends_on="approve", amount_field="amount", position=3
    )
    return workflow


@pytest.fixture
def reply_workflow(db) -> WorkflowTemplate:
    """One step: reply to a customer ticket."""
    workflow = WorkflowTemplateFactory(name="Ticket reply", slug="ticket-reply")
    StepTemplateFactory(workflow=workflow, key="reply", capability=CapabilityFactory(code="ticket.reply"))
    return workflow


@pytest.fixture
def clerk(hire, invoice_workflow) -> Agent:
    """The Finance agent holding every capability the invoice workflow needs."""
    return hire("clerk", *INVOICE_CAPABILITIES)


@pytest.fixture
def run_workflow(django_capture_on_commit_callbacks) -> Callable[..., WorkflowRun]:
    """Start a run and carry out every task it leads to, each after the commit that queued it."""

    def run(workflow: WorkflowTemplate, run_input: dict | None = None) -> WorkflowRun:
        with django_capture_on_commit_callbacks(execute=True):
            started = runtime.start_workflow(
                workflow, dict(INVOICE if run_input is None else run_input), started_by="user:alice"
            )
        started.refresh_from_db()
        return started

    return run


@pytest.fixture
def queued_steps(monkeypatch) -> list[int]:
    """The step of every task queued, in order; the tasks still run."""
    queued: list[int] = []
    send = tasks.run_step.apply_async

    def watch(args, **options):
        queued.extend(args)
        return send(args, **options)

    monkeypatch.setattr(tasks.run_step, "apply_async", watch)
    return queued


def steps_of(run: WorkflowRun) -> dict[str, StepRun]:
    """The run's steps by key, as they stand now."""
    return {step.template.key: step for step in run.steps.select_related("template", "agent")}


# Endpoints for the webhook and OpenAI-compatible providers.


@dataclass(frozen=True)
class Received:
    path: str
    headers: Message
    body: bytes

    def json(self):
        return json.loads(self.body)


Answer = Callable[[Received], tuple[int, object]]


class Endpoint:
    """An HTTP server on 127.0.0.1, in a thread of the test: it records each POST and answers with
    `answer(request)`, a status and a JSON-ready body (bytes are sent as they are)."""

    def __init__(self, answer: Answer) -> None:
        self.received: list[Received] = []
        self.answer = answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-endpoint", daemon=True
        )
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = Received(self.path, self.headers, self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.received.append(request)
                status, body = endpoint.answer(request)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the caller stopped waiting (it timed out, or its process was killed)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], Endpoint]]:
    """Start endpoints that answer as told; all are stopped after the test."""
    endpoints: list[Endpoint] = []

    def start(answer: Answer) -> Endpoint:
        endpoint = Endpoint(answer)
        endpoints.append(endpoint)
        return endpoint

    yield start
    for endpoint in endpoints:
        endpoint.stop()
