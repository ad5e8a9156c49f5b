"""The integrity page (issue 19 item 5): who sees what, and who may start a verification or sign a checkpoint.

Auditors see the whole organisation and start checks; Supervisors see their departments' view (never the
organisation's event count); Executives and Policy Admins hold no audit permission and are refused.
"""

import pytest
from django.urls import reverse

from audit import checkpoints, verification
from audit.models import AuditEvent, Checkpoint, VerificationRun
from tests.factories import UserFactory


@pytest.fixture
def eager_tasks(monkeypatch):
    """Celery tasks run in the request that queues them, as with no broker (the run itself is real)."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def chain_of_decisions(decide, finance_agent, support_agent):
    for amount in (10, 20, 30):
        decide(finance_agent, amount=amount)
    decide(support_agent, amount=5)
    return AuditEvent.objects.count()


def test_an_auditor_sees_the_signed_checkpoint_with_its_size_fingerprint_and_key(client, dave, chain_of_decisions):
    # Given a signed checkpoint
    checkpoint = checkpoints.take()
    client.force_login(dave)

    # When the auditor opens the page
    page = client.get(reverse("dashboard:integrity")).content.decode()

    # Then it shows the size, a labelled fingerprint and how to check it offline
    assert f'data-testid="checkpoint-size">{checkpoint.size}<' in page
    assert checkpoints.fingerprint(checkpoints.as_document(checkpoint)) in page
    assert "first 16 hex digits" in page
    assert "python -m audit.checkpoint_check regent-checkpoint-" in page
    assert 'data-testid="verify-full"' in page


def test_an_auditor_starts_a_verification_that_runs_in_the_background(
    client, dave, chain_of_decisions, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(dave)

    # When the auditor starts a full check
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dashboard:integrity-verify"), {"mode": "full"})

    # Then the task ran it and the page and its JSON say the result in words
    run = VerificationRun.objects.get()
    assert response.status_code == 302
    assert (run.status, run.started_by, run.checked) == (VerificationRun.Status.INTACT, dave, chain_of_decisions)
    state = client.get(reverse("dashboard:integrity-run", args=[run.pk])).json()
    assert state["finished"] and state["status_label"] == "Intact"
    assert f"all {chain_of_decisions:,} events link to the one before" in state["summary"]


def test_a_supervisor_sees_their_departments_view_without_the_organisations_count(client, bob, chain_of_decisions):
    # Given a checkpoint and a finished verification
    checkpoints.take()
    verification.verify_now(VerificationRun.Mode.FULL)
    client.force_login(bob)

    # When the Finance supervisor opens the page and reads the run
    page = client.get(reverse("dashboard:integrity")).content.decode()
    state = client.get(reverse("dashboard:integrity-run", args=[VerificationRun.objects.get().pk])).json()

    # Then they see the result and Finance's events, never the organisation's count, nor a start button
    finance_events = AuditEvent.objects.filter(department__name="Finance").count()
    assert finance_events < chain_of_decisions
    assert f"Finance: {finance_events} event{'s' if finance_events != 1 else ''} in the audit log." in page
    assert "checkpoint-size" not in page and f"{chain_of_decisions} events" not in page
    assert "verify-full" not in page and "sign-checkpoint" not in page
    assert state["summary"].startswith("The audit log was found intact on")
    assert str(chain_of_decisions) not in state.get("progress", "") and state["findings"] == []
    assert client.get(reverse("dashboard:integrity-checkpoint")).status_code == 403


@pytest.mark.parametrize("username", ["bob", "alice", "carol"])
def test_only_auditors_may_start_a_verification_or_sign_a_checkpoint(client, request, username, chain_of_decisions):
    client.force_login(request.getfixturevalue(username))

    # When someone else tries to start a check or sign a checkpoint
    started = client.post(reverse("dashboard:integrity-verify"), {"mode": "full"})
    signed = client.post(reverse("dashboard:integrity-sign"))

    # Then both are refused and nothing was written
    assert (started.status_code, signed.status_code) == (403, 403)
    assert (VerificationRun.objects.count(), Checkpoint.objects.count()) == (0, 0)


@pytest.mark.parametrize("username", ["alice", "carol", "erin"])
def test_people_without_the_audit_log_do_not_see_the_page(client, request, username):
    client.force_login(request.getfixturevalue(username))
    assert client.get(reverse("dashboard:integrity")).status_code == 403


def test_a_superuser_may_sign_a_checkpoint(client, chain_of_decisions):
    client.force_login(UserFactory(username="root", is_superuser=True, roles=[]))
    response = client.post(reverse("dashboard:integrity-sign"))
    assert response.status_code == 302 and Checkpoint.objects.get().size == chain_of_decisions


def test_an_unknown_mode_is_a_400_that_says_what_to_choose(client, dave):
    client.force_login(dave)
    response = client.post(reverse("dashboard:integrity-verify"), {"mode": "everything"})
    assert response.status_code == 400 and b"incremental or full" in response.content
    assert not VerificationRun.objects.exists()


def test_a_large_log_reads_with_thousands_separators(client, dave, chain_of_decisions):
    # Given a checkpoint of a log of 28,797 events
    checkpoints.take(size=28_797, last_hash="a" * 64)
    client.force_login(dave)

    # When the auditor opens the page, then the size reads as people write it
    page = client.get(reverse("dashboard:integrity")).content.decode()
    assert 'data-testid="checkpoint-size">28,797<' in page
