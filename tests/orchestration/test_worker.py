"""The real thing: Celery workers on a Redis broker and PostgreSQL. A worker killed mid-step loses nothing and
doubles nothing: its task is redelivered to a new worker, which finishes the run with each step done once.

The workers are separate processes started with `python -m celery -A config worker`; nothing in them is
patched. The slow step is slow because its provider is: a webhook endpoint in this test that takes
SLOW_CALL_SECONDS to answer the first call for that step.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import kombu.pools
import pytest
import redis
from django.db import connection

from audit.models import AuditEvent
from config.celery import app as celery_app
from governance.models import Decision, Outcome
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, ModelProvider, Status
from tests.factories import ModelProviderFactory
from tests.support.audit import wait_until_sequenced
from tests.support.endpoints import Endpoint, Received
from tests.support.parallel import broker_url
from tests.support.servers import INHERITED_SETTINGS, PROJECT_ROOT, reachable
from tests.support.workflows import INVOICE, INVOICE_CAPABILITIES, steps_of
from workflows import runtime
from workflows.models import StepRun, WorkflowRun

pytestmark = [
    pytest.mark.processes,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]

BROKER_URL = broker_url()  # a database of its own (of this xdist worker's), flushed before and after
VISIBILITY_TIMEOUT_SECONDS = 5  # an unacknowledged task goes back to the queue this long after delivery
SLOW_CALL_SECONDS = 3
WORKER_APPLICATION_NAME = "regent-test-worker"  # how the workers' database connections name themselves
WAIT_SECONDS = 60


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout} s waiting until {what}")
        time.sleep(0.1)


@pytest.fixture
def worker_database_url(transactional_db) -> str:
    """The test database pytest-django created on PostgreSQL, for the workers to share with the test."""
    return urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


def _use_broker(url: str) -> None:
    """Send this process's tasks to `url`: drop the connection and producer pools made for the old one."""
    celery_app.conf.broker_url = url
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()  # producers kombu keeps per process would otherwise hold the closed pool


@pytest.fixture
def broker() -> Iterator[str]:
    """A flushed Redis database as the broker of this process's tasks; they go to it, not run in process."""
    if not reachable(BROKER_URL, 6379):
        pytest.skip(f"needs Redis at {urlsplit(BROKER_URL).netloc}")
    store = redis.Redis.from_url(BROKER_URL)
    store.flushdb()
    previous = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    _use_broker(BROKER_URL)
    celery_app.conf.task_always_eager = False
    yield BROKER_URL
    celery_app.conf.task_always_eager = previous[1]
    _use_broker(previous[0])
    store.flushdb()
    store.close()


class Workers:
    """Celery worker processes, each in a process group of its own so that all of it can be killed at once."""

    def __init__(self, database_url: str, broker_url: str, log_dir: Path) -> None:
        self.env = {name: value for name, value in os.environ.items() if name not in INHERITED_SETTINGS}
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url,
            REDIS_URL=broker_url,
            CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_SECONDS),
            PGAPPNAME=WORKER_APPLICATION_NAME,
        )
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def log(self, process: subprocess.Popen) -> str:
        return (self.log_dir / f"worker-{process.pid}.log").read_text(errors="replace")

    def start(self) -> subprocess.Popen:
        name = f"orchestration-test-{time.monotonic_ns()}@%h"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "-Q",
            "celery",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
            f"--hostname={name}",
        ]
        log_path = self.log_dir / "starting.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (a fixed command line)
                command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        log_path.rename(self.log_dir / f"worker-{process.pid}.log")
        self.processes.append(process)
        wait_until(lambda: " ready." in self.log(process) or process.poll() is not None, "the worker is ready")
        assert process.poll() is None, f"the worker exited:\n{self.log(process)}"
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool processes: nothing is acknowledged, nothing cleans up."""
        self.processes.remove(process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def kill_all(self) -> None:
        for process in list(self.processes):
            self.kill(process)


@pytest.fixture
def workers(worker_database_url, broker, tmp_path) -> Iterator[Workers]:
    started = Workers(worker_database_url, broker, tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


class SlowOnce:
    """The webhook's work: the first call for the approval takes SLOW_CALL_SECONDS, every other call is quick."""

    def __init__(self) -> None:
        self.slow_call_started = threading.Event()
        self.started_at = 0.0

    def __call__(self, request: Received) -> tuple[int, dict]:
        work = request.json()
        if work["action"] == "invoice.approve" and not self.slow_call_started.is_set():
            self.started_at = time.time()
            self.slow_call_started.set()
            time.sleep(SLOW_CALL_SECONDS)
        return 200, {"cost": "0.40", "value": "25", "csat": 5, "output": {"done": work["idempotency_key"]}}


@pytest.fixture
def slow_once() -> SlowOnce:
    return SlowOnce()


@pytest.fixture
def webhook(serve, slow_once) -> Endpoint:
    return serve(slow_once)


@pytest.fixture
def clerk_on_webhook(hire, invoice_workflow, webhook) -> Agent:
    provider = ModelProviderFactory(name="Invoice service", kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=webhook.url)
    return hire("clerk", *INVOICE_CAPABILITIES, provider=provider)


@pytest.mark.parametrize("replacement", ["after the timeout", "at once"])
def test_a_run_survives_its_worker_being_killed_mid_step_with_each_step_done_once(
    workers, invoice_workflow, clerk_on_webhook, webhook, slow_once, replacement
):
    # Given a worker, and a run whose approval step is in the middle of a slow call to its webhook
    first = workers.start()
    run = runtime.start_workflow(invoice_workflow, INVOICE, started_by="user:alice")
    approve = run.steps.get(template__key="approve")
    wait_until(slow_once.slow_call_started.is_set, "the approval's webhook call started")
    approve.refresh_from_db()
    assert approve.status == StepRun.Status.RUNNING

    # When the worker is killed outright, and a new one starts: once the task's visibility timeout has passed
    # (a starting worker puts such tasks back on the queue at once), or at once (then its sweep of
    # unacknowledged tasks, every 10 s with the settings' transport options, finds it; kombu's default
    # scans every ~100 s, past this test's patience)
    workers.kill(first)
    if replacement == "after the timeout":
        time.sleep(max(0.0, slow_once.started_at + VISIBILITY_TIMEOUT_SECONDS + 1 - time.time()))
    workers.start()

    # Then the new worker finishes the run, every step succeeded once
    def finished() -> bool:
        run.refresh_from_db()
        return run.status not in (WorkflowRun.Status.RUNNING, WorkflowRun.Status.AWAITING_APPROVAL)

    wait_until(finished, "the run finished")
    wait_until_sequenced()  # the worker's last events reach the chain through the sequencer
    steps = steps_of(run)
    assert run.status == WorkflowRun.Status.SUCCEEDED, {key: (step.status, step.error) for key, step in steps.items()}
    assert {key: step.status for key, step in steps.items()} == dict.fromkeys(steps, StepRun.Status.SUCCEEDED)
    succeeded = Counter(
        event.after["step"]
        for event in AuditEvent.objects.filter(kind="workflow.step_changed", after__status="succeeded")
    )
    assert succeeded == dict.fromkeys(steps, 1)
    # … governance was asked once per step, each decision has its one outcome, and the payment was spent once
    assert Decision.objects.count() == len(steps) == 3
    assert Outcome.objects.count() == 3
    assert all(step.decision.outcome.result == Outcome.Result.SUCCESS for step in steps.values())
    clerk_on_webhook.refresh_from_db()
    assert clerk_on_webhook.month_spent == Decimal(INVOICE["amount"])
    # … and the webhook saw the redelivered approval under the same idempotency key as the call that was cut off
    keys = Counter(request.headers["Idempotency-Key"] for request in webhook.received)
    assert keys == {runtime._order_key(step): 2 if key == "approve" else 1 for key, step in steps.items()}


LONG_CALL_SECONDS = 8  # under the webhook provider's 10 s timeout: only a revocation ends it sooner


@pytest.fixture
def long_approval(serve, hire, invoice_workflow) -> tuple[Agent, threading.Event]:
    """A clerk whose webhook takes LONG_CALL_SECONDS over the approval; the event is set when that call starts."""
    started = threading.Event()

    def answer(request: Received) -> tuple[int, dict]:
        if request.json()["action"] == "invoice.approve":
            started.set()
            time.sleep(LONG_CALL_SECONDS)
        return 200, {"cost": "0.40", "value": "25", "csat": 5, "output": {}}

    endpoint = serve(answer)
    provider = ModelProviderFactory(name="Slow service", kind=ModelProvider.Kind.HTTP_WEBHOOK, endpoint=endpoint.url)
    return hire("clerk", *INVOICE_CAPABILITIES, provider=provider), started


def test_killing_an_agent_revokes_the_task_calling_its_provider(workers, invoice_workflow, long_approval):
    # Given a worker in the middle of the approval's long provider call
    clerk, call_started = long_approval
    worker = workers.start()
    run = runtime.start_workflow(invoice_workflow, INVOICE, started_by="user:alice")
    wait_until(call_started.is_set, "the approval's provider call started")
    approve = run.steps.get(template__key="approve")
    assert approve.status == StepRun.Status.RUNNING and approve.task_id

    # When the agent is killed
    killed_at = time.monotonic()
    change_agent_status(clerk, Status.KILLED)

    # Then the worker terminates that task well before the call would have returned, and the step has failed
    wait_until(lambda: f"Terminating {approve.task_id}" in workers.log(worker), "the worker terminated the task", 5)
    active = celery_app.control.inspect(timeout=2).active() or {}
    assert approve.task_id not in {task["id"] for tasks in active.values() for task in tasks}
    assert time.monotonic() - killed_at < LONG_CALL_SECONDS
    approve.refresh_from_db()
    assert approve.status == StepRun.Status.FAILED and "was killed" in approve.error
    run.refresh_from_db()
    assert run.status == WorkflowRun.Status.FAILED


def _worker_connections_opened() -> list:
    """When each of the workers' open database connections was opened."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_start FROM pg_stat_activity WHERE application_name = %s", [WORKER_APPLICATION_NAME]
        )
        return [opened for (opened,) in cursor.fetchall()]


def test_a_worker_keeps_its_database_connections_from_task_to_task(workers, invoice_workflow, hire):
    # Given a worker that has carried out one run
    hire("clerk", *INVOICE_CAPABILITIES, risk_tier=1)
    workers.start()

    def carry_out_a_run() -> None:
        run = runtime.start_workflow(invoice_workflow, {}, started_by="user:alice")
        wait_until(
            lambda: WorkflowRun.objects.get(pk=run.pk).status == WorkflowRun.Status.SUCCEEDED, "the run succeeded"
        )

    carry_out_a_run()

    # When it carries out another
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (second_started,) = cursor.fetchone()
    carry_out_a_run()

    # Then connections it opened for the first run are still open, where each task used to open its own and
    # close them (a pool process that sat the first run out may open its own during the second)
    opened = _worker_connections_opened()
    assert opened, "the worker holds no database connection between tasks"
    assert any(at < second_started for at in opened)
