"""The decision explorer over HTTP: filters give what the database holds, keyset pages neither repeat nor
skip (even while decisions arrive), scope, and bad input as form errors."""

import datetime as dt
import re

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dashboard import decisions as explorer
from governance.filtersets import TEXT_SEARCH_DEFAULT
from governance.models import Approval, Decision, Verdict
from tests.factories import AgentFactory, DecisionFactory
from tests.support.oversight import SCRIPT

pytestmark = pytest.mark.django_db
EXPLORER = reverse("dashboard:decisions")


def ids_on(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-decision-id="(\d+)"', response.content.decode())]


def cursor(response, name: str) -> str | None:
    found = re.search(rf'{name}=([A-Za-z0-9_-]+)" rel=', response.content.decode())
    return found.group(1) if found else None


def fired(policy_id: int, mode: str = "enforce") -> list[dict]:
    return [
        {
            "id": policy_id,
            "version": 1,
            "version_id": None,
            "name": f"P{policy_id}",
            "effect": "deny",
            "rationale": "r",
            "mode": mode,
        }
    ]


@pytest.fixture
def history(finance_agent, support_agent):
    """Forty decisions over ten days, of every verdict, risk and both departments."""
    now = timezone.now()
    other = AgentFactory(name="Ledger Bot", slug="ledger-bot", department=finance_agent.department)
    agents = [finance_agent, support_agent, other]
    verdicts = list(Verdict.values)
    for i in range(40):
        DecisionFactory(
            agent=agents[i % 3],
            verdict=verdicts[i % 4],
            risk_score=(i * 7) % 101,
            action=("invoice.approve", "refund.issue")[i % 2],
            resource=f"doc/{i}",
            explanation="Vendor ACME is new" if i % 5 == 0 else "",
            matched_policies=fired(7 if i % 3 == 0 else 8),
            created_at=now - dt.timedelta(hours=6 * i),
        )
    return now


def newest_first(queryset) -> list[int]:
    return list(queryset.order_by("-created_at", "-id").values_list("pk", flat=True))


WINDOW = TEXT_SEARCH_DEFAULT  # what text search reads when no period is given


def fired_policy(policy_id: int):
    return lambda now: Q(pk__in=[d.pk for d in Decision.objects.all() if d.matched_policies[0]["id"] == policy_id])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, lambda now: Q()),
        ({"verdict": ["deny", "flag"]}, lambda now: Q(verdict__in=["deny", "flag"])),
        ({"risk_band": "high"}, lambda now: Q(risk_score__gte=50, risk_score__lte=74)),
        (
            {"risk_min": "30", "risk_max": "60", "action": "refund.issue"},
            lambda now: Q(risk_score__gte=30, risk_score__lte=60, action="refund.issue"),
        ),
        ({"policy": "7"}, fired_policy(7)),
        (
            {"policy": "7", "verdict": ["allow", "deny"]},
            lambda now: fired_policy(7)(now) & Q(verdict__in=["allow", "deny"]),
        ),
        ({"q": "acme"}, lambda now: Q(explanation__icontains="acme", created_at__gt=now - WINDOW)),
        ({"q": "ledger"}, lambda now: Q(agent__name="Ledger Bot", created_at__gt=now - WINDOW)),
        (
            {"q": "doc/3", "verdict": "flag"},
            lambda now: Q(resource__startswith="doc/3", verdict="flag", created_at__gt=now - WINDOW),
        ),
    ],
    ids=[
        "all",
        "verdicts",
        "band",
        "risk-range-and-action",
        "policy",
        "policy-and-verdicts",
        "text",
        "agent-name",
        "text-and-verdict",
    ],
)
def test_the_explorer_lists_what_the_database_holds(client, alice, history, query, expected):
    client.force_login(alice)

    response = client.get(EXPLORER, query)

    assert response.status_code == 200
    held = newest_first(Decision.objects.filter(expected(history)))
    assert held, "a filter that matches nothing proves little"
    assert ids_on(response) == held[: explorer.PAGE_SIZE]


def test_filters_by_agent_department_and_period_together(client, alice, history, finance_agent, support):
    client.force_login(alice)
    since, until = history - dt.timedelta(days=5), history - dt.timedelta(days=1)
    query = {
        "agent": [finance_agent.pk],
        "department": [finance_agent.department_id],
        "since": since.strftime("%Y-%m-%dT%H:%M:%S"),
        "until": until.strftime("%Y-%m-%dT%H:%M:%S"),
    }

    response = client.get(EXPLORER, query)

    held = Decision.objects.filter(
        agent=finance_agent, created_at__gte=since.replace(microsecond=0), created_at__lt=until.replace(microsecond=0)
    )
    assert ids_on(response) == newest_first(held)
    assert ids_on(client.get(EXPLORER, {"department": [support.pk], "agent": [finance_agent.pk]})) == []


def test_pages_walk_every_decision_once_newest_first(client, alice, history):
    client.force_login(alice)
    seen, older = [], None

    while True:
        response = client.get(EXPLORER, {"older": older} if older else {})
        seen += ids_on(response)
        older = cursor(response, "older")
        if older is None:
            break

    assert seen == newest_first(Decision.objects.all())


def test_pages_neither_repeat_nor_skip_while_new_decisions_arrive(client, alice, finance_agent):
    now = timezone.now()
    DecisionFactory.create_batch(
        2 * explorer.PAGE_SIZE + 5, agent=finance_agent, created_at=now
    )  # one moment: ids decide
    client.force_login(alice)
    before = newest_first(Decision.objects.all())

    first = client.get(EXPLORER)
    DecisionFactory.create_batch(7, agent=finance_agent, created_at=now + dt.timedelta(seconds=1))
    second = client.get(EXPLORER, {"older": cursor(first, "older")})
    third = client.get(EXPLORER, {"older": cursor(second, "older")})

    assert ids_on(first) + ids_on(second) + ids_on(third) == before
    assert cursor(third, "older") is None


def test_newer_leads_back_to_the_page_before(client, alice, finance_agent):
    DecisionFactory.create_batch(3 * explorer.PAGE_SIZE, agent=finance_agent)
    client.force_login(alice)
    first = client.get(EXPLORER)
    second = client.get(EXPLORER, {"older": cursor(first, "older")})
    third = client.get(EXPLORER, {"older": cursor(second, "older")})

    back = client.get(EXPLORER, {"newer": cursor(third, "newer")})

    assert ids_on(back) == ids_on(second)
    assert cursor(first, "newer") is None


def test_cursors_keep_the_filters(client, alice, finance_agent):
    DecisionFactory.create_batch(explorer.PAGE_SIZE + 3, agent=finance_agent, verdict=Verdict.DENY)
    DecisionFactory.create_batch(10, agent=finance_agent, verdict=Verdict.ALLOW)
    client.force_login(alice)

    first = client.get(EXPLORER, {"verdict": "deny"})
    second = client.get(EXPLORER, {"verdict": "deny", "older": cursor(first, "older")})

    assert "verdict=deny&amp;older=" in first.content.decode()
    assert len(ids_on(second)) == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"risk_min": "300"}, "Ensure this value is less than or equal to 100."),
        ({"verdict": "maybe"}, "Select a valid choice."),
        ({"since": "yesterday"}, "Enter a valid date/time."),
        ({"agent": "99999999999999999999999"}, "is not a valid value"),
        ({"q": "acme", "since": "2025-01-01T00:00"}, "Text search reads at most 31 days"),
        ({"older": "not-a-cursor"}, "This page link is damaged"),
        ({"newer": "MTIzNDU2"}, "This page link is damaged"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(client, alice, finance_agent, query, message):
    DecisionFactory(agent=finance_agent)
    client.force_login(alice)

    response = client.get(EXPLORER, query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_supervisor_sees_only_their_departments_and_cannot_choose_others(client, bob, finance_agent, support_agent):
    mine = DecisionFactory(agent=finance_agent)
    DecisionFactory(agent=support_agent)
    client.force_login(bob)

    response = client.get(EXPLORER)

    assert ids_on(response) == [mine.pk]
    assert "Reply Bot" not in response.content.decode()
    assert client.get(EXPLORER, {"agent": support_agent.pk}).status_code == 400


def test_text_search_reads_a_bounded_window_and_says_so(client, alice, finance_agent):
    recent = DecisionFactory(agent=finance_agent, resource="invoice/ACME")
    DecisionFactory(agent=finance_agent, resource="invoice/ACME", created_at=timezone.now() - dt.timedelta(days=20))
    client.force_login(alice)

    response = client.get(EXPLORER, {"q": "acme"})

    assert ids_on(response) == [recent.pk]
    assert 'data-testid="search-window"' in response.content.decode()


def test_agent_supplied_text_is_escaped(client, alice, finance_agent):
    finance_agent.name = SCRIPT
    finance_agent.save()
    DecisionFactory(agent=finance_agent, resource=SCRIPT, action="invoice.approve")
    client.force_login(alice)

    html = client.get(EXPLORER).content.decode()

    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;") >= 2


def test_the_explorer_needs_a_role(client, erin):
    assert client.get(EXPLORER).status_code == 302
    client.force_login(erin)
    assert client.get(EXPLORER).status_code == 403


def test_a_page_costs_the_same_queries_with_more_decisions(client, alice, finance_agent, django_assert_max_num_queries):
    DecisionFactory.create_batch(120, agent=finance_agent)
    client.force_login(alice)

    with django_assert_max_num_queries(12):
        response = client.get(EXPLORER, {"verdict": "allow"})

    assert len(ids_on(response)) == explorer.PAGE_SIZE


def test_the_page_form_is_narrowed_after_the_api_built_the_shared_filters(client, bob, finance_agent, support_agent):
    # Given the API (or its schema) has built the filter set's form fields, with every agent and department
    from governance.filtersets import DecisionFilterSet

    api_fields = {name: f.field for name, f in DecisionFilterSet.base_filters.items()}
    assert support_agent in api_fields["agent"].queryset
    client.force_login(bob)

    # When Finance's Supervisor opens the explorer
    page = client.get(EXPLORER).content.decode()

    # Then the verdicts are checkboxes and only Finance's agent can be chosen
    assert 'type="checkbox" name="verdict" value="deny"' in page
    assert finance_agent.name in page and support_agent.name not in page


def test_a_row_reads_in_words_with_its_currency_and_what_finally_happened(client, alice, finance_agent):
    # Given a request a person approved, and one nobody has decided yet
    approved = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL, amount="2754.13", currency="USD")
    waiting = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL, action="payment.execute")
    for decision, status in ((approved, Approval.Status.APPROVED), (waiting, Approval.Status.PENDING)):
        Approval.objects.create(
            decision=decision,
            department=decision.department,
            approver_role="supervisor",
            status=status,
            deadline=timezone.now() + dt.timedelta(hours=4),
        )
    client.force_login(alice)

    # When an executive lists them
    rows = rows_by_id(client.get(EXPLORER))

    # Then each says what happened in the end, the action in words and the amount with its currency
    assert "Approved by a person" in rows[approved.pk] and "$2,754.13" in rows[approved.pk]
    assert "Invoice: approve" in rows[approved.pk] and ">invoice.approve<" not in rows[approved.pk]
    assert "Waiting for approval" in rows[waiting.pk] and "€120.00" in rows[waiting.pk]
    assert "Require approval" not in rows[approved.pk] + rows[waiting.pk]


def rows_by_id(response) -> dict[int, str]:
    html = response.content.decode()
    return {int(pk): row for pk, row in re.findall(r'<tr data-decision-id="(\d+)">(.*?)</tr>', html, re.S)}
