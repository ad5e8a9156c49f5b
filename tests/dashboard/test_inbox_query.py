"""The inbox's filters, sorts and pages, as the URL asks for them: what each narrows to, what a link opens,
and bad input as a 400 with the field's message. Deadlines worded relative to now."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.inbox import PAGE_SIZE, relative_deadline
from governance.approvals import escalate_overdue
from governance.models import Effect
from governance.risk import RISK_BANDS
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
INBOX = reverse("dashboard:approvals")
ROWS = reverse("dashboard:approval-rows")


def listed(response) -> list[int]:
    html = response.content.decode()
    return [int(part.split('"', 1)[0]) for part in html.split('data-approval-id="')[1:]]


def summary(response) -> str:
    html = response.content.decode()
    return html.split('data-testid="waiting-count">', 1)[1].split("</p>", 1)[0]


def escalated(approval, now=None):
    """The request past its deadline: beat moves it up to an Executive."""
    escalate_overdue(now=approval.deadline + dt.timedelta(seconds=1))
    approval.refresh_from_db()
    return approval


@pytest.fixture
def payments_need_a_supervisor(make_policy):
    return make_policy(
        name="Payments need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="payment.send",
        approver_role="Supervisor",
        rationale="Money leaves only with a person's yes.",
    )


def test_a_link_with_filters_opens_the_list_they_select_and_counts_it(client, bob, finance_agent, hold):
    other_agent = AgentFactory(name="Payables Bot", slug="payables-bot", department=finance_agent.department)
    mine = [hold(finance_agent, str(600 + n)).approval.pk for n in range(3)]
    hold(other_agent, "650")
    client.force_login(bob)

    response = client.get(INBOX, {"agent": finance_agent.pk})

    assert sorted(listed(response)) == mine
    assert summary(response) == "3 waiting, 1–3 shown."


def test_the_action_filter_narrows_to_one_action(client, bob, finance_agent, hold, decide, payments_need_a_supervisor):
    hold(finance_agent)
    payment = decide(finance_agent, "payment.send", amount="20", now=timezone.now()).approval
    client.force_login(bob)

    assert listed(client.get(INBOX, {"action": "payment.send"})) == [payment.pk]


def test_the_risk_filter_narrows_to_a_band(client, bob, finance_agent, hold):
    held = hold(finance_agent)
    band = next(name for name, (low, high) in RISK_BANDS.items() if low <= held.risk_score <= high)
    other = next(name for name in RISK_BANDS if name != band)
    client.force_login(bob)

    assert listed(client.get(INBOX, {"risk": band})) == [held.approval.pk]
    assert listed(client.get(INBOX, {"risk": other})) == []


def test_the_age_filter_lists_requests_waiting_longer_than_it(client, bob, finance_agent, hold):
    old = hold(finance_agent, now=timezone.now() - dt.timedelta(hours=5)).approval
    hold(finance_agent)
    client.force_login(bob)

    assert listed(client.get(INBOX, {"age": "4h"})) == [old.pk]


def test_the_department_filter_keeps_an_executive_to_one_department(client, alice, finance_agent, support_agent, hold):
    finance = hold(finance_agent).approval
    hold(support_agent)
    client.force_login(alice)

    response = client.get(INBOX, {"department": finance_agent.department_id, "role": "any"})

    assert listed(response) == [finance.pk]


def test_an_executive_sees_what_is_addressed_to_them_and_every_approver_level_on_asking(
    client, alice, finance_agent, support_agent, hold
):
    to_executive = escalated(hold(finance_agent, now=timezone.now() - dt.timedelta(days=2)).approval)
    to_supervisor = hold(support_agent).approval
    client.force_login(alice)

    assert listed(client.get(INBOX)) == [to_executive.pk]
    assert set(listed(client.get(INBOX, {"role": "any"}))) == {to_executive.pk, to_supervisor.pk}
    assert listed(client.get(INBOX, {"role": "Supervisor"})) == [to_supervisor.pk]


def test_a_supervisor_reads_escalated_requests_of_their_departments_without_a_form(client, bob, finance_agent, hold):
    approval = escalated(hold(finance_agent, now=timezone.now() - dt.timedelta(days=2)).approval)
    client.force_login(bob)

    response = client.get(INBOX, {"role": "Executive"})

    assert listed(response) == [approval.pk]
    html = response.content.decode()
    assert "you may read it, not decide it" in html and 'class="decide"' not in html


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["3000", "2000", "1000"]),
        ("oldest", ["2000", "3000", "1000"]),
        ("deadline", ["2000", "3000", "1000"]),
    ],
)
def test_sort_orders(client, bob, finance_agent, hold, sort, expected):
    now = timezone.now()
    by_amount = {
        "2000": hold(finance_agent, "2000", now=now - dt.timedelta(hours=3)).approval.pk,
        "3000": hold(finance_agent, "3000", now=now - dt.timedelta(hours=2)).approval.pk,
        "1000": hold(finance_agent, "1000", now=now - dt.timedelta(hours=1)).approval.pk,
    }
    client.force_login(bob)

    assert listed(client.get(INBOX, {"sort": sort})) == [by_amount[a] for a in expected]


def test_sorting_by_risk_puts_the_riskiest_first(client, bob, finance_agent, hold):
    held = [hold(finance_agent, str(amount)) for amount in ("600", "90000", "5000")]
    client.force_login(bob)

    ordered = listed(client.get(INBOX, {"sort": "risk"}))

    scores = {d.approval.pk: d.risk_score for d in held}
    assert [scores[pk] for pk in ordered] == sorted(scores.values(), reverse=True)


def test_pages_of_requests_with_counts_and_links_that_keep_the_filters(client, bob, finance_agent, hold):
    for n in range(PAGE_SIZE + 5):
        hold(finance_agent, str(600 + n))
    client.force_login(bob)

    first = client.get(INBOX, {"sort": "amount"})
    second = client.get(INBOX, {"sort": "amount", "page": 2})

    assert (len(listed(first)), summary(first)) == (PAGE_SIZE, f"{PAGE_SIZE + 5} waiting, 1–{PAGE_SIZE} shown.")
    assert (len(listed(second)), summary(second)) == (5, f"{PAGE_SIZE + 5} waiting, 26–{PAGE_SIZE + 5} shown.")
    assert 'href="?sort=amount&amp;page=2"' in first.content.decode()
    assert not set(listed(first)) & set(listed(second))


def test_a_page_past_the_end_shows_the_last_page(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    assert listed(client.get(INBOX, {"page": 9})) == [approval.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "two"}, "Page"),
        ({"sort": "loudest"}, "Sort"),
        ({"risk": "extreme"}, "Risk"),
        ({"age": "forever"}, "Age"),
        ({"role": "Janitor"}, "Role"),
        ({"agent": "abc"}, "Agent"),
    ],
)
def test_a_filter_that_cannot_be_read_is_a_400_saying_which(client, bob, query, field):
    client.force_login(bob)

    response = client.get(INBOX, query)

    assert response.status_code == 400
    assert f"<li>{field}: " in response.content.decode()


def test_a_department_outside_the_supervisors_scope_is_not_a_choice(client, bob, support_agent, hold):
    hold(support_agent)
    client.force_login(bob)

    response = client.get(INBOX, {"department": support_agent.department_id})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert listed(response) == []


def test_the_live_rows_say_which_shown_cards_still_wait_on_any_page(client, bob, finance_agent, support_agent, hold):
    waiting = hold(finance_agent).approval
    outside = hold(support_agent).approval
    client.force_login(bob)

    response = client.get(ROWS, {"agent": finance_agent.pk, "shown": f"{waiting.pk},{outside.pk},x"})

    assert f'data-still-waiting="{waiting.pk}"' in response.content.decode()


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (dt.timedelta(hours=3, minutes=10, seconds=30), "in 3 h 10 min"),
        (dt.timedelta(hours=2), "in 2 h"),
        (dt.timedelta(minutes=42, seconds=5), "in 42 min"),
        (dt.timedelta(seconds=20), "in under 1 min"),
        (dt.timedelta(days=2, hours=5), "in 2 d 5 h"),
        (-dt.timedelta(minutes=5, seconds=10), "overdue by 5 min"),
        (-dt.timedelta(days=1), "overdue by 1 d"),
    ],
)
def test_deadlines_are_worded_relative_to_now(delta, words):
    now = timezone.now()

    assert relative_deadline(now + delta, now) == words


def test_each_card_gives_the_exact_deadline_beside_the_relative_one(client, bob, finance_agent, hold):
    approval = hold(finance_agent).approval
    client.force_login(bob)

    html = client.get(INBOX).content.decode()

    exact = timezone.localtime(approval.deadline).strftime("%H:%M")
    assert f'datetime="{approval.deadline.isoformat()}"' in html
    assert f"{exact} UTC" in html
