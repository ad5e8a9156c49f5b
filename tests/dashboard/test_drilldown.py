"""Each overview figure links to the rows behind it, filtered the same way: the list counts what the tile counts."""

import datetime as dt
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict

from dashboard import inbox, league
from dashboard.decisions import ExplorerFilterSet, scoped_decisions
from dashboard.drilldown import inbox_url, tile_links
from dashboard.inbox import InboxFilterForm
from dashboard.kpis.approvals import approval_backlog
from dashboard.kpis.snapshot import departments_in_scope
from dashboard.kpis.tiles import kpis
from governance.models import Approval, Override, Verdict
from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


def listed(user, url: str) -> int:
    """How many decisions the explorer lists at this address."""
    query = QueryDict(urlsplit(url).query)
    filterset = ExplorerFilterSet(query, queryset=scoped_decisions(user), user=user)
    assert filterset.is_valid(), filterset.errors
    return filterset.qs.count()


@pytest.fixture
def mixed_day(finance_agent, support_agent):
    """A day of every verdict in two departments, and decisions just outside the day that must not be counted."""
    for agent in (finance_agent, support_agent):
        for verdict in (Verdict.ALLOW, Verdict.ALLOW, Verdict.FLAG, Verdict.DENY, Verdict.REQUIRE_APPROVAL):
            DecisionFactory(agent=agent, verdict=verdict, created_at=NOW)
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW - dt.timedelta(hours=25))
    DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW + dt.timedelta(hours=2))


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_the_decision_tiles_link_to_lists_counting_what_the_tile_counts(request, mixed_day, day, username):
    # Given the executive (whole organisation) or Finance's supervisor
    user = request.getfixturevalue(username)
    tiles = {tile.key: tile for tile in kpis(user, day)}

    # When the tiles' links are followed into the explorer
    links = tile_links(day, departments_in_scope(user, None), "period=24h")

    # Then each list holds the decisions the tile counts
    decisions = int(tiles["decisions"].value)
    assert listed(user, links["decisions"]) == decisions == (10 if username == "alice" else 5)
    assert listed(user, links["violation_rate"]) == round(tiles["violation_rate"].value * decisions / 100)
    assert listed(user, links["escalation_rate"]) == round(tiles["escalation_rate"].value * decisions / 100)
    assert listed(user, links["automation_rate"]) == round(tiles["automation_rate"].value * decisions / 100)
    assert tiles["violation_rate"].note == f"{listed(user, links['violation_rate'])} denied or flagged"


def test_the_people_tiles_link_to_exactly_the_decisions_people_acted_on(mixed_day, finance_agent, alice, day):
    # Given, in the day, two denied decisions of which a person overrode one, and four held requests: two approved
    # after 2 and 6 minutes, one rejected after 10, one still waiting
    denied = [DecisionFactory(agent=finance_agent, verdict=Verdict.DENY, created_at=NOW) for _ in range(2)]
    Override.objects.create(decision=denied[0], verdict_overridden=Verdict.DENY, reason="Known supplier.", by=alice)
    for status, minutes in [("approved", 2), ("approved", 6), ("rejected", 10), ("pending", None)]:
        held = DecisionFactory(agent=finance_agent, verdict=Verdict.REQUIRE_APPROVAL, created_at=NOW)
        Approval.objects.create(
            decision=held,
            department=finance_agent.department,
            approver_role="Supervisor",
            deadline=NOW + dt.timedelta(hours=4),
            requested_at=NOW,
            status=status,
            decided_at=None if minutes is None else NOW + dt.timedelta(minutes=minutes),
            decided_by=None if minutes is None else alice,
        )
    tiles = {tile.key: tile for tile in kpis(alice, day)}

    # When the override, rejection and median-wait tiles are followed into the explorer
    links = tile_links(day, None, "period=24h")

    # Then each lists only the decisions its figure is made of: the overridden one, the rejected one, and the
    # three a person decided (whose waits the median is taken over)
    violations = round(tiles["violation_rate"].value * int(tiles["decisions"].value) / 100)
    assert listed(alice, links["override_rate"]) == round(tiles["override_rate"].value * violations / 100) == 1
    assert listed(alice, links["rejection_rate"]) == round(tiles["rejection_rate"].value * 3 / 100) == 1
    assert listed(alice, links["median_approval_seconds"]) == 3
    assert 5 * 60 < tiles["median_approval_seconds"].value <= 15 * 60  # the bin the middle wait (6 min) falls in


def test_the_money_tiles_link_to_the_agents_league_whose_totals_match(mixed_day, finance_agent, alice, day):
    # Given a large allowed payment in Finance
    DecisionFactory(agent=finance_agent, verdict=Verdict.ALLOW, created_at=NOW, amount=Decimal("5000"))
    tiles = {tile.key: tile for tile in kpis(alice, day)}

    # When the spend tile's link is read
    link = tile_links(day, None, "period=24h")["spend"]

    # Then it is the league, sorted by spend, and the league's rows add up to the tile
    assert link == "/agents/?period=24h&sort=-spend"
    rows = league.league(alice, day, None, "-spend")
    assert sum(row.figures.spend for row in rows) == pytest.approx(tiles["spend"].value)
    assert rows[0].agent.pk == finance_agent.pk


def waiting_in_inbox(user, url: str) -> int:
    """How many requests the inbox lists at this address."""
    form = InboxFilterForm(QueryDict(urlsplit(url).query), user=user)
    assert form.is_valid(), form.errors
    return inbox.filtered(user, form.cleaned_data).count()


@pytest.mark.parametrize("one_department", [False, True])
def test_the_backlog_links_to_inbox_lists_counting_what_it_counts(alice, finance_agent, support_agent, one_department):
    # Given requests waiting in two departments, for supervisors and for executives
    for agent, role in [(finance_agent, "Supervisor"), (finance_agent, "Executive"), (support_agent, "Supervisor")]:
        held = DecisionFactory(agent=agent, verdict=Verdict.REQUIRE_APPROVAL, created_at=NOW)
        Approval.objects.create(
            decision=held, department=agent.department, approver_role=role, deadline=NOW + dt.timedelta(hours=4)
        )
    departments = [finance_agent.department_id] if one_department else None

    # When the executive's overview (whole organisation, or filtered to Finance) links its backlog to the inbox
    backlog = approval_backlog(alice, departments)

    # Then each link lists what its figure counts
    assert waiting_in_inbox(alice, inbox_url(departments)) == backlog.waiting == (2 if one_department else 3)
    for role, count in backlog.by_role.items():
        assert waiting_in_inbox(alice, inbox_url(departments, role)) == count
