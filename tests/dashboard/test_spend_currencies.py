"""Every page, export and API that shows spend gives the organisation's currency total and each other currency's
total beside it: never one figure that adds dollars and euros together."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.board import board_report
from dashboard.board_summary import executive_summary
from dashboard.periods import period_for
from governance.models import Verdict
from tests.factories import DecisionFactory
from tests.support.api import token_client

pytestmark = pytest.mark.django_db

ADDED_UP = ("$1,080", "1,080", "1080")  # 720 dollars and 360 euros added together: what must never show


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.ORG_CURRENCY, settings.ORG_LOCALE = "USD", "en_US"


@pytest.fixture
def spent_in_two_currencies(finance_agent):
    """Today: 720 dollars and 360 euros of allowed actions by one Finance agent."""
    now = timezone.now()
    for amount, currency in (("500", "USD"), ("220", "USD"), ("360", "EUR")):
        DecisionFactory(agent=finance_agent, amount=Decimal(amount), currency=currency, created_at=now)


def page_text(client, name: str, **query) -> str:
    response = client.get(reverse(name), {"period": "7d", **query})
    assert response.status_code == 200
    return response.content.decode()


def test_the_overview_tile_and_headline_show_dollars_with_the_euros_beside_them(client, alice, spent_in_two_currencies):
    client.force_login(alice)

    html = page_text(client, "dashboard:overview")

    assert 'data-testid="tile-spend">$720<' in html
    assert "plus €360.00 in EUR" in html
    assert "Actions in other currencies also committed €360.00 in EUR" in html
    assert not any(total in html for total in ADDED_UP)


def test_the_league_shows_each_agents_dollars_and_euros_apart(client, alice, spent_in_two_currencies):
    client.force_login(alice)

    html = page_text(client, "dashboard:agents")

    assert 'data-testid="league-spend">$720.00' in html
    assert 'data-testid="league-spend-also">plus €360.00 in EUR<' in html
    assert not any(total in html for total in ADDED_UP)


def test_the_agent_page_shows_the_euros_beside_its_spend(client, alice, finance_agent, spent_in_two_currencies):
    client.force_login(alice)

    response = client.get(reverse("dashboard:agent", args=[finance_agent.pk]), {"period": "7d"})

    html = response.content.decode()
    assert 'data-testid="agent-spend">$720<' in html
    assert 'data-testid="agent-spend-also">plus €360.00 in EUR<' in html


def test_the_board_pack_reports_dollars_and_euros_apart(client, alice, spent_in_two_currencies):
    client.force_login(alice)

    html = page_text(client, "dashboard:board")
    summary = " ".join(executive_summary(board_report(alice, period_for("7d", timezone.now()))))

    assert 'data-testid="board-spend">$720<' in html
    assert 'data-testid="board-spend-also">plus €360.00 in EUR<' in html
    assert 'data-testid="value-spend-also">plus €360.00 in EUR<' in html
    assert "Spend was $720" in summary
    assert "actions in other currencies also committed €360.00 in EUR, kept apart" in summary
    assert not any(total in html or total in summary for total in ADDED_UP)


def test_the_board_csv_has_a_column_and_a_row_for_each_currency(client, alice, spent_in_two_currencies):
    client.force_login(alice)

    response = client.get(reverse("dashboard:board-csv"), {"period": "7d"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_label = {row[0]: row for row in rows if row}
    assert by_label["Spend (USD)"][1] == "720.00"
    assert by_label["Spend in other currencies (EUR)"][1] == "360.00"
    header = ["Department", "Decisions (count)", "Spend (USD)", "Spend (EUR)", "Cost (USD)", "Value delivered (USD)"]
    assert header in rows
    assert ["Finance", "3", "720.00", "360.00", "0.00", "0.00"] in rows


def test_the_api_gives_the_organisations_spend_and_the_other_currencies_apart(alice, spent_in_two_currencies):
    client = token_client(alice)

    kpis = client.get("/api/v1/kpis", {"period": "7d"}).json()
    league = client.get("/api/v1/league", {"period": "7d"}).json()

    spend = next(tile for tile in kpis["tiles"] if tile["key"] == "spend")
    assert (kpis["currency"], spend["value"], spend["other_currencies"]) == ("USD", 720.0, {"EUR": "360.00"})
    (row,) = league["rows"]
    assert (league["currency"], row["spend"], row["spend_other_currencies"]) == ("USD", "720.00", {"EUR": "360.00"})


def test_the_overviews_live_refresh_carries_the_other_currencies(client, alice, spent_in_two_currencies):
    client.force_login(alice)

    numbers = client.get(reverse("dashboard:overview-numbers"), {"period": "7d"}).json()

    assert numbers["tiles"]["spend"]["display"] == "$720"
    assert numbers["tiles"]["spend"]["also"] == "plus €360.00 in EUR"


def test_a_denied_action_in_another_currency_spends_nothing(client, alice, finance_agent):
    DecisionFactory(agent=finance_agent, amount=Decimal("90"), currency="EUR", verdict=Verdict.DENY)
    client.force_login(alice)

    html = page_text(client, "dashboard:overview")

    assert 'data-testid="tile-spend">$0<' in html
    assert 'data-testid="tile-also-spend" hidden></div>' in html
