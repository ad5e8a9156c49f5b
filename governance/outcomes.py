"""What happened after a decision: outcomes reported by agents and systems, and spend given back for failures."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from audit import chain
from audit.models import AuditEvent
from fastpath import writes
from governance import budgets
from governance.models import Approval, Decision, Outcome, Verdict
from orchestration.models import Agent


def report_outcome(
    decision: Decision,
    result: str,
    *,
    reported_by: str,
    cost: Decimal = Decimal("0"),
    value: Decimal = Decimal("0"),
    csat: int | None = None,
    created: list[Outcome] | None = None,
) -> Outcome:
    """Record what happened after a decision; reporting twice keeps the first report.

    `reported_by` names the reporter the way the audit log names actors ("agent:<slug>", "user:<username>",
    "system:orchestrator"). A failure means the action did not happen, so the spend reserved for it is given
    back. A first report is added to `created`, when given, so a caller that audits outcomes claimed from
    outside Regent (see `report_claimed_outcome`, governance.ingest) knows which ones are new.
    """
    with transaction.atomic(savepoint=False):  # inside a caller's transaction, its fate is the caller's
        outcome = Outcome(decision=decision, result=result, cost=cost, value=value, csat=csat, reported_by=reported_by)
        is_new = writes.insert_if_absent(outcome)
        if not is_new:
            outcome = Outcome.objects.get(decision=decision)
        if is_new and result == Outcome.Result.FAILURE:
            give_back_spend([decision])
        if is_new and created is not None:
            created.append(outcome)
    return outcome


def report_claimed_outcome(decision: Decision, result: str, *, by: Agent | User, **figures) -> Outcome:
    """An outcome claimed through the API by the decision's agent or by a person (a system using their token).

    What an outside party says happened is evidence, so a first report goes into the audit chain in the same
    transaction; a repeated report changes nothing and adds no event.
    """
    person = None if isinstance(by, Agent) else by
    reported_by = f"agent:{by.slug}" if person is None else f"user:{person.get_username()}"
    with transaction.atomic():
        created: list[Outcome] = []
        outcome = report_outcome(decision, result, reported_by=reported_by, created=created, **figures)
        if created:
            chain.append([outcome_reported_event(outcome, actor=person, source="api")])
    return outcome


def outcome_reported_event(outcome: Outcome, *, source: str, actor: User | None = None) -> AuditEvent:
    """The unsaved `outcome.reported` audit event of a claimed outcome, for `chain.append`."""
    decision = outcome.decision
    return AuditEvent(
        occurred_at=outcome.reported_at,
        actor=actor,
        actor_label=outcome.reported_by,
        kind="outcome.reported",
        subject_type="decision",
        subject_id=str(decision.pk),
        department_id=decision.department_id,
        after=chain.plain(
            {
                "decision_id": decision.pk,
                "agent_id": decision.agent_id,
                "result": outcome.result,
                "cost": outcome.cost,
                "value": outcome.value,
                "csat": outcome.csat,
                "reported_by": outcome.reported_by,
                "source": source,
            }
        ),
    )


def give_back_spend(failed: list[Decision]) -> None:
    """Failed actions did not happen: give back what evaluate reserved for them (one update per agent,
    department and month, however many failed)."""
    totals: dict[tuple, list] = {}
    for decision in failed:
        charged = budgets.charge(decision.amount, decision.currency) if decision.amount else None
        if charged and _spent(decision):
            key = (decision.agent_id, decision.department_id, budgets.month_start(decision.created_at))
            totals.setdefault(key, [Decimal("0"), decision.created_at])[0] += charged
    for (agent_id, department_id, _month), (amount, reserved_at) in totals.items():
        budgets.release_spend(agent_id, department_id, amount, reserved_at)


def _spent(decision: Decision) -> bool:
    """Whether evaluate (or an approval) reserved the decision's amount."""
    if decision.idempotency_key:  # ingested: decided and spent elsewhere, nothing was reserved here
        return False
    if decision.verdict in (Verdict.ALLOW, Verdict.FLAG):
        return True
    approval = Approval.objects.filter(decision=decision).only("status").first()
    return approval is not None and approval.status == Approval.Status.APPROVED
