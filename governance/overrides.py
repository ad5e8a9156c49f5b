"""A person overriding a denied or flagged decision.

An override records a human judgement and nothing more: the decision keeps the engine's verdict (it is
what happened, and what the rollups count), no spend is reserved, no workflow step is resumed and nothing
is re-executed. An agent that still needs the action asks again and is decided afresh. The override is
shown on the decision's page and in the explorer, and appended to the audit chain.
"""

from django.db import transaction

from audit import chain
from governance.models import Decision, Override, Verdict
from orchestration.scoping import visible_departments
from restapi.domain_errors import DomainError, NotAllowed

OVERRIDABLE = (Verdict.DENY, Verdict.FLAG)
PERMISSION = "governance.add_override"
MAX_REASON = 2000


class OverrideError(DomainError):
    """An override that cannot be made as asked; the message says why, for the person asking."""


class NotYourOverride(OverrideError, NotAllowed):
    """The person asking may not override this decision."""


def may_override(user, decision: Decision) -> bool:
    """Supervisors (the role holding the permission) override decisions of the departments they oversee."""
    return (
        user.is_authenticated
        and decision.verdict in OVERRIDABLE
        and user.has_perm(PERMISSION)
        and visible_departments(user).filter(pk=decision.department_id).exists()
    )


@transaction.atomic
def override_decision(decision_id: int, *, by, reason: str) -> Override:
    """Record that `by` overrides a denied or flagged decision, and why; once per decision.

    The decision's row is locked first, so of two people overriding at once the second is told the first did.
    """
    decision = Decision.objects.select_for_update().select_related("agent").get(pk=decision_id)
    reason = reason.strip()
    if decision.verdict not in OVERRIDABLE:
        raise OverrideError(f"Only denied or flagged decisions can be overridden; this one is {decision.verdict}.")
    if not may_override(by, decision):
        raise NotYourOverride("You may not override this decision.")
    if not reason:
        raise OverrideError("Give the reason for the override: it goes into the audit log.")
    if len(reason) > MAX_REASON:
        raise OverrideError(f"Keep the reason under {MAX_REASON} characters.")
    existing = Override.objects.filter(decision=decision).select_related("by").first()
    if existing is not None:
        raise OverrideError(f"{existing.by.get_username()} already overrode this decision.")
    override = Override.objects.create(decision=decision, verdict_overridden=decision.verdict, reason=reason, by=by)
    chain.record(
        "decision.overridden",
        subject_type="decision",
        subject_id=decision.pk,
        actor=by,
        department_id=decision.department_id,
        before={"verdict": decision.verdict},
        after={
            "override_id": override.pk,
            "decision_id": decision.pk,
            "agent_id": decision.agent_id,
            "verdict_overridden": decision.verdict,
            "reason": reason,
        },
        at=override.at,
    )
    return override
