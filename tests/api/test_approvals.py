"""Approvals through the API: the ones addressed to me, approve and reject through decide_approval."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.approvals import REASON_REQUIRED, pending_for
from governance.models import Approval
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db


def approval_in(department, agent, role: str = "Supervisor", hours: int = 4) -> Approval:
    return Approval.objects.create(
        decision=DecisionFactory(agent=agent),
        department=department,
        approver_role=role,
        deadline=timezone.now() + dt.timedelta(hours=hours),
    )


def test_pending_for_lists_my_roles_requests_in_my_departments_oldest_deadline_first(
    world, bob, finance, support, finance_agent, support_agent
):
    # Given supervisor-level requests in Finance (one due sooner), one in Support, one for executives
    later = world.approval
    sooner = approval_in(finance, finance_agent, hours=1)
    approval_in(support, support_agent)
    approval_in(finance, finance_agent, role="Executive")

    # Then bob is asked for the two Finance supervisor requests, sooner first
    assert list(pending_for(bob)) == [sooner, later]


def test_pending_for_leaves_out_decided_requests(world, bob):
    Approval.objects.filter(pk=world.approval.pk).update(status=Approval.Status.APPROVED)

    assert list(pending_for(bob)) == []


def test_pending_for_someone_without_a_role_is_empty(world, erin):
    assert list(pending_for(erin)) == []


def test_mine_lists_what_pending_for_lists(client_for, world):
    body = client_for("bob").get("/api/v1/approvals/mine").json()

    assert [row["id"] for row in body["results"]] == [world.approval.pk]


def test_approving_records_who_and_why(client_for, world, bob):
    response = client_for("bob").post(
        f"/api/v1/approvals/{world.approval.pk}/approve", {"comment": "PO matches"}, format="json"
    )

    assert response.status_code == 200
    world.approval.refresh_from_db()
    assert (world.approval.status, world.approval.decided_by, world.approval.comment) == (
        Approval.Status.APPROVED,
        bob,
        "PO matches",
    )


def test_deciding_twice_is_a_conflict(client_for, world):
    client = client_for("alice")
    client.post(f"/api/v1/approvals/{world.approval.pk}/reject", {"comment": "Unknown vendor."}, format="json")

    response = client.post(f"/api/v1/approvals/{world.approval.pk}/approve", {}, format="json")

    assert response.status_code == 409
    assert "already rejected" in response.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "   "}])
def test_rejecting_without_a_reason_is_refused_and_leaves_the_request_pending(client_for, world, body):
    response = client_for("bob").post(f"/api/v1/approvals/{world.approval.pk}/reject", body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"]["comment"] == [REASON_REQUIRED]
    world.approval.refresh_from_db()
    assert world.approval.status == Approval.Status.PENDING


def test_rejecting_with_a_reason_records_it(client_for, world, bob):
    response = client_for("bob").post(
        f"/api/v1/approvals/{world.approval.pk}/reject", {"comment": "No PO."}, format="json"
    )

    assert response.status_code == 200
    world.approval.refresh_from_db()
    assert (world.approval.status, world.approval.comment) == (Approval.Status.REJECTED, "No PO.")
