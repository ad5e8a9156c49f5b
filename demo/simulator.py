"""Simulated agents acting live: they ask Regent through the same service function as real agents.

They act at the company's pace (demo.pace), the one its history was seeded at, and the simulated approvers
(demo.approvers) answer held requests within minutes, so the pages show a calm, working company.
"""

import logging
import random
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from alerting.evaluation import evaluate_rules
from audit.tasks import sign_checkpoint
from dashboard.tasks import fold_rollups
from demo import pace
from demo.approvers import Approvers
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
APPROVERS_SECONDS = 15
WORKFLOW_SHARE = 0.1


class Simulator:
    """Keeps producing agent actions at the company's pace (`peak` actions per second at the busiest hour)."""

    def __init__(self, peak: float = pace.PEAK_RATE, seed: int | None = None):
        self.peak = peak
        self.rng = random.Random(seed)
        self.actions = 0
        self.approvers = Approvers(random.Random(None if seed is None else seed + 1))
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
        chores = {
            escalate_overdue: ESCALATION_SECONDS,
            fold_rollups: ROLLUP_SECONDS,
            self.approvers.work: APPROVERS_SECONDS,
            sign_checkpoint: settings.AUDIT_CHECKPOINT_SECONDS,  # the integrity page promises one this often
            evaluate_rules: settings.ALERT_EVALUATION_SECONDS,
        }
        due = dict.fromkeys(chores, time.monotonic())
        next_action = time.monotonic() + self._wait()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                for chore, every in chores.items():  # what Celery beat and the people do in production
                    if started >= due[chore]:
                        chore()
                        due[chore] = started + every
                if started >= next_action:
                    self.step()
                    next_action = started + self._wait()
            except Exception:
                logger.exception("simulated action failed; carrying on")
            finally:
                close_old_connections()
            self._stop.wait(max(0.0, min([next_action, *due.values()]) - time.monotonic()))

    def _wait(self) -> float:
        """Seconds to the next action: exponential at the company's rate now (a Poisson process)."""
        return min(self.rng.expovariate(pace.rate_at(timezone.now(), self.peak)), 3600.0)
