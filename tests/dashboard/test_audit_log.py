"""The audit log page (issue 19): read-only, in business words, a page at a time by the chain's order.

Auditors read the whole organisation's log; a Supervisor reads their departments' events only; Executives and
Policy Admins hold no audit permission (orchestration.roles) and are refused, and their menu does not offer it.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from dashboard import audit_log

URL = reverse("dashboard:audit-log")


@pytest.fixture
def recent(decide, finance_agent, support_agent):
    """Two decisions of Finance and one of Customer Support, made now."""
    now = timezone.now()
    return [decide(finance_agent, now=now), decide(finance_agent, now=now), decide(support_agent, now=now)]


def rows(response) -> list:
    return response.context["page"].rows


def test_an_auditor_reads_every_event_newest_first_in_words_with_a_link_to_its_decision(client, dave, recent):
    client.force_login(dave)

    # When the auditor opens the audit log
    response = client.get(URL)

    # Then every event is there, newest first, named in words, each decision's event linked to its page
    assert response.status_code == 200
    seqs = [row.event.seq for row in rows(response)]
    assert seqs == sorted(AuditEvent.objects.values_list("seq", flat=True), reverse=True)
    page = response.content.decode()
    assert {"Decision recorded", "Role changed"} <= {row.what for row in rows(response)}
    assert ">decision.created<" not in page
    assert "Invoice Bot (agent)" in page
    assert reverse("dashboard:decision", args=[recent[0].pk]) in page


def test_a_supervisor_reads_only_their_departments_events(client, bob, recent, finance):
    client.force_login(bob)

    # When Bob, who supervises Finance, opens the audit log
    shown = rows(client.get(URL))

    # Then he sees Finance's events and none of Customer Support's
    assert shown and {row.event.department_id for row in shown} == {finance.pk}


@pytest.mark.parametrize("username", ["alice", "carol"])
def test_people_without_the_audit_permission_are_refused_and_not_offered_the_menu_item(
    client, request, recent, username
) -> None:
    client.force_login(request.getfixturevalue(username))

    assert client.get(URL).status_code == 403
    assert f'href="{URL}"' not in client.get(reverse("dashboard:overview")).content.decode()


def test_the_menu_item_leads_to_the_page_not_the_admin(client, dave):
    client.force_login(dave)

    page = client.get(reverse("dashboard:overview")).content.decode()

    assert f'href="{URL}"' in page
    assert 'href="/admin/audit/auditevent/"' not in page


def test_filters_by_what_happened_and_who_acted(client, dave, recent):
    # Given three agents' decisions
    client.force_login(dave)

    # When the auditor asks for decisions recorded by the support agent
    shown = rows(client.get(URL, {"kind": "decision.created", "actor": "agent:reply-bot"}))

    # Then only that agent's decision events are listed
    assert [row.event.subject_id for row in shown] == [str(recent[2].pk)]


def test_pages_are_keyed_on_the_chain_order(client, dave, recent, monkeypatch):
    # Given pages of two events
    monkeypatch.setattr(audit_log, "PAGE_SIZE", 2)
    client.force_login(dave)
    every = sorted(AuditEvent.objects.values_list("seq", flat=True), reverse=True)

    # When the auditor reads the first page, then follows "Older events"
    first = client.get(URL)
    older = client.get(URL, {"before": first.context["page"].next_before})

    # Then the pages follow each other without a gap or a repeat, and the second says it is not the first
    assert [r.event.seq for r in rows(first)] + [r.event.seq for r in rows(older)] == every[:4]
    assert 'data-testid="newest-page"' in older.content.decode()
    assert f"before={every[1]}" in first.content.decode()


@pytest.mark.parametrize(
    "query",
    [{"kind": "no.such_kind"}, {"before": "abc"}, {"before": "-3"}, {"period": "forever"}, {"actor": "x" * 300}],
)
def test_bad_filters_are_answered_400_with_the_fields_messages(client, dave, query):
    client.force_login(dave)

    response = client.get(URL, query)

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()


def test_the_kinds_offered_are_those_the_log_holds(db, recent):
    # Given decisions recorded
    kinds = audit_log.recorded_kinds()

    # Then the loose index scan finds each kind once, in order
    assert kinds == sorted(set(AuditEvent.objects.values_list("kind", flat=True)))
