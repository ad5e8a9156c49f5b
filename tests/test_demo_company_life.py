"""The demo looks like a calm, working company: its history runs up to now at the pace its live agents keep,
its approvers answer most held requests within minutes, and its budgets fit what its agents spend."""

import datetime as dt
import random
import statistics
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import AuditEvent
from demo import approvers, pace
from demo.approvers import Approvers
from demo.seed import seed_company
from demo.simulator import Simulator
from governance.evaluation import ActionRequest, evaluate_action
from governance.models import Approval, Decision, Verdict
from orchestration.models import Agent, Department

PEAK = 0.02


def expected_between(start: dt.datetime, end: dt.datetime, peak: float = PEAK) -> float:
    return sum(
        pace.rate_at(hour, peak) * (min(hour + dt.timedelta(hours=1), end) - max(hour, start)).total_seconds()
        for hour in pace.hour_starts(start, end)
    )


def mid_size_payment(resource: str) -> Decision:
    """A Finance payment the demo's policies hold for the department's supervisor."""
    agent = Agent.objects.filter(
        department__slug="finance", capabilities__code="payment.execute", risk_tier__lt=4
    ).first()
    request = ActionRequest(
        action="payment.execute", resource=resource, amount=Decimal("5000"), currency=settings.ORG_CURRENCY
    )
    return evaluate_action(agent, request)


@pytest.fixture
def company(db) -> dt.datetime:
    seed_company(history_days=2, peak_rate=PEAK)
    return timezone.now()


def test_the_history_runs_up_to_now_at_the_company_pace(company) -> None:
    now = company
    for days_ago in (1, 2):
        start, end = now - dt.timedelta(days=days_ago), now - dt.timedelta(days=days_ago - 1)
        expected = expected_between(start, end)
        actual = Decision.objects.filter(created_at__gte=start, created_at__lt=end).count()
        assert abs(actual - expected) < 5 * expected**0.5, (days_ago, actual, expected)
    newest = Decision.objects.latest("created_at").created_at
    assert now - newest < dt.timedelta(hours=1)  # no empty stretch between the history and the live agents


def test_the_live_agents_keep_the_pace_the_history_was_seeded_at() -> None:
    simulator = Simulator(peak=PEAK, seed=5)

    waits = [simulator._wait() for _ in range(4000)]

    assert statistics.fmean(waits) == pytest.approx(1 / pace.rate_at(timezone.now(), PEAK), rel=0.1)


def test_people_answer_most_held_requests_within_minutes_with_their_reasons(company) -> None:
    held = Approval.objects.all()
    answered = held.exclude(status=Approval.Status.PENDING).exclude(status=Approval.Status.EXPIRED)

    assert held.count() > 20
    assert held.filter(status=Approval.Status.PENDING).count() <= 0.1 * held.count()
    waits = [(a.decided_at - a.requested_at).total_seconds() / 60 for a in answered]
    assert statistics.median(waits) < 15
    assert not answered.filter(decided_by__isnull=True).exists()
    assert not held.filter(status=Approval.Status.REJECTED, comment="").exists()


def test_budgets_leave_headroom_over_what_the_history_spent(company) -> None:
    for department in Department.objects.all():
        spent = Decision.objects.filter(department=department, outcome__isnull=False).aggregate(s=Sum("amount"))["s"]
        month_at_this_pace = (spent or Decimal(0)) * 30 / 2
        assert department.monthly_budget >= month_at_this_pace, department.name
        assert department.monthly_budget > 0


def test_amounts_are_in_the_organisation_currency(company) -> None:
    currencies = set(Decision.objects.exclude(amount=None).values_list("currency", flat=True))

    assert currencies == {settings.ORG_CURRENCY}


def test_the_simulated_supervisor_answers_a_waiting_request_through_the_real_decision(company, monkeypatch) -> None:
    monkeypatch.setattr(approvers, "UNANSWERED", 0.0)
    decision = mid_size_payment("payment/1")
    assert decision.verdict == Verdict.REQUIRE_APPROVAL
    approval = Approval.objects.get(decision=decision)
    Approval.objects.filter(pk=approval.pk).update(requested_at=timezone.now() - dt.timedelta(hours=2))

    Approvers(random.Random(1)).work()

    approval.refresh_from_db()
    assert approval.status in (Approval.Status.APPROVED, Approval.Status.REJECTED)
    assert approval.decided_by.username == "supervisor"
    assert approval.comment
    resolved = AuditEvent.objects.filter(kind="approval.resolved", subject_id=str(approval.pk))
    assert resolved.get().after["comment"] == approval.comment


def test_a_request_that_has_not_waited_its_approver_usual_time_stays_waiting(company, monkeypatch) -> None:
    monkeypatch.setattr(approvers, "TYPICAL_MINUTES", 600.0)
    decision = mid_size_payment("payment/2")

    Approvers(random.Random(2)).work()

    assert Approval.objects.get(decision=decision).status == Approval.Status.PENDING


def test_the_historys_held_requests_are_audited_as_the_live_path_audits_them(company) -> None:
    # Given the seeded history's held requests, most answered by the simulated people
    approvals = Approval.objects.select_related("decided_by")
    events = AuditEvent.objects.filter(subject_type="approval")
    decided = approvals.filter(status__in=[Approval.Status.APPROVED, Approval.Status.REJECTED])
    assert decided.exists()

    # Then each request was recorded, and each person's answer is in the chain with their name and reason
    assert events.filter(kind="approval.requested").count() == approvals.count()
    answers = {
        e.subject_id: e for e in events.filter(kind="approval.resolved", actor__isnull=False).select_related("actor")
    }
    for approval in decided:
        answer = answers[str(approval.pk)]
        assert answer.actor == approval.decided_by
        assert answer.actor_label == f"user:{approval.decided_by.username}"
        assert answer.occurred_at == approval.decided_at
        assert (answer.after["status"], answer.after["comment"]) == (approval.status, approval.comment)
        assert answer.after["decision_id"] == approval.decision_id
    # And every escalation and expiry by the deadline, in one chain in the order things happened
    escalated = approvals.filter(escalation_level__gt=0).count()
    assert events.filter(kind="approval.escalated").count() == escalated
    expired = approvals.filter(status=Approval.Status.EXPIRED).count()
    assert events.filter(kind="approval.resolved", actor_label="system:deadline").count() == expired
    history = AuditEvent.objects.filter(kind__in=["decision.created", *events.values_list("kind", flat=True)])
    times = list(history.order_by("seq").values_list("occurred_at", flat=True))
    assert times == sorted(times)
    assert verify_chain().ok
