"""Text search (`q`) over decisions: what it finds, what it never finds, and, on PostgreSQL, the plans behind it.

A term with three letters or digits in a row is looked up in the trigram index on PostgreSQL; a shorter one,
and every term on SQLite, reads the window column by column. Both kinds of term are tried where it matters.
"""

import pytest
from django.db import connection
from django.utils import timezone

from governance.filtersets import DecisionFilterSet
from governance.models import Decision
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db
TRIGRAM_INDEX = "decision_searched_text_trgm"
KEYSET_INDEX = "decision_created_id"
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")


@pytest.fixture
def found(client_for, world):
    def ids(caller: str, term: str) -> set[int]:
        response = client_for(caller).get("/api/v1/decisions", {"q": term})
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    return ids


@pytest.mark.parametrize(
    ("column", "text", "term"),
    [
        ("action", "vendor.onboard", "ONBOARD"),
        ("action", "vendor.onboard", "r."),
        ("resource", "invoice/ACME-77", "acme-77"),
        ("resource", "invoice/ACME-77", "-7"),
        ("explanation", "Held: the payee is on the Watch List", "watch list"),
        ("explanation", "Held: the payee is on the Watch List", "h l"),
    ],
    ids=["action", "action-short", "resource", "resource-short", "explanation", "explanation-short"],
)
def test_finds_a_term_in_each_searched_column(found, finance_agent, column, text, term):
    wanted = DecisionFactory(agent=finance_agent, **{column: text})

    assert found("alice", term) == {wanted.pk}


@pytest.mark.parametrize("term", ["invoice b", "Bo"], ids=["long", "short"])
def test_finds_the_decisions_of_an_agent_by_its_name(found, world, term):
    # Invoice Bot made world.decision; Reply Bot's name holds "Bo" too
    bots = {world.decision.pk, world.support_decision.pk} if term == "Bo" else {world.decision.pk}

    assert found("alice", term) == bots


@pytest.mark.parametrize(
    ("term", "wanted", "unwanted"),
    [
        ("100%", "rate 100% over", "rate 1000 over"),
        ("a_c", "tag a_c", "tag abc"),
        ("max_rate", "max_rate", "maxarate"),
        ("dir\\tmp", "dir\\tmp", "dirtmp"),
    ],
    ids=["percent", "underscore-short", "underscore", "backslash"],
)
def test_wildcards_in_a_term_match_only_themselves(found, finance_agent, term, wanted, unwanted):
    match = DecisionFactory(agent=finance_agent, resource=wanted)
    DecisionFactory(agent=finance_agent, resource=unwanted)

    assert found("alice", term) == {match.pk}


@pytest.mark.parametrize("term", ["approve acme", "approve\nacme"], ids=["space", "newline"])
def test_a_term_never_matches_across_two_columns(found, finance_agent, term):
    # Indexed as one text, "invoice.approve\nacme/1": the term must lie inside one column, as with icontains
    DecisionFactory(agent=finance_agent, action="invoice.approve", resource="acme/1")

    assert found("alice", term) == set()


@pytest.mark.parametrize("term", ["acme", "cm"], ids=["long", "short"])
def test_a_supervisor_never_finds_another_departments_decisions(found, finance_agent, support_agent, term):
    # Given ACME in Finance's and in Support's decisions; bob supervises Finance only
    finance = DecisionFactory(agent=finance_agent, resource="invoice/acme")
    support = DecisionFactory(agent=support_agent, resource="ticket/acme")

    assert found("alice", term) == {finance.pk, support.pk}
    assert found("bob", term) == {finance.pk}


# --- PostgreSQL's plans -------------------------------------------------------------------------------------

ROWS = 20_000


@pytest.fixture
def busy_day(finance_agent):
    """ROWS decisions over the last 20 hours, inserted in one statement and analysed inside the test's transaction.

    Real rows rather than `enable_seqscan = off`: with the planner's costs untouched, the plan asserted is the
    one PostgreSQL picks for a table like this, for a rare term and for a common one alike; and forbidding
    sequential scans would not stop it walking the (created_at, id) index instead. ANALYZE gives the planner the
    index expression's statistics, as autovacuum does in production; the rollback forgets them.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO governance_decision (agent_id, department_id, action, resource, amount, currency,"
            " data_classes, context, verdict, risk_score, explanation, shadow_verdict, matched_policies,"
            " policy_versions, inputs, latency_us, created_at, idempotency_key)"
            " SELECT %s, %s, 'invoice.approve', 'invoice/' || n, 120, 'EUR', '[]', '{}', 'allow', 20,"
            " 'No enforced policy applied; the Finance default (allow) stands.', '', '[]', '[]', '{}', 150,"
            " now() - n * interval '3.6 seconds', '' FROM generate_series(1, %s) AS n",
            [finance_agent.pk, finance_agent.department_id, ROWS],
        )
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [TRIGRAM_INDEX])
        cursor.execute("ANALYZE governance_decision")
    return DecisionFactory(agent=finance_agent, resource="invoice/quetzal-9", created_at=timezone.now())


def first_page_plan(term: str) -> str:
    filters = DecisionFilterSet({"q": term}, queryset=Decision.objects.all())
    assert filters.is_valid(), filters.errors
    return filters.qs.order_by("-created_at", "-id")[:51].explain()


@on_postgresql
def test_a_rare_term_is_looked_up_in_the_trigram_index(busy_day):
    plan = first_page_plan("quetzal")

    assert TRIGRAM_INDEX in plan, plan


@on_postgresql
def test_a_common_term_walks_the_newest_first_index_and_stops_after_a_page(busy_day):
    plan = first_page_plan("finance default")

    assert KEYSET_INDEX in plan and TRIGRAM_INDEX not in plan, plan


@on_postgresql
def test_a_term_without_three_letters_in_a_row_never_asks_the_trigram_index(busy_day):
    # pg_trgm finds no trigram in it: the index would be read whole
    plan = first_page_plan("9")

    assert TRIGRAM_INDEX not in plan, plan


@on_postgresql
def test_the_rare_term_is_found_among_many(busy_day, found):
    assert found("alice", "QUETZAL") == {busy_day.pk}
