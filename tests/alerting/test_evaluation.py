"""Each kind of rule opens an alert on real rollup data (and the registry, approvals, the audit log's checks) and
resolves it when the condition clears; one open alert per rule and subject; throttled; audited and live."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.utils import timezone

from alerting import evaluation
from alerting.evaluation import evaluate_rules
from alerting.models import Alert, AlertRule
from alerting.tasks import evaluate_alert_rules
from audit import events
from audit.models import AuditEvent, VerificationRun
from config.celery import app as celery_app
from dashboard.rollups import add_up_department_buckets
from dashboard.stream.scope import scope_for_user
from governance.approvals import decide_approval
from orchestration.kill_switch import change_agent_status
from orchestration.models import Agent, Department, Status
from tests.support.audit import wait_until_sequenced
from tests.support.clock import NOW
from tests.support.threads import in_thread

Kind = AlertRule.Kind


def only_open_alert() -> Alert:
    (alert,) = Alert.objects.filter(status=Alert.Status.OPEN)
    return alert


def test_an_agent_past_80_percent_of_its_monthly_budget_opens_an_alert_that_a_new_month_resolves(
    make_rule, finance_agent
):
    # Given an 80% budget rule and Invoice Bot having spent 850 of its 1,000 budget this month
    make_rule(Kind.BUDGET, level="agent", threshold=80)
    Agent.objects.filter(pk=finance_agent.pk).update(
        monthly_budget=Decimal("1000"), month_spent=Decimal("850"), spend_month=NOW.date().replace(day=1)
    )

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then one alert is open for the agent, in words with the currency
    alert = only_open_alert()
    assert (alert.subject_type, alert.subject_id, alert.department_id) == (
        "agent",
        finance_agent.pk,
        finance_agent.department_id,
    )
    assert alert.summary == "Invoice Bot has spent $850.00 of its $1,000 monthly budget (85.0%), at or above 80%."

    # And when the next month starts (nothing spent in it yet), the alert is resolved
    evaluate_rules(dt.datetime(2026, 4, 1, 0, 5, tzinfo=dt.UTC))
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolution == "The condition no longer holds."


@pytest.mark.parametrize(("spent", "fires"), [("40000", True), ("25000", False)])
def test_a_pro_rata_budget_rule_compares_spend_with_the_share_of_the_month_gone_by(make_rule, finance, spent, fires):
    # Given a 100% pro rata rule for departments, on 10 March at 14:30 (30.98% of March gone by)
    make_rule(Kind.BUDGET, level="department", threshold=100, pro_rata=True)
    Department.objects.filter(pk=finance.pk).update(
        monthly_budget=Decimal("100000"), month_spent=Decimal(spent), spend_month=dt.date(2026, 3, 1)
    )

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then Finance is alerted only when it has spent more than that share
    assert Alert.objects.filter(subject_type="department", subject_id=finance.pk).exists() is fires
    if fires:
        assert "(40.0%), at or above 31.0% allowed by 10 March (pro rata)." in only_open_alert().summary


def test_a_violation_rate_far_above_its_weekly_baseline_opens_an_alert_until_it_falls_back(
    make_rule, bucket, finance_agent, support_agent
):
    # Given a rule: violations in the last hour over twice the previous 7 days' rate, with 20 decisions at least
    make_rule(Kind.VIOLATION_RATE, threshold=2, minimum_volume=20, window_hours=1, baseline_days=7)
    for agent in (finance_agent, support_agent):  # a baseline of 10% for both departments, 3 days ago
        bucket(agent, "allow", days_ago=3, decisions=90)
        bucket(agent, "deny", days_ago=3, decisions=10)
    allowed_now = bucket(finance_agent, "allow", decisions=12)  # Finance now: 8 of 20 (40%)
    bucket(finance_agent, "deny", decisions=5)
    bucket(finance_agent, "flag", decisions=3)
    bucket(support_agent, "allow", decisions=9)  # Support: 100% but only 10 decisions, too few to judge
    bucket(support_agent, "deny", decisions=10)

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then Finance alone is alerted, with the rate, the volume and the baseline
    alert = only_open_alert()
    assert alert.subject_id == finance_agent.department_id
    assert alert.summary == (
        "Finance: violation rate 40.0% in the current hour (8 of 20 decisions), 4.0 times its 7-day baseline of "
        "10.0% (fires at 2 times)."
    )

    # And when 40 more allowed decisions bring the hour's rate down to 8 of 60 (13.3%), it resolves
    allowed_now.decisions += 40
    allowed_now.save()
    add_up_department_buckets()
    evaluate_rules(NOW)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_escalations_and_waiting_approvals_from_real_decisions_open_alerts(make_rule, hold, finance_agent, bob):
    # Given rules on the escalation rate and on approvals waiting (3 or more), and three invoices held for a person
    make_rule(Kind.ESCALATION_RATE, threshold=2, minimum_volume=3, window_hours=1, baseline_days=7)
    make_rule(Kind.APPROVALS_WAITING, threshold=3)
    held = [hold(finance_agent) for _ in range(3)]
    now = timezone.now()

    # When the rules are evaluated (the decisions are still waiting to be folded into the buckets)
    evaluate_rules(now)

    # Then both rules alert Finance
    summaries = sorted(Alert.objects.filter(status="open").values_list("rule__kind", "summary"))
    assert summaries == [
        ("approvals_waiting", "Finance: 3 approvals waiting (fires at 3)."),
        (
            "escalation_rate",
            "Finance: escalation rate 100.0% in the current hour (3 of 3 decisions), above its 7-day baseline of "
            "0.0% (fires at 2 times).",
        ),
    ]

    # And when one of them is approved, the approvals alert resolves and the escalation alert stays
    decide_approval(held[0].approval.pk, approve=True, by=bob)
    evaluate_rules(now)
    assert dict(Alert.objects.values_list("rule__kind", "status")) == {
        "approvals_waiting": "resolved",
        "escalation_rate": "open",
    }


def test_approvals_waiting_too_long_open_an_alert(make_rule, hold, finance_agent):
    # Given a rule on the oldest approval waiting more than 30 minutes, and a request made 45 minutes ago
    make_rule(Kind.APPROVALS_WAITING, minutes=30)
    hold(finance_agent, now=NOW - dt.timedelta(minutes=45))

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then Finance is alerted with the wait in words
    assert only_open_alert().summary == "Finance: the oldest has waited 45 min (fires after 30 min)."


def test_a_department_above_its_risk_appetite_opens_an_alert(make_rule, bucket, finance, finance_agent):
    # Given a risk rule over 24 hours and Finance (appetite 50) averaging 62.5 over 40 decisions
    make_rule(Kind.RISK_APPETITE, minimum_volume=10, window_hours=24)
    bucket(finance_agent, "allow", hours_ago=3, decisions=40, risk_total=2500)

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then Finance is alerted
    assert only_open_alert().summary == (
        "Finance: average risk score 62.5 in the last 24 hours (40 decisions), above its risk appetite of 50."
    )

    # And when its appetite is raised to 70, the alert resolves
    Department.objects.filter(pk=finance.pk).update(risk_appetite=70)
    evaluate_rules(NOW)
    assert Alert.objects.get().status == "resolved"


def test_an_agent_failing_often_opens_an_alert(make_rule, bucket, finance_agent, support_agent):
    # Given a 20% failure rule over 24 hours with 10 outcomes at least
    make_rule(Kind.FAILURE_RATE, threshold=20, minimum_volume=10, window_hours=24)
    bucket(finance_agent, hours_ago=2, decisions=10, outcomes=10, successes=6)  # 40% failed
    bucket(support_agent, hours_ago=2, decisions=5, outcomes=5, successes=0)  # too few outcomes

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then Invoice Bot alone is alerted
    assert (
        only_open_alert().summary == "Invoice Bot: 40.0% of outcomes failed in the last 24 hours (4 of 10), above 20%."
    )


def test_a_killed_agent_opens_an_alert_until_it_is_revived(make_rule, finance_agent, alice):
    # Given a kill switch rule and Invoice Bot killed
    make_rule(Kind.KILL_SWITCH)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Paid a fake invoice")

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then the kill is alerted, then resolved once the agent is revived
    assert only_open_alert().summary == "Invoice Bot (Finance) was stopped with the kill switch."
    change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Fixed")
    evaluate_rules(NOW)
    assert Alert.objects.get().status == "resolved"


def test_a_broken_audit_chain_opens_an_organisation_alert_until_a_check_finds_it_intact(make_rule):
    # Given an audit chain rule and a verification that found the chain broken
    make_rule(Kind.AUDIT_CHAIN)
    VerificationRun.objects.create(
        status="broken", finished_at=NOW, broken_seq=12, findings=["Event 12 does not match its hash."]
    )

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then the organisation is alerted, for no department
    alert = only_open_alert()
    assert (alert.subject_type, alert.department_id) == ("organisation", None)
    assert (
        alert.summary
        == "The audit log failed verification on 10 March 2026 at 14:30 UTC: Event 12 does not match its hash."
    )

    # And a later check that finds it intact resolves it
    VerificationRun.objects.create(status="intact", finished_at=NOW + dt.timedelta(minutes=5))
    evaluate_rules(NOW + dt.timedelta(minutes=6))
    assert Alert.objects.get().status == "resolved"


def test_a_rule_watching_named_departments_ignores_the_others(make_rule, support, finance_agent, support_agent, alice):
    # Given a kill switch rule for Customer Support only, and both departments' agents killed
    make_rule(Kind.KILL_SWITCH, departments=[support])
    for agent in (finance_agent, support_agent):
        change_agent_status(agent, Status.KILLED, by=alice, reason="Test")

    # When the rules are evaluated
    evaluate_rules(NOW)

    # Then only Reply Bot is alerted
    assert only_open_alert().subject_id == support_agent.pk


def test_a_condition_that_still_holds_keeps_one_open_alert_and_one_event(make_rule, finance_agent, alice):
    # Given a kill switch rule and a killed agent, evaluated once
    make_rule(Kind.KILL_SWITCH)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Test")
    evaluate_rules(NOW)

    # When the rules are evaluated three more times
    results = [evaluate_rules(NOW + dt.timedelta(minutes=m)) for m in (1, 2, 3)]

    # Then nothing new fires: still one alert and one alert.fired event
    assert [r.fired for r in results] == [0, 0, 0]
    assert Alert.objects.count() == 1
    assert AuditEvent.objects.filter(kind="alert.fired").count() == 1


def test_a_subject_alerted_again_within_the_throttle_waits_until_it_has_passed(make_rule, finance_agent, alice):
    # Given a kill switch rule throttled to one alert an hour, whose alert opened and resolved
    make_rule(Kind.KILL_SWITCH, throttle_minutes=60)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Test")
    evaluate_rules(NOW)
    change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Test")
    evaluate_rules(NOW + dt.timedelta(minutes=5))

    # When the agent is killed again 10 minutes after the first alert
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Again")
    held_back = evaluate_rules(NOW + dt.timedelta(minutes=10))

    # Then no alert opens until an hour after the first one
    assert (held_back.fired, held_back.throttled) == (0, 1)
    assert evaluate_rules(NOW + dt.timedelta(minutes=59)).fired == 0
    assert evaluate_rules(NOW + dt.timedelta(minutes=61)).fired == 1
    assert list(Alert.objects.order_by("pk").values_list("status", flat=True)) == ["resolved", "open"]


def test_a_rule_turned_off_resolves_its_open_alerts(make_rule, finance_agent, alice):
    # Given an open kill switch alert
    rule = make_rule(Kind.KILL_SWITCH)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Test")
    evaluate_rules(NOW)

    # When the rule is turned off and the rules are evaluated
    AlertRule.objects.filter(pk=rule.pk).update(enabled=False)
    evaluate_rules(NOW)

    # Then its alert is resolved, saying why
    alert = Alert.objects.get()
    assert (alert.status, alert.resolution) == ("resolved", "The rule was turned off.")


def test_firing_and_resolving_are_audit_events_and_live_events_naming_who_is_told(
    make_rule, finance_agent, alice, bob, carol, django_capture_on_commit_callbacks
):
    # Given a kill switch rule, alice (Executive), bob (Finance's Supervisor), carol (Policy Admin) and a listener
    make_rule(Kind.KILL_SWITCH, name="Kill switch used")
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Test")
    heard: list[dict] = []
    listener = heard.extend
    events.add_local_listener(listener)

    # When beat's task evaluates the rules before and after the agent is revived
    try:
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_alert_rules()
        change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Fixed")
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_alert_rules()
    finally:
        events.remove_local_listener(listener)

    # Then the chain holds the firing and the resolution, for Finance, naming alice and bob (not carol)
    fired, resolved = AuditEvent.objects.filter(kind__startswith="alert.").order_by("seq")
    assert (fired.kind, resolved.kind) == ("alert.fired", "alert.resolved")
    assert fired.department_id == finance_agent.department_id and fired.actor_label == "system:alerting"
    assert fired.after["recipients"] == ["alice", "bob"]
    assert fired.after["rule"] == "Kill switch used" and fired.after["agent_id"] == finance_agent.pk
    # And both went out live, for the agent's department
    live = [e for e in heard if e["type"].startswith("alert.")]
    assert [(e["type"], e["department_id"], e["agent_id"]) for e in live] == [
        ("alert.fired", finance_agent.department_id, finance_agent.pk),
        ("alert.resolved", finance_agent.department_id, finance_agent.pk),
    ]


def test_the_organisations_alerts_stream_to_organisation_wide_roles_only(make_rule, alice, bob):
    # Given an alert on the audit log (no department) recorded as a live event
    make_rule(Kind.AUDIT_CHAIN)
    VerificationRun.objects.create(status="broken", finished_at=NOW, broken_seq=1, findings=["Event 1 was changed."])
    evaluate_rules(NOW)
    event = events.as_stream_event(AuditEvent.objects.get(kind="alert.fired"))

    # Then alice (Executive) receives it on the stream, and bob (Supervisor) does not
    assert scope_for_user(alice).allows(event)
    assert not scope_for_user(bob).allows(event)


@pytest.mark.django_db(transaction=True)
def test_two_evaluators_at_once_open_one_alert(finance_agent, alice, monkeypatch):
    # Given a kill switch rule, a killed agent, and two evaluators that each wait, once they have found the alert
    # to open, until the other has found it too
    AlertRule.objects.create(name="Kill switch used", kind=Kind.KILL_SWITCH)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Test")
    both_planned, first_plan_made = threading.Barrier(2, timeout=30), threading.local()
    find = evaluation.findings

    def find_then_wait(*args):
        found = find(*args)
        if not getattr(first_plan_made, "done", False):
            first_plan_made.done = True
            both_planned.wait()
        return found

    monkeypatch.setattr(evaluation, "findings", find_then_wait)
    results, errors = [], []

    # When both evaluate at once
    threads = [in_thread(lambda: results.append(evaluation.evaluate_rules(NOW)), errors) for _ in range(2)]
    for thread in threads:
        thread.join(60)

    # Then one opens the alert and the other, planning again under the rule's lock, finds it open
    assert not errors
    assert sorted(r.fired for r in results) == [0, 1]
    assert Alert.objects.count() == 1
    wait_until_sequenced()
    assert AuditEvent.objects.filter(kind="alert.fired").count() == 1


def test_an_alert_and_its_resolution_reach_the_people_told_by_email(
    make_rule, finance_agent, alice, bob, mailbox, django_capture_on_commit_callbacks, settings
):
    # Given a kill switch rule, email set up, and Invoice Bot (Finance) killed
    settings.SITE_URL = "https://regent.example.com"
    celery_app.conf.task_always_eager = True
    make_rule(Kind.KILL_SWITCH)
    change_agent_status(finance_agent, Status.KILLED, by=alice, reason="Paid a fake invoice")

    try:
        # When the rules are evaluated, then again once the agent is revived
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_rules(NOW)
        fired = mailbox.wait_for("bob@example.com")
        change_agent_status(finance_agent, Status.ACTIVE, by=alice, reason="Fixed")
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_rules(NOW)
    finally:
        celery_app.conf.task_always_eager = False

    # Then the Executive and Finance's Supervisor each got the alert in words with a link to the alerts page, then
    # its resolution; nobody got either twice
    assert mailbox.wait_for("alice@example.com")["Subject"].strip().startswith("Alert: ")
    assert "Invoice Bot (Finance) was stopped with the kill switch." in fired.get_content()
    assert "https://regent.example.com/alerts/" in fired.get_content()
    subjects = sorted(message["Subject"].strip().split(":")[0] for message in mailbox.to("bob@example.com"))
    assert subjects == ["Alert", "Resolved"]
