"""The explorer's result count (exact, or bounded and said so) and its CSV export: the same filters and scope
as the page, a byte-order mark for spreadsheets, units in the headers, every matching row once."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import decision_export
from governance.models import Decision, Verdict
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db
EXPLORER = reverse("dashboard:decisions")
EXPORT = reverse("dashboard:decisions-export")


def exported(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.fixture
def mixed(finance_agent, support_agent):
    for i in range(12):
        DecisionFactory(
            agent=(finance_agent, support_agent)[i % 2],
            verdict=(Verdict.ALLOW, Verdict.DENY)[i % 3 == 0],
            amount=Decimal("1234.5") if i == 0 else None,
            currency="EUR" if i == 0 else "",
        )


def test_the_page_says_how_many_decisions_match_its_filters(client, alice, mixed) -> None:
    client.force_login(alice)

    response = client.get(EXPLORER, {"verdict": "deny"})

    expected = Decision.objects.filter(verdict=Verdict.DENY).count()
    assert f"{expected} decisions match" in response.content.decode()


def test_a_count_past_the_limit_says_more_than(client, alice, mixed, monkeypatch) -> None:
    monkeypatch.setattr(decision_export, "COUNT_LIMIT", 5)
    client.force_login(alice)

    response = client.get(EXPLORER)

    assert "More than 5 decisions match" in response.content.decode()
    assert decision_export.count_matches(Decision.objects.all(), limit=20).exact


def test_a_text_search_counts_newest_first_to_its_own_bound(client, alice, finance_agent, monkeypatch) -> None:
    # Given eight decisions whose explanation holds "refund" and four that do not
    for i in range(12):
        DecisionFactory(agent=finance_agent, explanation="Refund to customer" if i < 8 else "Invoice paid")
    client.force_login(alice)

    # When the explorer searches for it, counting text searches up to 5
    monkeypatch.setattr(decision_export, "TEXT_SEARCH_COUNT_LIMIT", 5)
    with CaptureQueriesContext(connection) as queries:
        bounded = client.get(EXPLORER, {"q": "refund"}).content.decode()
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    monkeypatch.setattr(decision_export, "TEXT_SEARCH_COUNT_LIMIT", 8)
    exact = client.get(EXPLORER, {"q": "refund"}).content.decode()

    # Then it says "more than" past the bound and the exact count within it
    assert "More than 5 decisions match" in bounded
    assert "8 decisions match" in exact
    # And it counted in the page's order, so a common term walks (created_at, id) and stops at the bound
    assert "ORDER BY" in count and "LIMIT 6" in count


def test_the_export_has_every_match_once_newest_first_with_units(client, alice, mixed) -> None:
    client.force_login(alice)

    response = client.get(EXPORT, {"verdict": "deny"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="regent-decisions-')
    rows = exported(response)
    expected = Decision.objects.filter(verdict=Verdict.DENY).order_by("-created_at", "-id")
    assert [int(r["Decision id"]) for r in rows] == list(expected.values_list("pk", flat=True))
    assert "Risk score (0–100)" in rows[0] and "Currency of the amount" in rows[0]
    first = next(r for r in rows if r["Amount"])
    assert (first["Amount"], first["Currency of the amount"]) == ("1234.50", "EUR")


def test_the_export_walks_past_its_chunk_size_without_repeating(client, alice, mixed, monkeypatch) -> None:
    monkeypatch.setattr(decision_export, "EXPORT_CHUNK", 5)
    client.force_login(alice)

    rows = exported(client.get(EXPORT))

    assert sorted(int(r["Decision id"]) for r in rows) == sorted(Decision.objects.values_list("pk", flat=True))


def test_a_supervisor_exports_only_their_departments(client, bob, mixed, finance) -> None:
    client.force_login(bob)

    rows = exported(client.get(EXPORT))

    assert rows
    assert {r["Department"] for r in rows} == {finance.name}
    assert len(rows) == Decision.objects.filter(department=finance).count()


def test_a_bad_filter_is_a_form_error_not_a_file(client, alice) -> None:
    client.force_login(alice)

    response = client.get(EXPORT, {"risk_min": "lots"})

    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()


def test_the_export_needs_a_role_that_sees_decisions(client, erin) -> None:
    assert client.get(EXPORT).status_code == 302  # to the login page
    client.force_login(erin)
    assert client.get(EXPORT).status_code == 403


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="covering indexes are PostgreSQL's")
def test_a_supervisors_count_of_one_agent_reads_no_decision_rows(client, bob, mixed, finance_agent) -> None:
    # Given bob, who supervises Finance, filters the explorer by one of its agents
    client.force_login(bob)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(EXPLORER, {"agent": finance_agent.pk}).content.decode()
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert "6 decisions match" in page

    # When PostgreSQL plans that count as for a large table (a scan of the whole table ruled out)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # Then the agent's index answers it alone, its department scope included: no row is read per decision
    assert "Index Only Scan using decision_agent_scoped" in plan, plan
    assert "department_id" in plan


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial covering indexes are PostgreSQL's")
@pytest.mark.parametrize("verdicts", [["deny"], ["deny", "flag"]])
def test_counting_denied_or_flagged_decisions_reads_no_decision_rows(client, alice, mixed, verdicts) -> None:
    # Given the explorer filtered to denied (or denied and flagged) decisions
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(EXPLORER, {"verdict": verdicts}).content.decode()
    (count,) = [q["sql"] for q in queries if "COUNT(*)" in q["sql"]]
    assert f"{Decision.objects.filter(verdict__in=verdicts).count()} decisions match" in page

    # When PostgreSQL plans that count as for a large table
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # Then the index of the decisions that were not simply allowed answers it (alone, for one verdict)
    assert "decision_not_allowed" in plan and "Seq Scan" not in plan, plan
    if len(verdicts) == 1:
        assert "Index Only Scan using decision_not_allowed" in plan, plan
