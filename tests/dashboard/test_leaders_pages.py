"""The read-only Departments and Policies pages inside the product, and the menu leading to them.

alice is an Executive, bob supervises Finance only, carol is a Policy Admin, dave an Auditor.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.navigation import items_for
from dashboard.rollups import fold_changes
from governance.budgets import month_start
from governance.models import Effect, Mode, Verdict
from orchestration.models import Agent, Department, Status
from tests.factories import AgentFactory, DecisionFactory, PolicyFactory

pytestmark = pytest.mark.django_db


def spend(holder: Agent | Department, amount: str) -> None:
    type(holder).objects.filter(pk=holder.pk).update(
        month_spent=Decimal(amount), spend_month=month_start(timezone.now())
    )


@pytest.mark.parametrize("username", ["alice", "dave"])
def test_the_menu_leads_executives_and_auditors_to_the_pages_not_the_admin(request, username):
    person = request.getfixturevalue(username)

    urls = {item.label: item.url for entry in items_for(person) for item in getattr(entry, "items", [entry])}

    assert urls["Departments"] == reverse("dashboard:departments")
    assert urls["Policies"] == reverse("dashboard:policies")


def test_departments_list_status_agents_budget_and_spend_in_the_org_currency(client, alice, finance, support, settings):
    settings.ORG_CURRENCY = "EUR"
    AgentFactory(department=finance, status=Status.PAUSED)
    AgentFactory(department=finance)
    Department.objects.filter(pk=finance.pk).update(monthly_budget=Decimal("10000"))
    spend(finance, "2500.50")
    Department.objects.filter(pk=support.pk).update(status=Status.PAUSED)
    client.force_login(alice)

    html = client.get(reverse("dashboard:departments")).content.decode()

    rows = re.findall(r'<tr data-testid="department-row">(.*?)</tr>', html, re.S)
    assert [re.search(r">([^<]+)</a>", row).group(1) for row in rows] == ["Customer Support", "Finance"]
    cells = re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]+)", rows[1])
    assert cells == ["Active", "2 (1)", "€10,000", "€2,500.50", "25.0%", "50 of 100"]
    assert "Paused" in rows[0] and "(0)" in rows[0]  # a paused department has no agent acting


def test_a_supervisor_sees_only_their_departments(client, bob, finance, support):
    client.force_login(bob)

    html = client.get(reverse("dashboard:departments")).content.decode()

    assert "Finance" in html and "Customer Support" not in html


def test_a_departments_page_lists_its_agents_with_their_spend(client, dave, finance, finance_agent):
    Agent.objects.filter(pk=finance_agent.pk).update(monthly_budget=Decimal("400"))
    spend(finance_agent, "100")
    client.force_login(dave)

    html = client.get(reverse("dashboard:department", args=[finance.pk])).content.decode()

    table = html[html.index('data-testid="department-agents"') :]
    assert reverse("dashboard:agent", args=[finance_agent.pk]) in table
    assert "$400" in table and "$100.00" in table and "25.0%" in table
    assert 'data-testid="status-controls"' not in html  # an Auditor reads; no buttons


def test_policies_read_in_plain_words_with_version_mode_and_recent_hits(client, alice, finance, finance_agent):
    refuse = PolicyFactory(
        name="No payments over 10k", effect=Effect.DENY, actions="payment.*", condition="amount > 10000"
    )
    refuse.departments.set([finance])
    Policy = type(refuse)
    Policy.objects.filter(pk=refuse.pk).update(version=3)
    PolicyFactory(name="Watch refunds", effect=Effect.FLAG, actions="refund.issue", mode=Mode.SHADOW)
    hit = [{"id": refuse.pk, "name": refuse.name, "mode": "enforce"}]
    DecisionFactory.create_batch(2, agent=finance_agent, verdict=Verdict.DENY, matched_policies=hit)
    fold_changes()
    client.force_login(alice)

    html = client.get(reverse("dashboard:policies"), {"period": "24h"}).content.decode()

    cards = dict(re.findall(r"<h2>([^<]+)</h2>(.*?)</li>", html, re.S))
    refusing = cards["No payments over 10k"]
    assert "Refuses any payment action by agents in Finance when the amount is more than 10,000 USD." in refusing
    assert "version 3" in refusing and "Enforcing" in refusing
    assert re.search(r"Hit <strong>2</strong> requests in the period", refusing)
    assert "amount &gt; 10000" not in refusing  # the condition as written is for Policy Admins
    watching = cards["Watch refunds"]
    assert "Shadow: recorded, not enforced" in watching
    assert "Allows but flags for review “refund issue” by any agent." in watching
    assert "Would have hit no request in the period" in watching
    assert 'data-testid="policy-admin-link"' not in html


def test_policy_admins_have_the_condition_as_written_one_click_away(client, carol):
    PolicyFactory(name="Big payments", actions="payment.*", condition="amount > 10000")
    client.force_login(carol)

    html = client.get(reverse("dashboard:policies")).content.decode()

    assert "when the amount is more than 10,000 USD." in html
    assert re.search(
        r'<details data-testid="condition-as-written"><summary>[^<]+</summary><pre[^>]*>amount &gt; 10000', html
    )


def test_policy_admins_keep_their_link_to_the_admin(client, carol):
    PolicyFactory(name="Anything")
    client.force_login(carol)

    html = client.get(reverse("dashboard:policies")).content.decode()

    assert reverse("admin:governance_policy_changelist") in html


def test_a_supervisor_sees_the_policies_that_can_apply_to_their_departments(client, bob, finance, support):
    PolicyFactory(name="Finance rule").departments.set([finance])
    PolicyFactory(name="Support rule").departments.set([support])
    PolicyFactory(name="Everyone's rule")
    client.force_login(bob)

    html = client.get(reverse("dashboard:policies")).content.decode()

    assert re.findall(r"<h2>([^<]+)</h2>", html) == ["Everyone&#x27;s rule", "Finance rule"]


def test_someone_without_a_role_is_refused_the_pages(client, erin, finance):
    client.force_login(erin)

    for url in (reverse("dashboard:departments"), reverse("dashboard:policies")):
        assert client.get(url).status_code == 403
