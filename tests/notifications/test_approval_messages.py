"""Approval requests reach the people who decide them: in words, with a link of their own, after commit; escalations
reach the next level, reminders come before the deadline, and an expiry is told as expired, never denied."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, transaction

from audit.models import AuditEvent
from config.celery import app as celery_app
from governance.approvals import decide_approval, escalate_overdue
from governance.models import Approval
from integrations import webhooks
from notifications.approval_messages import remind_before_deadlines, resend_untold
from notifications.models import ApprovalNotice, Delivery, Preference
from orchestration.roles import Role
from tests.factories import CapabilityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_in_process() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def frank(support):
    """Frank supervises Customer Support, not Finance."""
    user = UserFactory(username="frank", roles=[Role.SUPERVISOR])
    support.supervisors.add(user)
    return user


@pytest.fixture
def held(hold, finance_agent, mailbox, django_capture_on_commit_callbacks):
    """Invoice Bot asks to approve a €900 invoice; the policy holds it for a Finance supervisor; commits run."""
    CapabilityFactory(code="invoice.approve", description="Approve an invoice for payment")

    def ask(amount: str = "900"):
        with django_capture_on_commit_callbacks(execute=True):
            return hold(finance_agent, amount)

    return ask


def test_the_finance_supervisor_is_told_in_words_with_a_link(bob, held, mailbox, settings):
    # Given Bob, who supervises Finance
    settings.SITE_URL = "https://regent.example.com"

    # When Invoice Bot's €900 invoice is held for a supervisor
    decision = held()

    # Then Bob's email says who asks for what, how much in which currency, the risk, the rule's rationale and
    # the deadline, and carries a link of his own into Regent
    email = mailbox.wait_for("bob@example.com")
    assert email["Subject"].strip() == "Approval needed: Invoice Bot, €900.00"
    body = email.get_content()
    assert "Invoice Bot (Finance) asks to approve an invoice for payment, €900.00." in body
    assert f"Risk {decision.risk_score} of 100" in body
    assert "Why a person is asked: Big invoices need a supervisor: Large sums get a second pair of eyes." in body
    assert f"Decide by {decision.approval.deadline:%Y-%m-%d %H:%M} UTC" in body
    assert "https://regent.example.com/notifications/approvals/" in body
    assert Delivery.objects.get(recipient=bob).kind == "approval.requested"


def test_a_supervisor_of_another_department_and_an_auditor_get_nothing(bob, frank, dave, held, mailbox):
    held()

    assert mailbox.to("frank@example.com") == []
    assert mailbox.to("dave@example.com") == []
    assert set(Delivery.objects.values_list("recipient__username", flat=True)) == {"bob"}


def test_an_executive_is_not_told_of_a_supervisor_level_request(alice, bob, held):
    held()

    assert not Delivery.objects.filter(recipient=alice).exists()


def test_a_rolled_back_decision_sends_nothing(bob, hold, finance_agent, mailbox, django_capture_on_commit_callbacks):
    # Given a change that holds a request and is then rolled back
    class Undo(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Undo), transaction.atomic():
        hold(finance_agent)
        raise Undo

    # Then nobody was told, and nothing waits to be sent
    assert Approval.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert mailbox.messages == []


def test_a_person_who_turned_approval_messages_off_gets_none(bob, held):
    Preference.objects.create(user=bob, approvals=False)

    held()

    assert not Delivery.objects.filter(recipient=bob).exists()


def test_an_escalation_tells_the_executives(alice, bob, held, mailbox, django_capture_on_commit_callbacks):
    # Given a request nobody in Finance decided by its deadline
    approval = held().approval

    # When beat escalates it
    with django_capture_on_commit_callbacks(execute=True):
        escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))

    # Then Alice, an executive, is told it now waits for an executive
    email = mailbox.wait_for("alice@example.com")
    assert email["Subject"].strip() == "Approval escalated to you: Invoice Bot, €900.00"
    assert "it now waits for an executive" in email.get_content()


def test_an_expired_request_is_told_as_expired_never_denied(alice, held, mailbox, django_capture_on_commit_callbacks):
    # Given a request that escalated to the executives and then passed their deadline too
    approval = held().approval
    with django_capture_on_commit_callbacks(execute=True):
        escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))
    approval.refresh_from_db()

    # When beat runs after the last deadline
    with django_capture_on_commit_callbacks(execute=True):
        escalate_overdue(now=approval.deadline + dt.timedelta(minutes=1))

    # Then the executives read that it expired, that the action did not happen, and never that it was denied
    expired = [m for m in mailbox.to("alice@example.com") if m["Subject"].strip().startswith("Approval expired")]
    assert len(expired) == 1
    body = expired[0].get_content()
    assert "so it expired: the action did not happen. It was not denied" in body
    assert "denied" not in expired[0]["Subject"].lower()
    assert "/notifications/approvals/" not in body  # nothing left to decide


def test_a_decided_request_sends_no_more_messages(bob, held, django_capture_on_commit_callbacks):
    approval = held().approval
    before = Delivery.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        decide_approval(approval.pk, approve=True, by=bob)

    assert Delivery.objects.count() == before


def test_a_reminder_comes_once_before_the_deadline(bob, held, mailbox, settings):
    # Given a request held now, to be reminded 30 minutes before its deadline
    settings.APPROVAL_REMINDER_MINUTES = 30
    approval = held().approval
    almost = approval.deadline - dt.timedelta(minutes=20)

    # When beat looks before the reminder is due, then twice once it is
    early = remind_before_deadlines(now=approval.deadline - dt.timedelta(minutes=45))
    first = remind_before_deadlines(now=almost)
    again = remind_before_deadlines(now=almost + dt.timedelta(minutes=1))

    # Then Bob is reminded once, in the 30 minutes before the deadline
    assert (early, first, again) == (0, 1, 0)
    reminder = Delivery.objects.get(recipient=bob, kind="approval.reminder")
    assert reminder.subject.startswith("Reminder, decide by ")


def test_a_request_shorter_than_the_reminder_lead_is_not_reminded(bob, held, settings):
    settings.APPROVAL_REMINDER_MINUTES = 600  # longer than the policy's whole window

    approval = held().approval

    assert remind_before_deadlines(now=approval.requested_at + dt.timedelta(minutes=1)) == 0


def test_an_amount_in_the_organisations_locale(bob, held, mailbox, settings):
    settings.ORG_LOCALE = "de_DE"

    held("1234.5")

    assert mailbox.wait_for("bob@example.com")["Subject"].strip() == "Approval needed: Invoice Bot, 1.234,50\xa0€"


def test_the_head_of_a_department_is_told_too(finance, held, mailbox):
    finance.head = UserFactory(username="hannah", roles=[Role.SUPERVISOR])
    finance.save(update_fields=["head"])

    held()

    assert mailbox.wait_for("hannah@example.com")["Subject"].strip().startswith("Approval needed")


def test_a_failure_to_write_messages_never_undoes_the_request(bob, held, monkeypatch):
    # Given a fault while the notices are written, in the transaction that chains the request's events
    def broken(*_args, **_kwargs):
        raise DatabaseError("the outbox is broken")

    monkeypatch.setattr(ApprovalNotice.objects, "bulk_create", broken)

    # When a request is held
    decision = held()

    # Then the request and its audit event stand; only the message is missing
    assert Approval.objects.get(pk=decision.approval.pk).status == Approval.Status.PENDING
    assert AuditEvent.objects.filter(kind="approval.requested", subject_id=str(decision.approval.pk)).exists()
    assert Delivery.objects.count() == 0


def test_a_notice_whose_task_was_lost_is_told_by_beat_once(bob, hold, finance_agent, mailbox):
    # Given a request held, whose notice's task never left (its commit's callbacks are not run here)
    hold(finance_agent)
    notice = ApprovalNotice.objects.get()
    assert notice.told_at is None

    # When beat looks after the resend delay, twice
    later = notice.created_at + dt.timedelta(minutes=10)
    first, second = resend_untold(now=later), resend_untold(now=later)

    # Then Bob is told once
    assert (first, second) == (1, 0)
    assert Delivery.objects.filter(recipient=bob, kind="approval.requested").count() == 1


def test_systems_hear_of_requests_through_the_signed_webhooks(carol, held, serve):
    # Given a system subscribed to approval events through the existing signed webhooks
    system = serve(lambda _request: (200, "ok"))
    webhooks.subscribe(system.url, ["approval.requested"], by=carol)

    # When a request is held
    decision = held()

    # Then the system got it, signed, naming the request, its decision and who must decide it
    (request,) = system.received
    assert request.headers["X-Regent-Signature"].startswith("sha256=")
    event = request.json()
    assert event["type"] == "approval.requested"
    assert event["data"]["approval_id"] == decision.approval.pk
    assert (event["data"]["decision_id"], event["data"]["approver_role"]) == (decision.pk, "Supervisor")
