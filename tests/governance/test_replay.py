"""Replay: what a proposed policy change would have decided over recorded history.

Decisions are seeded through the decision point at fixed times; the replay re-decides them under the
current and the proposed policy set and reports only the differences the change makes.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from governance import tasks
from governance.models import Decision, Effect, Mode, Policy, ReplayRun, Verdict
from governance.policies import as_enforced, snapshot_of
from governance.replay import execute_run, replay
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db

SINCE, UNTIL = NOW - dt.timedelta(days=30), NOW


def enforced(policy: Policy) -> dict[int, dict]:
    """The change "enforce this policy as it stands", as replay takes it."""
    return {policy.pk: as_enforced(snapshot_of(policy))}


def draft(**fields) -> dict[int, dict]:
    """A policy nobody has saved yet, enforced: the id 0 adds it to the set."""
    policy = Policy(name="Draft", rationale="Trying an idea.", **fields)
    return {0: as_enforced(snapshot_of(policy, departments=[], agents=[], capabilities=[]))}


@pytest.fixture
def history(decide, finance_agent, support_agent) -> Callable[..., dict[str, Decision]]:
    """Seed five decisions, all allowed, ending `end`: three Finance invoices, a Support invoice, a reply."""

    def seed(end: dt.datetime = NOW) -> dict[str, Decision]:
        return {
            "invoice_100": decide(finance_agent, amount=100, currency="EUR", now=end - dt.timedelta(days=3)),
            "invoice_200": decide(finance_agent, amount=200, currency="EUR", now=end - dt.timedelta(days=2)),
            "invoice_1500": decide(finance_agent, amount=1500, currency="EUR", now=end - dt.timedelta(days=1)),
            "support_invoice_500": decide(support_agent, amount=500, currency="EUR", now=end - dt.timedelta(hours=5)),
            "reply": decide(support_agent, "ticket.reply", now=end - dt.timedelta(hours=1)),
        }

    return seed


@pytest.fixture
def no_invoices_over_150(make_policy) -> Policy:
    """A shadow policy that would deny invoice approvals over 150."""
    return make_policy(
        name="No invoices over 150",
        effect=Effect.DENY,
        mode=Mode.SHADOW,
        actions="invoice.approve",
        condition="amount > 150.0",
    )


# What replay reports


def test_replay_of_a_shadow_deny_policy_reports_each_request_it_would_have_denied(no_invoices_over_150, history):
    # Given five allowed decisions, three of them invoices over 150
    seeded = history()
    assert {d.verdict for d in seeded.values()} == {Verdict.ALLOW}

    # When the shadow policy is replayed as if enforced
    report = replay(enforced(no_invoices_over_150), since=SINCE, until=UNTIL)

    # Then those three would have gone from allow to deny, in both departments, and their money blocked
    affected = [seeded["invoice_200"], seeded["invoice_1500"], seeded["support_invoice_500"]]
    assert (report.decisions, report.changed) == (5, 3)
    assert dict(report.transitions) == {(Verdict.ALLOW, Verdict.DENY): 3}
    assert dict(report.by_department) == {"Finance": 2, "Customer Support": 1}
    assert dict(report.by_agent) == {"invoice-bot": 2, "reply-bot": 1}
    assert report.money_blocked == sum(d.amount for d in affected) == Decimal("2200")
    assert report.money_released == 0
    assert report.samples == {"allow→deny": [d.pk for d in affected]}


def test_replay_of_a_draft_policy_reports_what_it_would_have_changed(history):
    # Given five allowed decisions, one of them a ticket reply
    seeded = history()

    # When a draft policy denying ticket replies is replayed
    report = replay(draft(effect=Effect.DENY, actions="ticket.reply"), since=SINCE, until=UNTIL)

    # Then only the reply would have changed, and no money was at stake
    assert (report.decisions, report.changed) == (5, 1)
    assert report.as_dict()["transitions"] == {"allow→deny": 1}
    assert report.samples == {"allow→deny": [seeded["reply"].pk]}
    assert report.money_blocked == 0


def test_replay_of_a_relaxed_policy_reports_the_money_it_would_have_released(make_policy, edit_policy, history):
    # Given an enforced policy denying invoices over 150, in force while five decisions were made
    policy = make_policy(name="No invoices over 150", effect=Effect.DENY, condition="amount > 150.0")
    seeded = history()

    # When a change raising the threshold to 1000 is replayed
    policy.condition = "amount > 1000.0"
    report = replay(enforced(policy), since=SINCE, until=UNTIL)

    # Then the 200 and 500 invoices would have been allowed, releasing their money
    assert dict(report.transitions) == {(Verdict.DENY, Verdict.ALLOW): 2}
    assert report.money_released == seeded["invoice_200"].amount + seeded["support_invoice_500"].amount
    assert report.money_blocked == 0


def test_a_change_that_cannot_touch_any_request_reports_no_change(make_policy, history):
    # Given a shadow policy on refunds, and five decisions none of which is a refund
    refunds = make_policy(name="No refunds", effect=Effect.DENY, mode=Mode.SHADOW, actions="refund.issue")
    history()

    # When it is replayed as if enforced
    report = replay(enforced(refunds), since=SINCE, until=UNTIL)

    # Then every decision was looked at and none would change
    assert (report.decisions, report.changed) == (5, 0)
    assert (report.transitions, report.samples, report.money_blocked) == ({}, {}, 0)


def test_replay_counts_only_decisions_in_its_half_open_window(no_invoices_over_150, decide, finance_agent):
    # Given a 200 invoice just before the window, at its start, just before its end, and at its end
    since, until = NOW - dt.timedelta(days=7), NOW
    at_start = decide(finance_agent, amount=200, currency="EUR", now=since)
    just_before_end = decide(finance_agent, amount=200, currency="EUR", now=until - dt.timedelta(microseconds=1))
    decide(finance_agent, amount=200, currency="EUR", now=since - dt.timedelta(microseconds=1))
    decide(finance_agent, amount=200, currency="EUR", now=until)

    # When the policy is replayed over [since, until)
    report = replay(enforced(no_invoices_over_150), since=since, until=until)

    # Then only the two inside were counted
    assert (report.decisions, report.changed) == (2, 2)
    assert report.samples == {"allow→deny": [at_start.pk, just_before_end.pk]}


def test_replay_in_small_batches_reports_the_same_as_in_one(no_invoices_over_150, history):
    # Given five decisions
    history()

    # When the policy is replayed in one batch and in batches of two
    whole = replay(enforced(no_invoices_over_150), since=SINCE, until=UNTIL)
    batched = replay(enforced(no_invoices_over_150), since=SINCE, until=UNTIL, batch_size=2)

    # Then the reports are the same
    assert batched.as_dict() == whole.as_dict()


def test_replay_reports_its_progress_after_each_batch(no_invoices_over_150, history):
    # Given five decisions
    history()
    progress: list[tuple[int, int]] = []

    # When the policy is replayed in batches of two
    replay(
        enforced(no_invoices_over_150),
        since=SINCE,
        until=UNTIL,
        batch_size=2,
        on_progress=lambda processed, total: progress.append((processed, total)),
    )

    # Then progress is reported after each batch, rising to the total
    assert progress == [(2, 5), (4, 5), (5, 5)]


# Replay runs: queued from the admin, carried out by a Celery task


def test_the_replay_action_queues_a_run_of_the_selected_policies(
    client, carol, no_invoices_over_150, monkeypatch, django_capture_on_commit_callbacks
):
    # Given carol on the policy list, and the task queue watched
    queued: list[int] = []
    monkeypatch.setattr(tasks.run_replay, "delay", queued.append)
    client.force_login(carol)

    # When she runs "replay_30_days" on the policy
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:governance_policy_changelist"),
            {"action": "replay_30_days", "_selected_action": [no_invoices_over_150.pk]},
        )

    # Then a queued run of that policy over 30 days is hers, its task is queued once the request commits,
    # and she is pointed at its page
    run = ReplayRun.objects.get()
    assert (run.policy_ids, run.days, run.requested_by, run.status) == (
        [no_invoices_over_150.pk],
        30,
        carol,
        ReplayRun.Status.QUEUED,
    )
    assert queued == [run.pk]
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert reverse("admin:governance_replayrun_change", args=[run.pk]) in message


@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER, reason="tasks go to the broker when REDIS_URL is set")
def test_the_replay_action_runs_to_done_with_in_process_tasks(
    client, carol, no_invoices_over_150, history, django_capture_on_commit_callbacks
):
    # Given three invoices over 150 in the last 30 days, and carol on the policy list
    history(end=timezone.now())
    client.force_login(carol)

    # When she runs "replay_30_days" on the policy, and the request commits
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:governance_policy_changelist"),
            {"action": "replay_30_days", "_selected_action": [no_invoices_over_150.pk]},
        )

    # Then the run is done and reports the three changes
    run = ReplayRun.objects.get()
    assert run.status == ReplayRun.Status.DONE
    assert (run.report["decisions"], run.report["changed"]) == (5, 3)


def test_executing_a_queued_run_ends_done_with_its_report(carol, no_invoices_over_150, history):
    # Given three invoices over 150 in the last 30 days, and a queued replay of the policy
    history(end=timezone.now())
    run = ReplayRun.objects.create(policy_ids=[no_invoices_over_150.pk], days=30, requested_by=carol)

    # When the task carries it out
    execute_run(run.pk)

    # Then the run is done, with its progress complete and the report of what would change
    run.refresh_from_db()
    assert (run.status, run.processed, run.total, run.error) == (ReplayRun.Status.DONE, 5, 5, "")
    assert run.finished_at is not None
    assert run.report["transitions"] == {"allow→deny": 3}
    assert run.report["money_blocked"] == "2200.00"
    assert run.report["by_department"] == {"Finance": 2, "Customer Support": 1}


def test_executing_a_done_run_again_changes_nothing(carol, no_invoices_over_150, history):
    # Given a replay already carried out, and more history since
    history(end=timezone.now())
    run = ReplayRun.objects.create(policy_ids=[no_invoices_over_150.pk], days=30, requested_by=carol)
    execute_run(run.pk)
    done = ReplayRun.objects.get(pk=run.pk)
    history(end=timezone.now())

    # When the task is delivered again
    execute_run(run.pk)

    # Then the run is exactly as it was
    again = ReplayRun.objects.get(pk=run.pk)
    assert (again.status, again.report, again.processed, again.finished_at) == (
        done.status,
        done.report,
        done.processed,
        done.finished_at,
    )


def test_the_policy_admin_who_started_a_replay_can_read_its_report(client, carol, no_invoices_over_150, history):
    # Given a replay carol asked for, carried out
    history(end=timezone.now())
    run = ReplayRun.objects.create(policy_ids=[no_invoices_over_150.pk], days=30, requested_by=carol)
    execute_run(run.pk)
    client.force_login(carol)

    # When she follows the link the replay action gave her
    response = client.get(reverse("admin:governance_replayrun_change", args=[run.pk]))

    # Then she sees the report
    assert response.status_code == 200
    assert "allow→deny" in response.content.decode()


# manage.py replay_policies


def test_replay_policies_prints_the_transition_table(no_invoices_over_150, history):
    # Given five decisions in the last 30 days, three of them invoices over 150
    seeded = history(end=timezone.now())
    out = StringIO()

    # When the policy is replayed from the command line over 30 days
    call_command("replay_policies", str(no_invoices_over_150.pk), "--days", "30", stdout=out, stderr=StringIO())

    # Then it prints the totals, the allow → deny row with its count and samples, the money and the departments
    affected = [seeded["invoice_200"].pk, seeded["invoice_1500"].pk, seeded["support_invoice_500"].pk]
    lines = [line.split() for line in out.getvalue().splitlines()]
    assert lines[0] == ["Replayed", "5", "decisions;", "3", "would", "change."]
    assert lines[1][:4] == ["allow", "→", "deny", "3"]
    assert out.getvalue().splitlines()[1].endswith(f"e.g. {affected}")
    assert lines[2][-1] == "2200.00" and lines[3][-1] == "0"
    assert lines[4:] == [["Finance", "2"], ["Customer", "Support", "1"]]


def test_replay_policies_leaves_out_decisions_older_than_its_days(no_invoices_over_150, decide, finance_agent):
    # Given one invoice over 150 from 40 days ago
    decide(finance_agent, amount=200, currency="EUR", now=timezone.now() - dt.timedelta(days=40))
    out = StringIO()

    # When the policy is replayed over 30 days
    call_command("replay_policies", str(no_invoices_over_150.pk), "--days", "30", stdout=out, stderr=StringIO())

    # Then nothing was replayed
    assert out.getvalue().splitlines()[0] == "Replayed 0 decisions; 0 would change."


def test_replay_policies_refuses_an_unknown_policy(no_invoices_over_150):
    # When a policy id that does not exist is given along with one that does
    with pytest.raises(CommandError) as refused:
        call_command("replay_policies", str(no_invoices_over_150.pk), "999999", stdout=StringIO())

    # Then nothing runs and the missing id is named
    assert str(refused.value) == "No policy with id 999999."
