"""Deciding several requests at once: one reason for all, each request through `decide_approval` on its own,
reported one by one, and never beyond what the person's role and departments allow."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from governance import approvals
from governance.approvals import BULK_LIMIT, decide_each, escalate_overdue
from governance.models import Approval

pytestmark = pytest.mark.django_db
BULK = reverse("dashboard:approvals-decide-selected")
INBOX = reverse("dashboard:approvals")
JSON = {"HTTP_ACCEPT": "application/json"}


def status_of(*held: Approval) -> list[str]:
    return [Approval.objects.get(pk=a.pk).status for a in held]


def to_executive(hold, agent) -> Approval:
    approval = hold(agent, now=timezone.now() - dt.timedelta(days=2)).approval
    escalate_overdue(now=approval.deadline + dt.timedelta(seconds=1))
    approval.refresh_from_db()
    return approval


def test_rejecting_several_records_the_one_reason_on_each_and_audits_each(client, bob, finance_agent, hold):
    held = [hold(finance_agent, str(600 + n)).approval for n in range(3)]
    client.force_login(bob)

    response = client.post(
        BULK, {"approval": [a.pk for a in held], "verdict": "reject", "comment": "Vendor not approved."}, **JSON
    )

    assert response.status_code == 200
    assert response.json()["summary"] == "3 of 3 rejected."
    assert [r["decided"] for r in response.json()["results"]] == [True, True, True]
    for approval in held:
        approval.refresh_from_db()
        assert (approval.status, approval.comment, approval.decided_by) == ("rejected", "Vendor not approved.", bob)
    assert AuditEvent.objects.filter(kind="approval.resolved", actor_label="user:bob").count() == 3


def test_rejecting_several_without_a_reason_decides_none(client, bob, finance_agent, hold):
    held = [hold(finance_agent, str(600 + n)).approval for n in range(2)]
    client.force_login(bob)

    response = client.post(BULK, {"approval": [a.pk for a in held], "verdict": "reject", "comment": " "}, **JSON)

    assert response.status_code == 400
    assert response.json()["field"] == "comment"
    assert response.json()["message"] == approvals.REASON_REQUIRED
    assert status_of(*held) == ["pending", "pending"]


def test_one_refused_does_not_fail_the_others_and_says_why_by_itself(client, alice, bob, finance_agent, hold):
    first, decided_already, last = (hold(finance_agent, str(600 + n)).approval for n in range(3))
    approvals.decide_approval(decided_already.pk, approve=False, by=alice, comment="No.")
    client.force_login(bob)

    response = client.post(BULK, {"approval": [first.pk, decided_already.pk, last.pk], "verdict": "approve"}, **JSON)

    results = {r["approval"]: r for r in response.json()["results"]}
    assert results[decided_already.pk] == {
        "approval": decided_already.pk,
        "decided": False,
        "message": "This request was already rejected.",
    }
    assert results[first.pk]["decided"] and results[last.pk]["decided"]
    assert status_of(first, decided_already, last) == ["approved", "rejected", "approved"]
    assert response.json()["summary"] == "2 of 3 approved. The others were refused: the reason is by each request."


def test_without_javascript_each_refusal_is_placed_by_its_card(client, alice, bob, finance_agent, hold):
    approval = to_executive(hold, finance_agent)  # now addressed to executives: not bob's to decide
    fine = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(
        BULK, {"approval": [approval.pk, fine.pk], "verdict": "approve", "query": "role=any"}, follow=True
    )

    html = response.content.decode()
    note = html.split(f'data-testid="note-verdict-{approval.pk}">', 1)[1].split("</p>", 1)[0]
    assert note == "You may not decide this request."
    assert [str(m) for m in response.context["messages"]] == [
        "1 of 2 approved. The others were refused: the reason is by each request."
    ]
    assert status_of(approval, fine) == ["pending", "approved"]


def test_a_bulk_reject_without_a_reason_is_refused_by_the_bulk_reason_box(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(BULK, {"approval": [approval.pk], "verdict": "reject"}, follow=True)

    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="bulk-note-comment"' in html
    assert "Say why you reject the request" in html.split('id="bulk-note-comment"', 1)[1].split("</p>", 1)[0]
    assert status_of(approval) == ["pending"]


def test_nothing_selected_is_a_400(client, bob):
    client.force_login(bob)

    response = client.post(BULK, {"verdict": "approve"}, **JSON)

    assert (response.status_code, response.json()["message"]) == (400, "Select the requests to decide.")


def test_too_many_at_once_is_a_400(client, bob):
    client.force_login(bob)

    response = client.post(BULK, {"verdict": "approve", "approval": list(range(1, BULK_LIMIT + 2))}, **JSON)

    assert response.status_code == 400
    assert response.json()["message"] == f"Decide at most {BULK_LIMIT} requests at once."


# Scope, role by role: a person only ever decides what their role and departments allow.


def test_a_supervisor_decides_their_departments_supervisor_requests_only(bob, finance_agent, support_agent, hold):
    own = hold(finance_agent).approval
    elsewhere = hold(support_agent).approval
    escalated = to_executive(hold, finance_agent)

    rulings = decide_each([own.pk, elsewhere.pk, escalated.pk], approve=True, by=bob)

    assert [(r.approval_id, r.decided, r.message) for r in rulings] == [
        (own.pk, True, "Approved."),
        (elsewhere.pk, False, approvals.NOT_FOUND),
        (escalated.pk, False, "You may not decide this request."),
    ]
    assert status_of(own, elsewhere, escalated) == ["approved", "pending", "pending"]


def test_an_executive_decides_any_department_and_any_level(alice, finance_agent, support_agent, hold):
    held = [hold(support_agent).approval, to_executive(hold, finance_agent)]

    rulings = decide_each([a.pk for a in held], approve=False, by=alice, comment="Paused spending.")

    assert [r.decided for r in rulings] == [True, True]
    assert status_of(*held) == ["rejected", "rejected"]


@pytest.mark.parametrize("reader", ["carol", "dave"])
def test_policy_admins_and_auditors_decide_nothing(request, reader, finance_agent, hold):
    held = hold(finance_agent).approval
    person = request.getfixturevalue(reader)

    rulings = decide_each([held.pk], approve=True, by=person)

    assert [(r.decided, r.message) for r in rulings] == [(False, "You may not decide this request.")]
    assert status_of(held) == ["pending"]
    assert not AuditEvent.objects.filter(kind="approval.resolved").exists()


def test_an_auditors_bulk_post_changes_nothing(client, dave, finance_agent, hold):
    held = hold(finance_agent).approval
    client.force_login(dave)

    response = client.post(BULK, {"approval": [held.pk], "verdict": "approve"}, **JSON)

    assert response.json()["results"] == [
        {"approval": held.pk, "decided": False, "message": "You may not decide this request."}
    ]
    assert status_of(held) == ["pending"]


def test_a_person_without_a_role_cannot_post(client, erin, finance_agent, hold):
    held = hold(finance_agent).approval
    client.force_login(erin)

    assert client.post(BULK, {"approval": [held.pk], "verdict": "approve"}).status_code == 403
    assert status_of(held) == ["pending"]
