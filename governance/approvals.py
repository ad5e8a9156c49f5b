"""People deciding what a policy held for them."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from audit import chain
from governance import budgets
from governance.models import Approval, Decision
from governance.models.policy import ApproverRole
from orchestration import kill_switch
from orchestration.roles import Role, roles_of
from orchestration.scoping import scope_to_departments, visible_departments
from restapi.domain_errors import DomainError, NotAllowed

# Sent inside the deciding transaction, so a workflow parked on the request moves with it.
approval_decided = Signal()
# Sent before a person's ruling locks the request (`decision_id`), so that what the ruling will lock next (a
# parked workflow step's run) is locked first, in the lock order of orchestration.kill_switch.
approval_deciding = Signal()


class ApprovalError(DomainError):
    """An approval that cannot be decided as asked; the message says why, for the person asking."""


class ReasonRequired(ApprovalError):
    """A rejection without a reason: the agent's owners read it, so every way of deciding asks for one."""


REASON_REQUIRED = "Say why you reject the request: the agent's owners read it."


def reason_problem(*, approve: bool, comment: str) -> str | None:
    """Why this decision cannot be recorded as given (a rejection needs a reason), or None."""
    return REASON_REQUIRED if not approve and not comment.strip() else None


class NotYourDecision(ApprovalError, NotAllowed):
    """The person asking may not decide this request."""


def pending_for(user) -> QuerySet[Approval]:
    """Pending requests this person is asked to decide: their role, their departments, oldest deadline first."""
    return Approval.objects.filter(
        status=Approval.Status.PENDING,
        approver_role__in=roles_of(user),
        department__in=visible_departments(user),
    ).order_by("deadline", "pk")


def inbox_for(user) -> tuple[QuerySet[Approval], bool]:
    """What a person's approvals inbox lists, and whether they decide what it lists.

    An approver (Supervisor, Executive) sees the requests addressed to them; anyone else with a role (an
    Auditor, a Policy Admin) sees every pending request in their scope, to read, oldest deadline first.
    """
    if user.is_superuser:
        return Approval.objects.filter(status=Approval.Status.PENDING).order_by("deadline", "pk"), True
    if roles_of(user) & set(ApproverRole.values):
        return pending_for(user), True
    pending = Approval.objects.filter(status=Approval.Status.PENDING).order_by("deadline", "pk")
    return scope_to_departments(pending, user), False


def pending_in_scope(user) -> QuerySet[Approval]:
    """Every pending request in the person's departments, whoever it is addressed to (the inbox's filters narrow it)."""
    return scope_to_departments(Approval.objects.filter(status=Approval.Status.PENDING), user)


def decides_any(user) -> bool:
    """Whether the person decides requests at all (an approver role, or a superuser)."""
    return user.is_superuser or bool(roles_of(user) & set(ApproverRole.values))


def may_decide(user, approval: Approval) -> bool:
    """Executives decide anything; a Supervisor decides supervisor-level requests of their departments."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or Role.EXECUTIVE in roles_of(user):
        return True
    return (
        approval.approver_role == ApproverRole.SUPERVISOR
        and Role.SUPERVISOR in roles_of(user)
        and visible_departments(user).filter(pk=approval.department_id).exists()
    )


@transaction.atomic(durable=True)  # a person's decision is a top-level action: never part of another change
def decide_approval(approval_id: int, *, approve: bool, by, comment: str = "") -> Approval:
    """Approve or reject a pending request. Approving reserves its spend, as an allow would have.

    A rejection needs a reason (`comment`). A kill of the agent or its department waits for the ruling, or the
    ruling for the kill (which withdraws the request): the kill switch is held off before the request is locked,
    in the lock order of orchestration.kill_switch."""
    problem = reason_problem(approve=approve, comment=comment)
    if problem:
        raise ReasonRequired(problem)
    asked = Approval.objects.filter(pk=approval_id).values_list(
        "decision_id", "decision__agent_id", "decision__agent__department_id"
    )
    for decision_id, agent_id, department_id in asked:
        kill_switch.hold_off_kills(agent_id, department_id)
        approval_deciding.send(sender=Approval, decision_id=decision_id)
    approval = Approval.objects.select_for_update().select_related("decision__agent__department").get(pk=approval_id)
    if not may_decide(by, approval):
        raise NotYourDecision("You may not decide this request.")
    if approval.status != Approval.Status.PENDING:
        raise ApprovalError(f"This request was already {approval.status}.")
    decision: Decision = approval.decision
    now = timezone.now()
    if approve and (standing := kill_switch.why_it_may_not_act(decision.agent)):
        raise ApprovalError(f"{standing} Resume it before approving; rejecting stays possible.")
    if approve and decision.amount:
        over_budget = budgets.reserve_spend(decision.agent, decision.amount, decision.currency, now)
        if over_budget:
            raise ApprovalError(over_budget)
    approval.status = Approval.Status.APPROVED if approve else Approval.Status.REJECTED
    approval.decided_by, approval.decided_at, approval.comment = by, now, comment
    approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    chain.record(
        "approval.resolved",
        subject_type="approval",
        subject_id=approval.pk,
        actor=by,
        department_id=approval.department_id,
        before={"status": Approval.Status.PENDING},
        after={
            "approval_id": approval.pk,
            "decision_id": decision.pk,
            "agent_id": decision.agent_id,
            "status": approval.status,
            "comment": comment,
            "waited_seconds": round((now - approval.requested_at).total_seconds()),
        },
        at=now,
    )
    approval_decided.send(sender=Approval, approval=approval, approved=approve)
    return approval


@dataclass(frozen=True)
class Ruling:
    """What became of one request in a decision on several: decided, or the reason it was refused."""

    approval_id: int
    decided: bool
    message: str


BULK_LIMIT = 100
NOT_FOUND = "No such request in your departments."


def decide_each(approval_ids: Iterable[int], *, approve: bool, by, comment: str = "") -> list[Ruling]:
    """Decide several requests with one reason, each through `decide_approval` in its own transaction.

    One refused (already decided, over budget, not the person's to decide) leaves the others decided; each
    gets its own ruling. A rejection without a reason is refused as a whole, before anything is written.
    """
    problem = reason_problem(approve=approve, comment=comment)
    if problem:
        raise ReasonRequired(problem)
    ids = list(dict.fromkeys(approval_ids))
    if len(ids) > BULK_LIMIT:
        raise ApprovalError(f"Decide at most {BULK_LIMIT} requests at once.")
    visible = set(scope_to_departments(Approval.objects.filter(pk__in=ids), by).values_list("pk", flat=True))
    rulings = []
    for approval_id in ids:
        if approval_id not in visible:
            rulings.append(Ruling(approval_id, False, NOT_FOUND))
            continue
        try:
            decide_approval(approval_id, approve=approve, by=by, comment=comment)
        except ApprovalError as exc:
            rulings.append(Ruling(approval_id, False, str(exc)))
        else:
            rulings.append(Ruling(approval_id, True, "Approved." if approve else "Rejected."))
    return rulings


ESCALATES_TO = {ApproverRole.SUPERVISOR: ApproverRole.EXECUTIVE}


def escalate_overdue(now=None, limit: int = 500) -> int:
    """Move approvals past their deadline one level up; at the top they expire. Return how many moved.

    Each request moves in a transaction of its own, which takes its locks in the order of
    orchestration.kill_switch, as a person's ruling does (an expiry resumes, that is fails, a parked workflow
    step, whose run a kill may be stopping at the same moment). Safe to run from several beat ticks or
    workers at once: each request is claimed with SKIP LOCKED and re-checked, so none is escalated twice.
    """
    now = now or timezone.now()
    overdue = (
        Approval.objects.filter(status=Approval.Status.PENDING, deadline__lt=now)
        .order_by("deadline")
        .values_list("pk", "decision_id", "decision__agent_id", "decision__agent__department_id")[:limit]
    )
    return sum(
        _escalate(approval_id, decision_id, agent_id, department_id, now)
        for approval_id, decision_id, agent_id, department_id in overdue
    )


@transaction.atomic
def _escalate(approval_id: int, decision_id: int, agent_id: int, department_id: int, now) -> bool:
    """One overdue request one level up, or expired at the top; whether it moved."""
    kill_switch.hold_off_kills(agent_id, department_id)
    approval_deciding.send(sender=Approval, decision_id=decision_id)
    approval = (
        Approval.objects.select_for_update(skip_locked=True)
        .filter(pk=approval_id, status=Approval.Status.PENDING, deadline__lt=now)
        .select_related("decision")
        .first()
    )
    if approval is None:  # another tick has it, or it was decided or withdrawn meanwhile
        return False
    before = {"approver_role": approval.approver_role, "deadline": approval.deadline}
    window = approval.deadline - approval.requested_at
    next_role = ESCALATES_TO.get(approval.approver_role)
    if next_role:
        approval.approver_role = next_role
        approval.escalation_level += 1
        approval.deadline = now + window
        kind = "approval.escalated"
    else:
        approval.status, approval.decided_at = Approval.Status.EXPIRED, now
        kind = "approval.resolved"
        approval_decided.send(sender=Approval, approval=approval, approved=False)
    approval.save(update_fields=["approver_role", "escalation_level", "deadline", "status", "decided_at"])
    chain.record(
        kind,
        subject_type="approval",
        subject_id=approval.pk,
        actor_label="system:deadline",
        department_id=approval.department_id,
        before=before,
        after={
            "approval_id": approval.pk,
            "decision_id": approval.decision_id,
            "agent_id": approval.decision.agent_id,
            "status": approval.status,
            "approver_role": approval.approver_role,
            "escalation_level": approval.escalation_level,
            "deadline": approval.deadline,
        },
        at=now,
    )
    return True


def withdraw_pending(decision_id: int, reason: str) -> None:
    """The work a request was for has stopped: nobody should decide it any more."""
    approval = (
        Approval.objects.select_for_update().filter(decision_id=decision_id, status=Approval.Status.PENDING).first()
    )
    if approval is None:
        return
    approval.status, approval.decided_at, approval.comment = Approval.Status.WITHDRAWN, timezone.now(), reason
    approval.save(update_fields=["status", "decided_at", "comment"])
    chain.record(
        "approval.resolved",
        subject_type="approval",
        subject_id=approval.pk,
        actor_label="system:orchestrator",
        department_id=approval.department_id,
        before={"status": Approval.Status.PENDING},
        after={"approval_id": approval.pk, "decision_id": decision_id, "status": approval.status, "comment": reason},
    )
