"""`GET /api/v1/kpis`: the overview's numbers for other systems, with the page's filters and scope."""

import pytest
from django.utils import timezone

from governance.models import Verdict
from tests.factories import DecisionFactory
from tests.support.api import token_client

pytestmark = pytest.mark.django_db


def tiles_of(response) -> dict:
    return {tile["key"]: tile for tile in response.json()["tiles"]}


def test_the_figures_are_the_databases_for_the_callers_scope(finance_agent, support_agent, alice, bob):
    # Given three decisions in Finance (one denied) and two in Support, made now
    for verdict in (Verdict.ALLOW, Verdict.DENY, Verdict.ALLOW):
        DecisionFactory(agent=finance_agent, verdict=verdict, created_at=timezone.now())
    for _ in range(2):
        DecisionFactory(agent=support_agent, created_at=timezone.now())

    # When the Executive and Finance's Supervisor ask for the last 24 hours
    everyone = token_client(alice).get("/api/v1/kpis", {"period": "24h"})
    finance_only = token_client(bob).get("/api/v1/kpis", {"period": "24h"})

    # Then each gets the counts and rates of what they may see, with the period's bounds
    assert everyone.status_code == finance_only.status_code == 200
    assert tiles_of(everyone)["decisions"]["value"] == 5
    assert tiles_of(finance_only)["decisions"]["value"] == 3
    assert tiles_of(finance_only)["violation_rate"]["value"] == pytest.approx(33.3, abs=0.05)
    assert everyone.json()["period"]["key"] == "24h" and everyone.json()["departments"] is None
    assert sum(everyone.json()["trend"]["decisions"]) == 5


def test_a_department_filter_narrows_the_figures(finance_agent, support_agent, alice, support):
    DecisionFactory(agent=finance_agent, created_at=timezone.now())
    DecisionFactory(agent=support_agent, created_at=timezone.now())

    response = token_client(alice).get("/api/v1/kpis", {"period": "7d", "department": support.pk})

    assert response.status_code == 200
    assert tiles_of(response)["decisions"]["value"] == 1
    assert response.json()["departments"] == [support.pk]


def test_a_department_outside_the_callers_scope_is_a_field_error(bob, support):
    response = token_client(bob).get("/api/v1/kpis", {"department": support.pk})

    assert response.status_code == 400
    assert "department" in response.json()["fields"]


def test_a_custom_period_needs_its_dates(alice):
    response = token_client(alice).get("/api/v1/kpis", {"period": "custom", "start": "2026-01-10"})

    assert response.status_code == 400
    assert response.json()["fields"]["end"] == ["Give the last day of a custom period."]
