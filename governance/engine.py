"""The policy engine: which policies can apply to a request, and what they decide together.

Pure computation over an immutable index of compiled policy versions; it reads no database
itself. `governance.evaluation` feeds it the agent, the request and the stateful inputs, and writes
what it returns.
"""

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import cel
from django.db.models import Count, F, Max

from governance.condition_cost import RequestData
from governance.conditions import CompiledCondition, ConditionError, compile_condition, refused_condition
from governance.models import Effect, Mode, PolicyVersion, Verdict
from governance.models.policy import action_matches
from governance.risk import base_risk, clamp

PRECEDENCE = {Effect.ALLOW: 0, Effect.FLAG: 1, Effect.REQUIRE_APPROVAL: 2, Effect.DENY: 3}
PAST_TENSE = {
    Effect.ALLOW: "Allowed",
    Effect.FLAG: "Flagged",
    Effect.REQUIRE_APPROVAL: "Held for approval",
    Effect.DENY: "Denied",
}
SHADOW_RISK_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy_id: int
    version_id: int
    number: int
    name: str
    rationale: str
    effect: str
    mode: str
    priority: int
    risk_weight: int
    approver_role: str
    approval_deadline_minutes: int
    agent_ids: frozenset[int]
    capability_codes: frozenset[str]
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    condition: CompiledCondition

    def applies_to(self, agent_id: int, capability_codes: frozenset[str], now: dt.datetime) -> bool:
        if self.agent_ids and agent_id not in self.agent_ids:
            return False
        if self.capability_codes and not (self.capability_codes & capability_codes):
            return False
        if self.valid_from and now < self.valid_from:
            return False
        return not (self.valid_until and now >= self.valid_until)


def compile_version(version_id: int, policy_id: int, number: int, snapshot: dict) -> CompiledPolicy:
    def when(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value else None

    try:
        condition = compile_condition(snapshot["condition"])
    except ConditionError as exc:  # stored before a check it fails existed: it fails closed, see _evaluate
        condition = refused_condition(snapshot["condition"], str(exc))

    return CompiledPolicy(
        policy_id=policy_id,
        version_id=version_id,
        number=number,
        name=snapshot["name"],
        rationale=snapshot["rationale"],
        effect=snapshot["effect"],
        mode=snapshot["mode"],
        priority=snapshot["priority"],
        risk_weight=snapshot["risk_weight"],
        approver_role=snapshot["approver_role"],
        approval_deadline_minutes=snapshot["approval_deadline_minutes"],
        agent_ids=frozenset(snapshot["agent_ids"]),
        capability_codes=frozenset(snapshot["capability_codes"]),
        valid_from=when(snapshot["valid_from"]),
        valid_until=when(snapshot["valid_until"]),
        condition=condition,
    )


class PolicyIndex:
    """Enabled policies bucketed by (action, department), so a request only meets those that can apply."""

    def __init__(
        self, entries: Iterable[tuple[CompiledPolicy, list[str], list[int]]], set_version: tuple[int, int] = (0, 0)
    ):
        self.set_version = set_version
        self.size = 0
        self._exact: dict[tuple[str | None, int | None], list[CompiledPolicy]] = {}
        # Patterns by (the action family before the first ".", department): "invoice.*" is only tried on
        # invoice actions, so patterns for other families cost nothing.
        self._globs: dict[tuple[str, int | None], list[tuple[list[str], CompiledPolicy]]] = {}
        for policy, actions, department_ids in entries:
            self.size += 1
            exact = [a for a in actions if "*" not in a] or ([] if actions else [None])
            patterns = [a for a in actions if "*" in a]
            if "*" in patterns:
                exact, patterns = [None], []
            for department_id in department_ids or [None]:
                for action in exact:
                    self._exact.setdefault((action, department_id), []).append(policy)
                for family in {_family(p) for p in patterns}:
                    self._globs.setdefault((family, department_id), []).append((patterns, policy))

    def candidates(
        self, action: str, agent_id: int, department_id: int, capability_codes: frozenset[str], now: dt.datetime
    ) -> list[CompiledPolicy]:
        found: dict[int, CompiledPolicy] = {}
        for key in ((action, department_id), (action, None), (None, department_id), (None, None)):
            for policy in self._exact.get(key, ()):
                found[policy.policy_id] = policy
        family = _family(action)
        for key in ((family, department_id), (family, None), ("", department_id), ("", None)):
            for patterns, policy in self._globs.get(key, ()):
                if policy.policy_id not in found and action_matches(patterns, action):
                    found[policy.policy_id] = policy
        applicable = [p for p in found.values() if p.applies_to(agent_id, capability_codes, now)]
        applicable.sort(key=lambda p: (-p.priority, p.policy_id))
        return applicable


def _family(action_or_pattern: str) -> str:
    """The literal part before the first ".", or "" when a pattern is wild there."""
    head, dot, _ = action_or_pattern.partition(".")
    return "" if "*" in head or not dot else head


def build_index(versions: Iterable[PolicyVersion], set_version: tuple[int, int] = (0, 0)) -> PolicyIndex:
    """Compile the enabled policies among these versions into an index."""
    entries = []
    for version in versions:
        snapshot = version.snapshot
        if not snapshot["enabled"]:
            continue
        compiled = compile_version(version.pk, version.policy_id, version.number, snapshot)
        actions = [a.strip() for a in snapshot["actions"].replace("\n", ",").split(",") if a.strip()]
        entries.append((compiled, actions, snapshot["department_ids"]))
    return PolicyIndex(entries, set_version)


_cache_lock = threading.Lock()
_cached_index = PolicyIndex([], (-1, -1))


def policy_set_version() -> tuple[int, int]:
    """Versions are only ever added, but ids are not handed out in commit order: the count sees a late commit."""
    stored = PolicyVersion.objects.aggregate(count=Count("id"), latest=Max("id"))
    return stored["count"], stored["latest"] or 0


def current_index(set_version: tuple[int, int] | None = None) -> PolicyIndex:
    """The index for the policy set as it stands now; rebuilt in this process when any policy changes.

    A caller that has just read the set's version (see `governance.acting_agent`) passes it to save a query.
    """
    global _cached_index
    set_version = set_version or policy_set_version()
    index = _cached_index
    if index.set_version == set_version:
        return index
    with _cache_lock:
        if _cached_index.set_version != set_version:
            current = PolicyVersion.objects.filter(number=F("policy__version"))
            _cached_index = build_index(current, set_version)
        return _cached_index


@dataclass(frozen=True)
class Subject:
    """The acting agent and its department, as conditions see them."""

    agent_id: int
    department_id: int
    capability_codes: frozenset[str]
    risk_tier: int
    monthly_budget: float
    default_verdict: str
    department_name: str
    agent: dict
    department: dict


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = ""
    amount: float = 0.0
    currency: str = ""
    data_classes: tuple[str, ...] = ()
    context: dict = field(default_factory=dict)


@dataclass
class Hit:
    policy: CompiledPolicy
    error: str = ""


@dataclass
class Ruling:
    verdict: str
    shadow_verdict: str
    hits: list[Hit]
    shadow_hits: list[Hit]
    evaluated_version_ids: list[int]
    risk_score: int
    explanation: str
    inputs: dict
    approval_policy: CompiledPolicy | None = None


class Inputs:
    """Stateful inputs (spend, counts), computed at most once per request and only when a condition asks."""

    NAMES = ("agent_spend_month", "department_spend_month", "agent_actions_last_hour")

    def __init__(self, providers: dict[str, Callable[[], float | int]]):
        self._providers = providers
        self.values: dict[str, float | int] = {}

    def function(self, name: str) -> Callable[[], float | int]:
        def compute() -> float | int:
            if name not in self.values:
                self.values[name] = self._providers[name]()
            return self.values[name]

        return compute


def _strongest(hits: list[Hit], default: str) -> str:
    if not hits:
        return default
    return max((h.policy.effect for h in hits), key=PRECEDENCE.__getitem__)


def candidates_for(index: PolicyIndex, subject: Subject, request: Request, now: dt.datetime) -> list[CompiledPolicy]:
    return index.candidates(request.action, subject.agent_id, subject.department_id, subject.capability_codes, now)


def needs_stateful_inputs(candidates: list[CompiledPolicy]) -> bool:
    return any(p.condition.functions for p in candidates)


def decide(
    candidates: list[CompiledPolicy], subject: Subject, request: Request, now: dt.datetime, inputs: Inputs
) -> Ruling:
    """Evaluate the applicable policies and combine: deny > require approval > flag > allow."""
    hits: list[Hit] = []
    shadow_hits: list[Hit] = []
    if candidates:
        context, data = _context_for(candidates, subject, request, now, inputs)
        for policy in candidates:
            hit = _evaluate(policy, context, data)
            if hit is not None:
                (shadow_hits if policy.mode == Mode.SHADOW else hits).append(hit)

    verdict = _strongest(hits, subject.default_verdict)
    shadow_verdict = _strongest(hits + shadow_hits, subject.default_verdict)
    approval_policy = None
    if verdict == Verdict.REQUIRE_APPROVAL:
        approval_policy = next((h.policy for h in hits if h.policy.effect == Effect.REQUIRE_APPROVAL), None)

    risk = base_risk(subject.risk_tier, request.amount, subject.monthly_budget, list(request.data_classes))
    risk += sum(h.policy.risk_weight for h in hits if h.policy.effect != Effect.ALLOW)
    risk += SHADOW_RISK_SHARE * sum(h.policy.risk_weight for h in shadow_hits if h.policy.effect != Effect.ALLOW)
    return Ruling(
        verdict=verdict,
        shadow_verdict=shadow_verdict,
        hits=hits,
        shadow_hits=shadow_hits,
        evaluated_version_ids=[p.version_id for p in candidates],
        risk_score=clamp(risk),
        explanation=explain(verdict, hits, shadow_hits, subject),
        inputs=dict(inputs.values),
        approval_policy=approval_policy,
    )


def _context_for(
    candidates: list[CompiledPolicy], subject: Subject, request: Request, now: dt.datetime, inputs: Inputs
) -> tuple[cel.Context, RequestData]:
    """The request as CEL values, converting only the names these conditions read: converting is the cost.
    With them, the same values as Python data, for sizing before a condition whose cost depends on them runs."""
    names = frozenset().union(*(p.condition.variables for p in candidates))
    values = {
        "agent": lambda: subject.agent,
        "department": lambda: subject.department,
        "action": lambda: request.action,
        "resource": lambda: request.resource,
        "amount": lambda: float(request.amount),
        "currency": lambda: request.currency,
        "data_classes": lambda: list(request.data_classes),
        "context": lambda: request.context,
        "now": lambda: now,
    }
    read = {name: values[name]() for name in names}
    context = cel.Context(read)
    for name in frozenset().union(*(p.condition.functions for p in candidates)):
        context.add_function(name, inputs.function(name))
    return context, RequestData(read)


def _evaluate(policy: CompiledPolicy, context: cel.Context, data: RequestData) -> Hit | None:
    """A hit when the condition holds. A condition that cannot be evaluated fails closed: a guard
    (deny, approval, flag) counts as fired, an allow does not. So does one that would cost more than the
    limit on this request's data (ConditionTooCostly, raised before it runs: the runtime cannot be stopped)."""
    try:
        return Hit(policy) if policy.condition.evaluate(context, data) else None
    except KeyError as exc:
        error = f"the request has no context key {exc}"
    except (TypeError, RuntimeError, ValueError, LookupError, ArithmeticError) as exc:
        error = str(exc).split(". ", 1)[0]
    return None if policy.effect == Effect.ALLOW else Hit(policy, error)


def explain(verdict: str, hits: list[Hit], shadow_hits: list[Hit], subject: Subject) -> str:
    lines = []
    if not hits:
        lines.append(f"No enforced policy applied; the {subject.department_name} default ({verdict}) stands.")
    for hit in hits:
        lines.append(_line(PAST_TENSE[hit.policy.effect], hit))
    for hit in shadow_hits:
        lines.append(_line(f"Shadow: would have {PAST_TENSE[hit.policy.effect].lower()}", hit))
    return "\n".join(lines)


def _line(lead: str, hit: Hit) -> str:
    text = f"{lead} by “{hit.policy.name}” (v{hit.policy.number}): {hit.policy.rationale}"
    if hit.error:
        text += f" [condition could not be evaluated: {hit.error}; treated as fired]"
    return text
