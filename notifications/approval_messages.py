"""Approval requests told to the people who decide them, where they work.

Messages hang off the audit chain's events (audit.events), as webhooks do: when `approval.requested`,
`approval.escalated` or an expiry (`approval.resolved`, status expired) is chained, a notice is written in the
same transaction (an outbox); once it commits a task tells the people the request is addressed to (as their
approvals inbox lists it: the approver role, and for Supervisors the departments they oversee or head). A
decision rolled back has no event, so no notice and no message. The notice is one row written in one statement,
so the chaining transaction stays short (bench/notifications.py). Beat reminds them APPROVAL_REMINDER_MINUTES
before the deadline. Each message carries the request in words and a link of their own (notifications.links)
that opens it in Regent after login.
"""

import datetime as dt
import logging
from dataclasses import replace
from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.models import Approval
from governance.models.policy import ApproverRole, Effect
from governance.risk import RISK_BANDS
from notifications import links
from notifications.channels import Message
from notifications.delivery import RESEND_AFTER_SECONDS, channels_of, notify
from notifications.models import ApprovalNotice, Delivery, Preference
from orchestration.models import Capability
from orchestration.roles import Role

logger = logging.getLogger(__name__)
REMINDER_BATCH = 500
ROLE_WORDS = {ApproverRole.SUPERVISOR: "a supervisor", ApproverRole.EXECUTIVE: "an executive"}


def record_messages(events: list[dict]) -> None:
    """Transaction listener on chained events: a notice for each approval event that asks something of people.

    It runs in the transaction that chains the events (the sequencer's), so it only writes one small row per
    request in one statement; the people, their links and deliveries are worked out by a task once it commits
    (`tell_from_notice`). A failure is logged and undone to a savepoint; it never undoes the chaining.
    """
    notices = []
    for event in events:
        kind, data = event["type"], event["data"]
        if kind in ("approval.requested", "approval.escalated") or (
            kind == "approval.resolved" and data.get("status") == Approval.Status.EXPIRED
        ):
            occasion = "expired" if kind == "approval.resolved" else kind.removeprefix("approval.")
            key = f"approval-{data['approval_id']}-{occasion}-{event['id']}"
            notices.append(ApprovalNotice(approval_id=data["approval_id"], occasion=occasion, key=key))
    if not notices:
        return
    try:
        with transaction.atomic():
            ids = [notice.pk for notice in ApprovalNotice.objects.bulk_create(notices)]
    except Exception:  # a message must never hold up the audit chain whose transaction this is
        logger.exception("could not record approval notices for %d event(s)", len(notices))
        return
    transaction.on_commit(lambda: _queue(ids))


def _queue(notice_ids: list[int]) -> None:
    """Queue each notice's task; one the broker refuses is queued again by `resend_untold`."""
    from notifications.tasks import tell_approvers

    for notice_id in notice_ids:
        try:
            tell_approvers.delay(notice_id)
        except Exception:
            logger.exception("could not queue approval notice %s; it will be resent", notice_id)


@transaction.atomic
def tell_from_notice(notice_id: int) -> int:
    """Send a notice's messages, once: the people its request waits for now, each with a link of their own.
    Returns the deliveries written (none when it was told already, or the request is gone)."""
    notice = ApprovalNotice.objects.select_for_update(skip_locked=True).filter(pk=notice_id, told_at=None).first()
    if notice is None:
        return 0  # told already, or being told by another worker
    approval = Approval.objects.select_related("decision__agent", "department").filter(pk=notice.approval_id).first()
    sent = tell(approval, notice.occasion, key=notice.key) if approval else 0
    notice.told_at = timezone.now()
    notice.save(update_fields=["told_at"])
    return sent


def resend_untold(now: dt.datetime | None = None) -> int:
    """Queue again notices whose task was lost (the process died after commit, or the broker refused it)."""
    overdue = (now or timezone.now()) - dt.timedelta(seconds=RESEND_AFTER_SECONDS)
    ids = list(
        ApprovalNotice.objects.filter(told_at=None, created_at__lt=overdue).values_list("pk", flat=True)[
            :REMINDER_BATCH
        ]
    )
    _queue(ids)
    return len(ids)


def addressees(approval: Approval) -> QuerySet[User]:
    """Who the request waits for: the inbox's rule (governance.approvals.pending_for) read the other way round."""
    people = User.objects.filter(is_active=True, groups__name=approval.approver_role)
    if approval.approver_role != Role.EXECUTIVE:
        people = people.filter(
            Q(supervised_departments=approval.department_id) | Q(headed_departments=approval.department_id)
        )
    return people.distinct()


def tell(approval: Approval, occasion: str, *, key: str) -> int:
    """Send one person at a time (each link is their own) the message for this occasion; how many deliveries."""
    wanted = "reminders" if occasion == "reminder" else "approvals"
    people = list(addressees(approval))
    preferences = {p.user_id: p for p in Preference.objects.filter(user__in=people).select_related("user")}
    message = message_for(approval, occasion, key=key, link="")
    sent = 0
    for person in people:
        preference = preferences.get(person.pk)
        if (preference and not getattr(preference, wanted)) or not channels_of(person, preference):
            continue  # muted, or nowhere to send: no link is made
        link = "" if occasion == "expired" else links.approval_link(approval.pk, person.pk)
        sent += len(notify([person], replace(message, link=link)))
    return sent


def message_for(approval: Approval, occasion: str, *, key: str, link: str) -> Message:
    decision = approval.decision
    agent = decision.agent
    amount = f", {money(decision.amount, decision.currency)}" if decision.amount is not None else ""
    what = f"{agent.name} ({approval.department.name}) asks to {action_words(decision.action)}{amount}"
    details = [
        f"{what}.",
        f"Risk {decision.risk_score} of 100 ({risk_band(decision.risk_score)}).",
        *(f"Why a person is asked: {reason}" for reason in rationales(decision.matched_policies)),
    ]
    deadline = f"{approval.deadline:%Y-%m-%d %H:%M} UTC"
    if occasion == "expired":
        subject = f"Approval expired: {agent.name}{amount}"
        headline = (
            f"Nobody decided this request before its deadline ({deadline}), so it expired: the action did not "
            "happen. It was not denied; the agent may ask again."
        )
    elif occasion == "escalated":
        subject = f"Approval escalated to you: {agent.name}{amount}"
        headline = (
            f"Nobody decided in time at the level below; it now waits for {ROLE_WORDS[approval.approver_role]}. "
            f"Decide by {deadline}."
        )
    elif occasion == "reminder":
        subject = f"Reminder, decide by {deadline}: {agent.name}{amount}"
        headline = f"This request still waits for your decision. Its deadline is {deadline}."
    else:
        subject = f"Approval needed: {agent.name}{amount}"
        headline = f"A request waits for your decision. Decide by {deadline}."
    text = "\n\n".join([headline, " ".join(details)])
    severity = "critical" if decision.risk_score >= RISK_BANDS["critical"][0] else "warning"
    return Message(subject=subject, text=text, kind=f"approval.{occasion}", key=key, severity=severity, link=link)


def money(amount: Decimal, currency: str) -> str:
    """An action's amount in the currency the agent gave, in the organisation's locale (as dashboard.money)."""
    code = currency or settings.ORG_CURRENCY
    return format_currency(Decimal(str(amount)), code, locale=settings.ORG_LOCALE)


def action_words(code: str) -> str:
    """The capability's description ("approve an invoice"), else the code in words."""
    described = Capability.objects.filter(code=code).exclude(description="").values_list("description", flat=True)
    for description in described:
        return description[:1].lower() + description[1:]
    subject, _, verb = code.partition(".")
    return f"{verb.replace('_', ' ')} {subject.replace('_', ' ')}".strip()


def risk_band(score: int) -> str:
    return next((band for band, (low, high) in RISK_BANDS.items() if low <= score <= high), "critical")


def rationales(matched: list[dict]) -> list[str]:
    """The enforced policies that asked for a person, each once: "Big invoices need a supervisor: Large sums…"."""
    seen = []
    for policy in matched:
        if policy.get("effect") == Effect.REQUIRE_APPROVAL and policy.get("mode") != "shadow":
            line = f"{policy['name']}: {policy['rationale']}" if policy.get("rationale") else policy["name"]
            if line not in seen:
                seen.append(line)
    return seen


def remind_before_deadlines(now: dt.datetime | None = None) -> int:
    """Remind the people a pending request waits for, once per level, APPROVAL_REMINDER_MINUTES before its
    deadline. A request shorter than that is not reminded: its own message is recent. Returns deliveries written."""
    now = now or timezone.now()
    lead = dt.timedelta(minutes=settings.APPROVAL_REMINDER_MINUTES)
    due = list(
        Approval.objects.filter(
            status=Approval.Status.PENDING, deadline__gt=now, deadline__lte=now + lead, requested_at__lt=now - lead
        )
        .select_related("decision__agent", "department")
        .order_by("deadline")[:REMINDER_BATCH]
    )
    keys = {approval.pk: f"approval-{approval.pk}-reminder-{approval.escalation_level}" for approval in due}
    reminded = set(Delivery.objects.filter(key__in=keys.values()).values_list("key", flat=True).distinct())
    sent = 0
    for approval in due:
        if keys[approval.pk] not in reminded:
            with transaction.atomic():
                sent += tell(approval, "reminder", key=keys[approval.pk])
    return sent
