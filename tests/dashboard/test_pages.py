"""The executive pages and exports over HTTP: who may open them, bad filters, and what they contain."""

import csv
import io

import pytest
from django.urls import reverse

from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db

PAGES = ["dashboard:overview", "dashboard:risk", "dashboard:strategy", "dashboard:board"]
EXPORTS = ["dashboard:board-pdf", "dashboard:board-csv"]
# A page's query count must not depend on how many decisions there are; the board pack has eight sections.
# The overview also reads the token cost of this period and the one before (traces), the open alerts (alerting) and
# the viewer's permissions for the menu's Alerts item; the board its token cost.
MAX_QUERIES = {"dashboard:board": 41, "dashboard:overview": 33}


@pytest.mark.parametrize("page", PAGES + EXPORTS + ["dashboard:overview-numbers"])
@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave"])
def test_every_role_opens_every_page(client, request, page, username):
    client.force_login(request.getfixturevalue(username))

    response = client.get(reverse(page), {"period": "7d"})

    assert response.status_code == 200


@pytest.mark.parametrize("page", PAGES + EXPORTS)
def test_a_person_without_a_role_is_refused(client, erin, page):
    client.force_login(erin)

    response = client.get(reverse(page))

    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, page):
    response = client.get(reverse(page))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", PAGES + EXPORTS)
def test_a_bad_filter_is_a_400_that_says_what_to_fix(client, alice, page):
    client.force_login(alice)

    response = client.get(reverse(page), {"period": "custom", "start": "2026-03-05"})

    assert response.status_code == 400
    assert "Give the last day of a custom period." in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_a_page_costs_the_same_queries_with_more_decisions(
    client, alice, finance_agent, page, django_assert_max_num_queries
):
    DecisionFactory.create_batch(25, agent=finance_agent)
    client.force_login(alice)

    with django_assert_max_num_queries(MAX_QUERIES.get(page, 30)):
        response = client.get(reverse(page), {"period": "30d"})

    assert response.status_code == 200


def test_the_overview_shows_the_periods_decisions_and_draws_its_charts_from_local_plotly(client, alice, finance_agent):
    DecisionFactory.create_batch(3, agent=finance_agent)
    client.force_login(alice)

    response = client.get(reverse("dashboard:overview"))

    html = response.content.decode()
    assert 'data-testid="tile-decisions">3<' in html
    assert "/static/vendor/plotly.min.js" in html
    assert 'id="chart-data-rates"' in html


def test_plotly_js_is_served_from_the_app(client):
    response = client.get("/static/vendor/plotly.min.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")


def test_the_board_pdf_downloads_as_a_pdf(client, alice, finance_agent):
    DecisionFactory.create_batch(2, agent=finance_agent, created_at=NOW)
    client.force_login(alice)

    week = {"period": "custom", "start": "2026-03-04", "end": "2026-03-10"}
    response = client.get(reverse("dashboard:board-pdf"), week)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="regent-board-20260304-20260310.pdf"'
    assert response.content.startswith(b"%PDF")


def test_the_board_csv_lists_the_figures_and_each_department(client, alice, finance_agent, support_agent):
    DecisionFactory.create_batch(2, agent=finance_agent)
    DecisionFactory(agent=support_agent)
    client.force_login(alice)

    response = client.get(reverse("dashboard:board-csv"), {"period": "7d"})  # today's decisions included

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Decisions (count)", "3", "0", "new"] in rows
    departments = {row[0]: row[1] for row in rows if row and row[0] in ("Finance", "Customer Support")}
    assert departments == {"Finance": "2", "Customer Support": "1"}


def test_a_supervisors_board_csv_holds_only_their_departments(client, bob, finance_agent, support_agent):
    DecisionFactory(agent=finance_agent)
    DecisionFactory.create_batch(4, agent=support_agent)
    client.force_login(bob)

    response = client.get(reverse("dashboard:board-csv"), {"period": "7d"})

    text = response.content.decode()
    assert "Customer Support" not in text
    assert ["Decisions (count)", "1", "0", "new"] in list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_top_risks_link_to_each_agents_page(client, alice, finance_agent):
    DecisionFactory(agent=finance_agent, risk_score=80)
    client.force_login(alice)

    response = client.get(reverse("dashboard:overview"), {"period": "24h"})

    link = f'<a href="{reverse("dashboard:agent", args=[finance_agent.pk])}">{finance_agent.name}</a>'
    assert link in response.content.decode()
