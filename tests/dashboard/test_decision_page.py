"""One decision's page: the request, every policy version evaluated, the approval trail, the outcome, its
links in the audit chain; overriding from it; scope and escaping."""

import pytest
from django.urls import reverse

from audit import chain
from audit.chain import verify_links
from audit.models import AuditEvent
from governance import overrides
from governance.approvals import decide_approval
from governance.models import Effect, Override
from governance.outcomes import report_outcome
from tests.factories import DecisionFactory
from tests.support.oversight import SCRIPT

pytestmark = pytest.mark.django_db


def page_of(decision) -> str:
    return reverse("dashboard:decision", args=[decision.pk])


@pytest.fixture
def denied(make_policy, decide, finance_agent):
    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    make_policy(name="Watch refunds", effect=Effect.FLAG, actions="refund.issue", rationale="Watched.", mode="shadow")
    make_policy(
        name="Big refunds",
        effect=Effect.DENY,
        actions="refund.issue",
        condition="amount > 1000.0",
        rationale="Never above 1000.",
    )
    return decide(finance_agent, "refund.issue", amount="40", resource="order/77", context={"order": 77})


def test_the_page_shows_the_request_and_every_policy_version_evaluated(client, alice, denied):
    client.force_login(alice)

    html = client.get(page_of(denied)).content.decode()

    for text in (
        "Invoice Bot",
        "refund.issue",
        "order/77",
        "40.00",
        "&quot;order&quot;: 77",
        "Refunds go by hand.",
        "No refunds",
        "Watch refunds",
        "Big refunds",
        "amount &gt; 1000.0",
        "v1",
        "on trial (not enforced)",
        "enforced",
    ):
        assert text in html
    assert html.count("<strong>fired</strong>") == 2  # the deny, and the shadow flag; not the big-refund rule


def test_the_audit_entry_is_shown_with_its_hashes_and_verifies(client, alice, denied):
    client.force_login(alice)
    entry = AuditEvent.objects.get(kind="decision.created", subject_id=str(denied.pk))

    html = client.get(page_of(denied)).content.decode()

    assert entry.hash in html and entry.prev_hash in html
    assert f'data-testid="link-{entry.seq}"><span class="verdict-allow">verifies' in html


def test_a_decision_whose_event_is_queued_for_the_chain_says_so_until_it_is_chained(
    client, alice, queued, decide, finance_agent
):
    # Given a decision committed under queued sequencing, its event not chained yet
    client.force_login(alice)
    decision = decide(finance_agent)

    # Then its page shows the entry as queued, not as missing from the chain
    html = client.get(page_of(decision)).content.decode()
    assert 'data-testid="queued-entry"' in html and "Decision recorded" in html
    assert "not in the audit chain" not in html

    # And once the sequencer has integrated it, the page shows the chained, verified entry instead
    chain.integrate_all()
    html = client.get(page_of(decision)).content.decode()
    entry = AuditEvent.objects.get(kind="decision.created", subject_id=str(decision.pk))
    assert 'data-testid="queued-entry"' not in html
    assert f'data-testid="link-{entry.seq}"><span class="verdict-allow">verifies' in html


def test_an_override_waiting_to_be_chained_is_listed_after_the_chained_entries_with_its_details(
    client, bob, queued, make_policy, decide, finance_agent
):
    # Given a denied decision whose creation is chained, then overridden by bob, the override not chained yet
    make_policy(name="No refunds", effect=Effect.DENY, actions="refund.issue", rationale="Refunds go by hand.")
    denied = decide(finance_agent, "refund.issue")
    chain.integrate_all()
    overrides.override_decision(denied.pk, by=bob, reason="Agreed by phone.")
    client.force_login(bob)

    # When he opens the decision's page
    html = client.get(page_of(denied)).content.decode()

    # Then the chained creation comes first, then the override, waiting to be chained, with its reason
    created = AuditEvent.objects.get(kind="decision.created", subject_id=str(denied.pk))
    chained_at = html.index(f'data-testid="link-{created.seq}"')
    waiting_at = html.index('data-testid="queued-entry"')
    assert chained_at < waiting_at
    waiting_row = html[waiting_at : html.index("</tr>", waiting_at)]
    assert "Decision overridden" in waiting_row and "“Agreed by phone.”" in waiting_row
    assert "Waiting to be chained" in waiting_row
    assert 'data-waiting="1"' in html  # what static/js/trail.js watches to re-read the page until it is chained


def test_a_trail_with_nothing_waiting_asks_for_no_updates(client, alice, denied):
    client.force_login(alice)

    html = client.get(page_of(denied)).content.decode()

    assert 'id="audit-trail"' in html and "data-waiting" not in html


def test_a_link_whose_content_no_longer_matches_its_hash_is_reported(denied):
    entry = AuditEvent.objects.get(kind="decision.created", subject_id=str(denied.pk))
    entry.after["verdict"] = "allow"  # as if someone had edited the row

    [report] = verify_links([entry])

    assert (report.content_ok, report.previous_ok, report.ok) == (False, True, False)


def test_the_approval_trail_names_who_decided_when_and_why(client, alice, bob, finance_agent, hold):
    decision = hold(finance_agent)
    decide_approval(decision.approval.pk, approve=True, by=bob, comment="Known vendor.")
    report_outcome(decision, "success", reported_by="agent:invoice-bot")
    client.force_login(alice)

    html = client.get(page_of(decision)).content.decode()

    for text in (
        "Approved",
        "decided by bob",
        "“Known vendor.”",
        "Approval requested",
        "Approval decided",
        "Success",
        'data-testid="outcome-reporter">Invoice Bot (agent)<',
    ):
        assert text in html
    # codes stay out of what people read
    for code in ("approval.requested", "approval.resolved", "user:bob", "agent:invoice-bot"):
        assert code not in html


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
def test_a_request_decided_by_an_account_since_removed_still_shows(client, alice, bob, finance_agent, hold, approve):
    # Given bob decided a request, and then his account was removed (the approval keeps no person: SET_NULL)
    decision = hold(finance_agent)
    decide_approval(decision.approval.pk, approve=approve, by=bob, comment="Known vendor.")
    bob.delete()
    client.force_login(alice)

    # When the decision's page is opened
    response = client.get(page_of(decision))

    # Then it shows who decided as no longer on record, never a server error
    assert response.status_code == 200
    assert "by a person no longer on record on" in response.content.decode()


def test_a_supervisor_overrides_from_the_page_and_the_page_shows_it(client, bob, denied):
    client.force_login(bob)
    assert 'data-testid="override-form"' in client.get(page_of(denied)).content.decode()

    response = client.post(
        reverse("dashboard:decision-override", args=[denied.pk]), {"reason": "Agreed by phone."}, follow=True
    )

    html = response.content.decode()
    assert Override.objects.get(decision=denied).reason == "Agreed by phone."
    assert "Overridden</strong> by bob" in html and "Decision overridden" in html
    assert 'data-testid="override-form"' not in html


def test_an_override_without_a_reason_is_a_message(client, bob, denied):
    client.force_login(bob)

    response = client.post(reverse("dashboard:decision-override", args=[denied.pk]), {"reason": ""}, follow=True)

    assert response.status_code == 200
    assert "Give the reason for the override" in response.content.decode()
    assert not Override.objects.exists()


def test_an_auditor_sees_no_override_form_and_a_forged_post_is_refused(client, dave, denied):
    client.force_login(dave)
    assert 'data-testid="override-form"' not in client.get(page_of(denied)).content.decode()

    response = client.post(reverse("dashboard:decision-override", args=[denied.pk]), {"reason": "x"}, follow=True)

    assert "You may not override this decision." in response.content.decode()
    assert not Override.objects.exists()


def test_a_decision_outside_the_viewers_departments_is_not_found(client, bob, support_agent):
    elsewhere = DecisionFactory(agent=support_agent, verdict="deny")
    client.force_login(bob)

    assert client.get(page_of(elsewhere)).status_code == 404
    assert client.post(reverse("dashboard:decision-override", args=[elsewhere.pk]), {"reason": "x"}).status_code == 404


def test_agent_supplied_text_is_escaped(client, alice, finance_agent):
    finance_agent.name = SCRIPT
    finance_agent.save()
    decision = DecisionFactory(agent=finance_agent, resource=SCRIPT, context={"note": SCRIPT}, explanation=SCRIPT)
    client.force_login(alice)

    html = client.get(page_of(decision)).content.decode()

    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(") >= 4


def test_a_decision_loaded_in_bulk_says_it_is_not_in_the_chain(client, alice, finance_agent):
    decision = DecisionFactory(agent=finance_agent)
    client.force_login(alice)

    html = client.get(page_of(decision)).content.decode()

    assert "This decision is not in the audit chain" in html


def test_the_page_costs_the_same_queries_however_many_policies_ran(
    client, alice, make_policy, decide, finance_agent, django_assert_max_num_queries
):
    for n in range(12):
        make_policy(name=f"Rule {n}", effect=Effect.FLAG, actions="refund.issue", rationale="Watched.")
    flagged = decide(finance_agent, "refund.issue")
    client.force_login(alice)

    with django_assert_max_num_queries(12):
        response = client.get(page_of(flagged))

    assert response.content.decode().count("<strong>fired</strong>") == 12
