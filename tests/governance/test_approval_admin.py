"""Deciding requests in the admin: a rejection asks for the reason first, as the inbox and the API do."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from governance.approvals import REASON_REQUIRED, ReasonRequired, decide_approval
from governance.models import Approval

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:governance_approval_changelist"


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def held(hold, finance_agent) -> list[Approval]:
    return [hold(finance_agent, resource=f"invoice/{n}").approval for n in range(2)]


def test_rejecting_in_the_admin_asks_for_the_reason_before_anything_changes(client, bob, held):
    # Given bob, a Finance supervisor, on the list of requests
    client.force_login(bob)

    # When he chooses to reject two of them
    response = client.post(reverse(CHANGELIST), {"action": "reject", "_selected_action": [a.pk for a in held]})

    # Then he is asked why, on a page naming both, and neither is decided yet
    assert response.status_code == 200
    assert response.templates[0].name == "admin/governance/approval/reject.html"
    assert [a.pk for a in response.context["approvals"]] == [a.pk for a in held]
    assert {a.status for a in Approval.objects.all()} == {Approval.Status.PENDING}


def test_the_reason_given_in_the_admin_is_recorded_on_each_rejected_request(client, bob, held):
    client.force_login(bob)

    response = client.post(
        reverse(CHANGELIST),
        {"action": "reject", "_selected_action": [a.pk for a in held], "reason_given": "yes", "comment": "No PO."},
    )

    assert response.status_code == 302
    assert [(a.status, a.comment, a.decided_by) for a in Approval.objects.order_by("pk")] == [
        (Approval.Status.REJECTED, "No PO.", bob)
    ] * 2
    assert messages_of(response) == [f"Approval {a.pk} rejected." for a in held]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rejection_without_a_reason_in_the_admin_is_refused_with_the_rule(client, bob, held, reason):
    client.force_login(bob)

    response = client.post(
        reverse(CHANGELIST),
        {"action": "reject", "_selected_action": [a.pk for a in held], "reason_given": "yes", "comment": reason},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"comment": [REASON_REQUIRED]}
    assert {a.status for a in Approval.objects.all()} == {Approval.Status.PENDING}


def test_decide_approval_itself_refuses_a_rejection_without_a_reason(bob, held):
    with pytest.raises(ReasonRequired, match="Say why you reject"):
        decide_approval(held[0].pk, approve=False, by=bob, comment=" ")

    held[0].refresh_from_db()
    assert held[0].status == Approval.Status.PENDING
