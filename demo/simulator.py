"""Simulated agents acting live: they ask Regent through the same service function as real agents."""

import logging
import random
import threading
import time

from django.db import close_old_connections

from dashboard.tasks import fold_rollups
from demo.workload import make_outcome, make_request
from governance.approvals import escalate_overdue
from governance.evaluation import evaluate_action
from governance.models import Verdict
from governance.outcomes import report_outcome
from orchestration.models import Agent, Status
from workflows.models import WorkflowTemplate
from workflows.runtime import start_workflow

logger = logging.getLogger(__name__)
ESCALATION_SECONDS = 60
ROLLUP_SECONDS = 5
WORKFLOW_SHARE = 0.1


class Simulator:
    """Keeps producing agent actions at about `rate` per second until stopped."""

    def __init__(self, rate: float = 3.0, seed: int | None = None):
        self.rate = rate
        self.rng = random.Random(seed)
        self.actions = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="regent-simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def step(self) -> None:
        """One agent proposes one action (now and then, a whole workflow starts); allowed ones report."""
        if self.rng.random() < WORKFLOW_SHARE:
            self.start_workflow()
            return
        agents = list(Agent.objects.filter(status=Status.ACTIVE).prefetch_related("capabilities"))
        if not agents:
            return
        agent = self.rng.choice(agents)
        capabilities = [c.code for c in agent.capabilities.all()]
        if not capabilities:
            return
        request = make_request(self.rng, self.rng.choice(capabilities))
        decision = evaluate_action(agent, request)
        self.actions += 1
        if decision.verdict in (Verdict.ALLOW, Verdict.FLAG):
            outcome = make_outcome(self.rng, request.action, request.amount)
            report_outcome(decision, reported_by=f"agent:{agent.slug}", **outcome)

    def start_workflow(self) -> None:
        workflows_ = list(WorkflowTemplate.objects.filter(enabled=True))
        if not workflows_:
            return
        workflow = self.rng.choice(workflows_)
        run_input = dict(workflow.sample_input)
        if "amount" in run_input:  # some pass, some need a person, a few are refused
            run_input["amount"] = round(self.rng.lognormvariate(0, 1.0) * float(run_input["amount"]), 2)
        start_workflow(workflow, run_input, started_by="simulator")

    def _run(self) -> None:
        next_escalation = next_fold = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if started >= next_escalation:  # what Celery beat does in production
                    escalate_overdue()
                    next_escalation = started + ESCALATION_SECONDS
                if started >= next_fold:
                    fold_rollups()
                    next_fold = started + ROLLUP_SECONDS
                self.step()
            except Exception:
                logger.exception("simulated action failed; carrying on")
            finally:
                close_old_connections()
            delay = self.rng.expovariate(self.rate) - (time.monotonic() - started)
            self._stop.wait(max(0.0, delay))
