"""Policy tests: example requests a policy carries with the verdict they must get.

An example runs against the whole policy set with its own policy enforced, so a shadow policy's
examples say what it will do once enforced.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from governance import engine
from governance.evaluation import engine_request, live_inputs, subject_of
from governance.models import Mode, Policy, PolicyExample
from governance.policies import as_enforced, proposed_index, record_policy_version, snapshot_of
from restapi.domain_errors import DomainError


@dataclass(frozen=True)
class ExampleResult:
    example: PolicyExample
    verdict: str
    explanation: str

    @property
    def passed(self) -> bool:
        return self.verdict == self.example.expected_verdict


class PolicyExamplesFailed(DomainError):
    code = "examples_fail"

    def __init__(self, policy: Policy, failures: list[ExampleResult]):
        self.failures = failures
        lines = [f"“{r.example.description}” expected {r.example.expected_verdict}, got {r.verdict}" for r in failures]
        super().__init__(f"{policy.name}: {len(failures)} example(s) fail: " + "; ".join(lines))


def run_examples(policy: Policy, snapshot: dict | None = None) -> list[ExampleResult]:
    """Evaluate the policy's examples; `snapshot` tests a proposed change before it is saved."""
    examples = list(policy.examples.select_related("agent__department", "agent__provider"))
    if not examples:
        return []
    index = proposed_index({policy.pk: as_enforced(snapshot or snapshot_of(policy))})
    now = timezone.now()
    results = []
    for example in examples:
        agent = example.agent
        subject = subject_of(agent, frozenset(agent.capabilities.values_list("code", flat=True)))
        request = engine_request(example.action_request())
        candidates = engine.candidates_for(index, subject, request, now)
        ruling = engine.decide(candidates, subject, request, now, live_inputs(agent, now))
        results.append(ExampleResult(example, ruling.verdict, ruling.explanation))
    return results


@transaction.atomic
def set_policy_mode(policy: Policy, mode: str, *, by=None) -> None:
    """Switch a policy between shadow and enforce; enforcing requires every example to pass."""
    if mode == Mode.ENFORCE:
        failures = [r for r in run_examples(policy) if not r.passed]
        if failures:
            raise PolicyExamplesFailed(policy, failures)
    if policy.mode == mode:
        return
    policy.mode = mode
    policy.save(update_fields=["mode", "updated_at"])
    record_policy_version(policy, by=by)
