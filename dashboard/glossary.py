"""The words executives read, and what each one means: one definition per term for every page, the board
report, the API and the README's glossary (which repeats these sentences).

Verdicts, approver roles and audit event kinds are stored as codes (`require_approval`); people read them
through `verdict_label`, `role_label` and `event_label`, never as the code.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from governance.models import Verdict
from governance.models.policy import ApproverRole
from orchestration.models import Agent, Capability


@dataclass(frozen=True)
class Term:
    label: str
    definition: str


VIOLATION_RATE = "violations (decisions a policy denied or flagged) as a share of all decisions in the period"

TERMS: dict[str, Term] = {
    "decisions": Term(
        "Decisions",
        "Actions agents asked to take in the period, each answered by a policy check: allowed, flagged, sent to a "
        "person for approval, or denied.",
    ),
    "automation_rate": Term(
        "Automation rate", "Share of decisions settled without a person: everything not sent for approval."
    ),
    "escalation_rate": Term("Escalation rate", "Share of decisions the policies sent to a person for approval."),
    "violation": Term(
        "Violation",
        "A decision a policy denied or flagged. Flagged actions go ahead but are marked for review; denied ones "
        "do not happen.",
    ),
    "violation_rate": Term("Violation rate", VIOLATION_RATE[0].upper() + VIOLATION_RATE[1:] + "."),
    "override_rate": Term(
        "Override rate",
        "Violations a supervisor overrode (recorded that the verdict was wrong), as a share of the period's "
        "violations. An override executes nothing.",
    ),
    "rejection_rate": Term(
        "Rejection rate", "Of the requests a person decided, the share they rejected rather than approved."
    ),
    "median_approval_seconds": Term(
        "Median time to approval",
        "Half the requests a person decided were decided within this time, counted from the request.",
    ),
    "spend": Term(
        "Spend",
        "Money the agents' actions committed: the amounts of allowed, flagged and approved actions, less those that "
        "failed, in the organisation's currency and measured against the departments' budgets. Amounts in other "
        "currencies are shown beside it as their own totals, never converted or added in.",
    ),
    "cost": Term(
        "Cost",
        "What doing the work cost, as reported with each outcome (model, provider and processing charges), plus the "
        "model tokens the agents' traces report, at the token prices set in the admin. Not the money the action "
        "itself moved: that is spend.",
    ),
    "value": Term(
        "Value delivered",
        "Business value the agents' outcomes reported, in money. Shown beside spend and cost to compare them, never "
        "subtracted from either: the three are separate measures, not a profit or a loss.",
    ),
    "budget": Term(
        "Budget",
        "The departments' monthly budgets, in the organisation's currency, pro rata for the length of the period.",
    ),
    "active_agents": Term("Active agents", "Agents allowed to act now: not paused and not stopped."),
    "open_approvals": Term(
        "Open approvals",
        "Requests waiting for a person to approve or reject now, across everyone who decides them, whatever the "
        "period. Your own inbox lists only those addressed to you.",
    ),
    "approvals_outstanding": Term(
        "Approvals outstanding", "Requests a person had not yet approved or rejected when the period ended."
    ),
    "incident": Term(
        "Incident", "A decision a policy denied, or one that scored critical risk (75 or more) whatever its verdict."
    ),
    "shadow_policy": Term(
        "Trial (shadow) policy",
        "A policy being tried out: it records what it would have decided, without changing any verdict.",
    ),
    "vendor_concentration": Term(
        "Vendor concentration",
        "Each model provider's share of the period's decisions; above the warning threshold, depending on one "
        "provider is a lock-in risk.",
    ),
    "risk_score": Term("Risk score", "0 (none) to 100 (critical), given to each decision by the policies it met."),
    "risk_appetite": Term(
        "Risk appetite",
        "The highest average risk score a department accepts; above it, the department is over appetite.",
    ),
}

VIOLATION_VERDICTS = (Verdict.DENY, Verdict.FLAG)

VERDICT_LABELS = {
    Verdict.ALLOW: "Allowed",
    Verdict.FLAG: "Flagged",
    Verdict.REQUIRE_APPROVAL: "Needs approval",
    Verdict.DENY: "Denied",
}

ROLE_LABELS = dict(ApproverRole.choices)

EVENT_LABELS = {
    "agent.status_changed": "Agent status changed",
    "decision.created": "Decision recorded",
    "decision.overridden": "Decision overridden",
    "approval.requested": "Approval requested",
    "approval.escalated": "Approval escalated",
    "approval.resolved": "Approval decided",
    "outcome.reported": "Outcome reported",
    "department.status_changed": "Department status changed",
    "policy.changed": "Policy changed",
    "strategy.changed": "Routing priorities changed",
    "workflow.delegated": "Work delegated",
}


def term(key: str) -> Term:
    return TERMS[key]


def verdict_label(code: str) -> str:
    """`require_approval` → "Needs approval"; an unknown code is shown capitalised rather than hidden."""
    return VERDICT_LABELS.get(code, code.replace("_", " ").capitalize())


def role_label(code: str) -> str:
    return ROLE_LABELS.get(code, code.replace("_", " ").capitalize())


def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind.replace(".", " ").replace("_", " ").capitalize())


CAPABILITIES_TTL_SECONDS = 60
_capabilities: dict = {"read_at": 0.0, "descriptions": {}}


def action_descriptions() -> dict[str, str]:
    """Capability code → its description ("Execute a payment"), read at most once a minute (a few dozen rows)."""
    if time.monotonic() - _capabilities["read_at"] > CAPABILITIES_TTL_SECONDS:
        described = Capability.objects.exclude(description="").values_list("code", "description")
        _capabilities.update(read_at=time.monotonic(), descriptions=dict(described))
    return _capabilities["descriptions"]


def forget_capabilities() -> None:
    """Drop the cached descriptions (tests that change them)."""
    _capabilities.update(read_at=0.0, descriptions={})


def actor_label(actor: str) -> str:
    """`agent:invoice-bot` → "Invoice Bot (agent)", `user:bob` → the person's name, `system:…` → "Regent (…)"."""
    kind, _, name = actor.partition(":")
    if kind == "agent":
        agent = Agent.objects.filter(slug=name).values_list("name", flat=True).first()
        return f"{agent or name} (agent)"
    if kind == "user":
        person = get_user_model().objects.filter(username=name).first()
        return (person.get_full_name() or person.get_username()) if person else name
    if kind == "system":
        return f"Regent ({name.replace('_', ' ')})"
    return actor


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """`agent:invoice-bot` → "Invoice Bot (agent)", `user:bob` → the person's name, for many actors in two queries.

    The same words as actor_label, which reads one actor at a time.
    """
    kinds: dict[str, set[str]] = {"agent": set(), "user": set()}
    actors = set(actors)
    for actor in actors:
        kind, _, name = actor.partition(":")
        if kind in kinds:
            kinds[kind].add(name)
    agents = dict(Agent.objects.filter(slug__in=kinds["agent"]).values_list("slug", "name"))
    people = {
        person.get_username(): person.get_full_name() or person.get_username()
        for person in get_user_model().objects.filter(username__in=kinds["user"])
    }
    names = {}
    for actor in actors:
        kind, _, name = actor.partition(":")
        if kind == "agent":
            names[actor] = f"{agents.get(name, name)} (agent)"
        elif kind == "user":
            names[actor] = people.get(name, name)
        elif kind == "system":
            names[actor] = f"Regent ({name.replace('_', ' ')})"
    return names


def action_label(code: str) -> str:
    """The capability's description; else `payment.execute` → "Payment: execute", the code in words."""
    if described := action_descriptions().get(code):
        return described
    subject, _, verb = code.partition(".")
    words = subject.replace("_", " ").capitalize()
    return f"{words}: {verb.replace('_', ' ')}" if verb else words
