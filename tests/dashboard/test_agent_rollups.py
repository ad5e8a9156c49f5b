"""The rollups the agents' pages read: CSAT sums and policy hits per agent, exact against the tables."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum

from dashboard.models import DecisionRollup, PolicyRollup
from dashboard.rollups import fold_changes
from dashboard.tasks import fold_rollups
from governance.models import Effect, Outcome
from governance.outcomes import report_outcome
from tests.factories import DecisionFactory

pytestmark = pytest.mark.django_db


def rollup_csat(grain: str = "hour", **filters) -> tuple[int, int]:
    sums = DecisionRollup.objects.filter(grain=grain, **filters).aggregate(total=Sum("csat_total"), n=Sum("csat_count"))
    return sums["total"] or 0, sums["n"] or 0


def outcome_csat(**filters) -> tuple[int, int]:
    sums = Outcome.objects.filter(**filters).aggregate(total=Sum("csat"), n=Count("csat"))
    return sums["total"] or 0, sums["n"]


def test_the_fold_task_sums_csat_into_the_decisions_buckets(finance_agent, support_agent):
    # Given outcomes with CSAT 5, 3 and none for Finance, and 2 for Support
    for agent, csat in ((finance_agent, 5), (finance_agent, 3), (finance_agent, None), (support_agent, 2)):
        decision = DecisionFactory(agent=agent)
        report_outcome(decision, "success", reported_by="agent:tests", value=Decimal("10"), csat=csat)

    # When the beat task folds the changes
    fold_rollups()

    # Then each agent's buckets hold exactly its outcomes' CSAT sum and count, at both grains
    for agent in (finance_agent, support_agent):
        expected = outcome_csat(decision__agent=agent)
        assert rollup_csat("hour", agent=agent) == rollup_csat("day", agent=agent) == expected
    assert rollup_csat(agent=finance_agent) == (8, 2)


def test_csat_reported_after_the_fold_lands_in_the_decisions_bucket(finance_agent):
    # Given a decision already folded into its hour
    decision = DecisionFactory(agent=finance_agent)
    fold_changes()

    # When its outcome arrives with a CSAT of 4, and is folded
    report_outcome(decision, "success", reported_by="agent:tests", csat=4)
    fold_changes()

    # Then the decision's one bucket per grain carries it
    assert DecisionRollup.objects.filter(grain="hour").count() == 1
    assert rollup_csat("hour") == rollup_csat("day") == (4, 1)


def test_policy_hits_are_kept_per_agent(decide, make_policy, finance_agent, support_agent):
    # Given a flag policy that matches both agents' requests
    policy = make_policy(name="Flag invoices", effect=Effect.FLAG)

    # When Finance asks twice and Support once, and the changes are folded
    decide(finance_agent)
    decide(finance_agent)
    decide(support_agent)
    fold_changes()

    # Then the policy buckets count the hits per agent
    hits = dict(PolicyRollup.objects.filter(grain="day", policy=policy).values_list("agent_id", "hits"))
    assert hits == {finance_agent.pk: 2, support_agent.pk: 1}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
def test_seeded_history_carries_csat_into_the_rollups(finance_agent, support_agent):
    # When synthetic history is loaded
    call_command("seed_history", decisions=2000, days=5, stdout=None)

    # Then some outcomes have a CSAT, some not, and the rollups hold exactly their sums per agent
    assert 0 < Outcome.objects.filter(csat__isnull=False).count() < Outcome.objects.count()
    for agent in (finance_agent, support_agent):
        expected = outcome_csat(decision__agent=agent)
        assert rollup_csat("hour", agent=agent) == rollup_csat("day", agent=agent) == expected
