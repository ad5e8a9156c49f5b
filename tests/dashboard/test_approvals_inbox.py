"""The approvals inbox over HTTP: who sees which requests, deciding with the form, and every refusal as a
message, never a 500. Deciding is governance.approvals.decide_approval, the API's own."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dashboard.money import format_money
from governance.models import Approval
from tests.support.oversight import SCRIPT

pytestmark = pytest.mark.django_db
INBOX = reverse("dashboard:approvals")


def decide_url(approval: Approval) -> str:
    return reverse("dashboard:approval-decide", args=[approval.pk])


def listed(response) -> list[str]:
    """The ids of the requests the page lists, in order."""
    html = response.content.decode()
    return [part.split('"', 1)[0] for part in html.split('data-approval-id="')[1:]]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def note_by(response, approval: Approval, control: str) -> str:
    """The message the page placed by one card's reason box ("comment") or its buttons ("verdict")."""
    html = response.content.decode()
    marker = f'data-testid="note-{control}-{approval.pk}">'
    assert marker in html, f"no {control} note on request {approval.pk}"
    return html.split(marker, 1)[1].split("</p>", 1)[0]


def test_a_supervisor_sees_the_requests_of_their_departments_oldest_deadline_first(
    client, bob, finance_agent, support_agent, hold
):
    later = hold(finance_agent, "700")
    sooner = hold(finance_agent, "800", now=timezone.now() - dt.timedelta(hours=1))
    hold(support_agent, "900")
    client.force_login(bob)

    response = client.get(INBOX)

    assert listed(response) == [str(sooner.approval.pk), str(later.approval.pk)]
    assert response.content.decode().count('class="decide"') == 2


def test_each_request_shows_what_was_asked_and_which_policy_asked_for_a_person(client, bob, finance_agent, hold):
    decision = hold(finance_agent, "1250.50", resource="invoice/INV-7", context={"vendor": "ACME Paper"})
    client.force_login(bob)

    html = client.get(INBOX).content.decode()

    for text in (
        "Invoice Bot",
        "Invoice: approve",  # the action in words, not its code
        format_money(Decimal("1250.50"), "EUR"),
        f"risk {decision.risk_score}",
        "invoice/INV-7",
        "Big invoices need a supervisor",
        "Large sums get a second pair of eyes.",
        "amount &gt; 500.0",
        "ACME Paper",
        reverse("dashboard:decision", args=[decision.pk]),
    ):
        assert text in html


def test_agent_supplied_text_is_escaped(client, bob, finance_agent, hold):
    finance_agent.name = SCRIPT
    finance_agent.save()
    hold(finance_agent, resource=SCRIPT, context={SCRIPT: SCRIPT})
    client.force_login(bob)

    html = client.get(INBOX).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in html


def test_approving_decides_the_request_through_the_service_and_audits_it(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(decide_url(approval), {"verdict": "approve", "comment": "Known vendor."}, follow=True)

    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == (Approval.Status.APPROVED, bob, "Known vendor.")
    resolved = AuditEvent.objects.get(kind="approval.resolved", subject_id=str(approval.pk))
    assert (resolved.actor_label, resolved.after["status"]) == ("user:bob", "approved")
    assert messages_of(response) == [f"Request {approval.pk} approved."]
    assert listed(response) == []


def test_the_policy_rationale_is_printed_once_per_request(client, bob, finance_agent, hold):
    hold(finance_agent)
    client.force_login(bob)

    html = client.get(INBOX).content.decode()

    assert html.count("Large sums get a second pair of eyes.") == 1


def test_rejecting_without_a_comment_is_refused_by_the_reason_box_not_at_the_top(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(decide_url(approval), {"verdict": "reject", "comment": "  "}, follow=True)

    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    assert note_by(response, approval, "comment") == "Say why you reject the request: the agent&#x27;s owners read it."
    assert messages_of(response) == []


def test_a_refusal_without_javascript_keeps_the_filters_and_the_page(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(
        decide_url(approval), {"verdict": "reject", "comment": "", "query": "risk=low&sort=amount&evil=1"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}?risk=low&sort=amount#approval-{approval.pk}"


def test_a_refusal_asked_for_in_json_is_a_400_naming_the_reason_box(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(decide_url(approval), {"verdict": "reject"}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "approval": approval.pk,
        "decided": False,
        "field": "comment",
        "message": "Say why you reject the request: the agent's owners read it.",
    }


def test_rejecting_with_a_comment_rejects(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    client.post(decide_url(approval), {"verdict": "reject", "comment": "Unknown vendor."})

    approval.refresh_from_db()
    assert (approval.status, approval.comment) == (Approval.Status.REJECTED, "Unknown vendor.")


def test_a_request_already_decided_is_a_message_not_an_error(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)
    client.post(decide_url(approval), {"verdict": "approve"}, follow=True)

    response = client.post(decide_url(approval), {"verdict": "reject", "comment": "Changed my mind."}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [f"Request {approval.pk}: This request was already approved."]
    approval.refresh_from_db()
    assert approval.status == Approval.Status.APPROVED


def test_an_unknown_verdict_is_a_message(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.post(decide_url(approval), {"verdict": "maybe"}, follow=True)

    assert response.status_code == 200
    assert "Select a valid choice" in note_by(response, approval, "verdict")


def test_an_auditor_reads_the_pending_requests_without_buttons(client, dave, finance_agent, support_agent, hold):
    finance, support = hold(finance_agent), hold(support_agent)
    client.force_login(dave)

    response = client.get(INBOX)

    html = response.content.decode()
    assert set(listed(response)) == {str(finance.approval.pk), str(support.approval.pk)}
    assert 'value="approve"' not in html and "<textarea" not in html
    assert "You do not decide requests" in html


def test_an_auditors_post_is_refused_and_changes_nothing(client, dave, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(dave)

    response = client.post(decide_url(approval), {"verdict": "approve"}, follow=True)

    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING
    assert note_by(response, approval, "verdict") == "You may not decide this request."
    assert not AuditEvent.objects.filter(kind="approval.resolved").exists()


def test_a_request_outside_the_supervisors_departments_is_not_found(client, bob, support_agent, hold):
    approval = hold(support_agent).approval
    client.force_login(bob)

    response = client.post(decide_url(approval), {"verdict": "approve"})

    assert response.status_code == 404
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING


def test_the_inbox_needs_a_role_and_a_login(client, erin):
    assert client.get(INBOX).status_code == 302
    client.force_login(erin)
    assert client.get(INBOX).status_code == 403


def test_deciding_needs_a_post_with_a_csrf_token(bob, finance_agent, hold):
    from django.test import Client

    approval = hold(finance_agent).approval
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)

    assert client.get(decide_url(approval)).status_code == 405
    assert client.post(decide_url(approval), {"verdict": "approve"}).status_code == 403
    approval.refresh_from_db()
    assert approval.status == Approval.Status.PENDING


def test_the_live_list_is_the_same_list(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    response = client.get(reverse("dashboard:approval-rows"))

    assert listed(response) == [str(approval.pk)]
    assert "<html" not in response.content.decode()


def test_the_inbox_costs_the_same_queries_with_more_requests(client, bob, finance_agent, hold):
    def queries_for_the_inbox() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(INBOX).status_code == 200
        return len(queries)

    for amount in range(600, 603):
        hold(finance_agent, str(amount))
    client.force_login(bob)
    queries_for_the_inbox()  # the page's per-minute caches (capability words) are warm from here on
    few = queries_for_the_inbox()
    for amount in range(700, 730):
        hold(finance_agent, str(amount))

    assert queries_for_the_inbox() == few
