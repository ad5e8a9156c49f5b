"""The Policies page: each policy's rule in plain words, its version and mode, and what it hit recently."""

from dataclasses import dataclass

from django.db.models import Q

from dashboard.condition_words import in_words
from dashboard.kpis.risk import policy_hits
from dashboard.periods import Period
from governance.models import Effect, Mode, Policy
from orchestration.roles import sees_whole_organisation
from orchestration.scoping import visible_departments

EFFECT_WORDS = {
    Effect.DENY: "Refuses",
    Effect.REQUIRE_APPROVAL: "Holds for a person's approval",
    Effect.FLAG: "Allows but flags for review",
    Effect.ALLOW: "Allows",
}


@dataclass(frozen=True)
class PolicyRow:
    policy: Policy
    rule: str
    enforcing: bool
    hits_enforced: int
    hits_shadow: int


def policy_rows(user, period: Period) -> list[PolicyRow]:
    """The policies that can apply to the person's departments, highest priority first, with the period's hits."""
    policies = Policy.objects.prefetch_related("departments", "agents", "capabilities").order_by("-priority", "name")
    if not sees_whole_organisation(user):
        mine = visible_departments(user)
        policies = policies.filter(Q(departments__isnull=True) | Q(departments__in=mine)).distinct()
    hits = {row.policy: row for row in policy_hits(user, period, limit=10_000)}  # names are unique
    rows = []
    for policy in policies:
        hit = hits.get(policy.name)
        rows.append(
            PolicyRow(
                policy=policy,
                rule=describe_rule(policy),
                enforcing=policy.mode == Mode.ENFORCE,
                hits_enforced=hit.enforced if hit else 0,
                hits_shadow=hit.shadow if hit else 0,
            )
        )
    return rows


def describe_rule(policy: Policy) -> str:
    """The rule as a sentence: "Refuses any payment action by agents in Finance when the amount is more than 10,000
    EUR."; a condition beyond condition_words' vocabulary reads "when its condition holds"."""
    effect = EFFECT_WORDS.get(policy.effect, policy.get_effect_display())
    if policy.effect == Effect.REQUIRE_APPROVAL and policy.approver_role:
        effect = f"Holds for approval by the {policy.get_approver_role_display().lower()}"
    parts = [effect, _actions(policy.action_patterns), _who(policy)]
    if policy.condition.strip():
        parts.append(f"when {in_words(policy.condition) or 'its condition holds'}")
    return " ".join(parts) + "."


def _actions(patterns: list[str]) -> str:
    if not patterns or patterns == ["*"]:
        return "any action"
    words = [f"any {p[:-2].replace('_', ' ')} action" if p.endswith(".*") else _action_name(p) for p in patterns]
    return _join(words)


def _action_name(action: str) -> str:
    return "“" + action.replace(".", " ").replace("_", " ") + "”"


def _who(policy: Policy) -> str:
    agents = [a.name for a in policy.agents.all()]
    departments = [d.name for d in policy.departments.all()]
    capabilities = [c.code for c in policy.capabilities.all()]
    if agents:
        who = f"by {_join(agents)}"
    elif departments:
        who = f"by agents in {_join(departments)}"
    else:
        who = "by any agent"
    if capabilities:
        who += f" that can {_join([_action_name(c) for c in capabilities], 'or')}"
    return who


def _join(words: list[str], last: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
