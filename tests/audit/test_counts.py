"""The audit log's events per hour (audit.counts): a period's count reads hours, not events, and stays exact while
beat folds, whatever part of the chain is folded yet (issue 20, the controls' export cost)."""

import datetime as dt

import pytest

from audit import counts
from audit.models import AuditEvent, AuditEventCount
from dashboard.compliance.queries import QUERIES, Scope
from dashboard.models import DAY
from dashboard.periods import Period
from tests.support.audit import wait_until_sequenced
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db(transaction=True)

START = NOW.replace(hour=0, minute=0) - dt.timedelta(days=2)
END = START + dt.timedelta(days=3)


@pytest.fixture
def spread(decide, finance_agent, support_agent) -> None:
    """Decisions (each with its audit event) in several hours and two departments, one outside the period."""
    for hours in (1, 1, 5, 30, 47):
        decide(finance_agent, amount=10, now=START + dt.timedelta(hours=hours, minutes=20))
    for hours in (5, 60):
        decide(support_agent, amount=10, now=START + dt.timedelta(hours=hours, minutes=59))
    decide(finance_agent, amount=10, now=START - dt.timedelta(minutes=1))
    wait_until_sequenced()


def one_by_one(department_ids=None) -> int:
    events = AuditEvent.objects.filter(occurred_at__gte=START, occurred_at__lt=END)
    return events.count() if department_ids is None else events.filter(department_id__in=department_ids).count()


def test_a_periods_count_is_exact_before_during_and_after_folding(spread, finance):
    # Given the events, none folded yet
    expected = (one_by_one(), one_by_one([finance.pk]))
    assert expected[0] > expected[1] > 0
    answers = [(counts.count(START, END), counts.count(START, END, [finance.pk]))]

    # When beat folds part of the chain, then the rest
    counts.fold(limit=AuditEvent.objects.count() // 2)
    answers.append((counts.count(START, END), counts.count(START, END, [finance.pk])))
    counts.fold_all()
    answers.append((counts.count(START, END), counts.count(START, END, [finance.pk])))

    # Then every answer is the one-by-one count, and once folded the events are read from their hours
    assert answers == [expected] * 3
    assert not counts.after_mark(START, END, None).exists()
    assert AuditEventCount.objects.filter(hour__gte=START, hour__lt=END).count() < expected[0]


def test_folding_again_counts_nothing_twice(spread):
    # Given the chain folded
    counts.fold_all()
    total = counts.count(START, END)

    # When beat folds again with nothing new
    folded = counts.fold_all()

    # Then nothing was added
    assert folded == 0
    assert counts.count(START, END) == total == one_by_one()


def test_a_period_not_on_whole_hours_is_refused(db):
    with pytest.raises(ValueError, match="not on a whole hour"):
        counts.count(START + dt.timedelta(minutes=30), END)


def test_the_controls_audit_log_evidence_counts_from_the_hours_and_names_the_newest_event(
    spread, decide, finance_agent, finance, dave, bob
):
    # Given the chain folded, then one more Finance decision in the period, not folded yet
    counts.fold_all()
    decide(finance_agent, amount=10, now=START + dt.timedelta(hours=50))
    wait_until_sequenced()
    period = Period("custom", START, END, DAY)

    # When the Auditor (everything) and bob (Finance's Supervisor) read the audit-log control's evidence
    everyone = QUERIES["audit_events"](Scope(dave, period))
    finance_only = QUERIES["audit_events"](Scope(bob, period))

    # Then each count is the one-by-one count of what they may see, and the newest is the period's last event
    newest = AuditEvent.objects.filter(occurred_at__lt=END).order_by("-occurred_at", "-seq").first()
    assert everyone.count == one_by_one()
    assert everyone.newest.label.startswith(f"Event {newest.seq}: ")
    assert finance_only.count == one_by_one([finance.pk])


def test_the_newest_event_is_found_in_the_newest_hour_once_everything_is_folded(spread, dave):
    # Given the whole chain folded
    counts.fold_all()

    # When the Auditor reads the audit-log control's evidence
    evidence = QUERIES["audit_events"](Scope(dave, Period("custom", START, END, DAY)))

    # Then the newest event of the period is named, read from its hour
    newest = AuditEvent.objects.filter(occurred_at__lt=END).order_by("-occurred_at", "-seq").first()
    assert evidence.newest.label.startswith(f"Event {newest.seq}: ")
