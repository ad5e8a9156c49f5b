"""The overview's headline: sentences written from the figures, which change when the figures do."""

import datetime as dt
from decimal import Decimal

import pytest

from dashboard.headline import headline, wait_words
from dashboard.kpis.approvals import approval_backlog
from dashboard.kpis.risk import department_risk
from dashboard.kpis.tiles import kpis
from governance.models import Approval, Verdict
from tests.factories import DecisionFactory
from tests.support.clock import NOW

pytestmark = pytest.mark.django_db


def sentences(viewer, period, now=NOW) -> dict[str, str]:
    written = headline(kpis(viewer, period), department_risk(viewer, period), approval_backlog(viewer), period, now)
    return {sentence.key: sentence.text for sentence in written}


def waiting(agent, role: str, minutes_ago: int) -> Approval:
    decision = DecisionFactory(agent=agent, verdict=Verdict.REQUIRE_APPROVAL, created_at=NOW)
    return Approval.objects.create(
        decision=decision,
        department=agent.department,
        approver_role=role,
        requested_at=NOW - dt.timedelta(minutes=minutes_ago),
        deadline=NOW + dt.timedelta(hours=4),
    )


def test_the_activity_sentence_says_how_much_more_or_less_than_the_period_before(finance_agent, alice, day):
    # Given 2 decisions in the 24 hours before and 3 in the last 24 hours
    DecisionFactory.create_batch(2, agent=finance_agent, created_at=NOW - dt.timedelta(hours=30))
    DecisionFactory.create_batch(3, agent=finance_agent, created_at=NOW)

    # When the headline is written, then again after 3 more decisions in the period before
    more = sentences(alice, day)["activity"]
    DecisionFactory.create_batch(3, agent=finance_agent, created_at=NOW - dt.timedelta(hours=30))
    fewer = sentences(alice, day)["activity"]

    # Then it says 50% more, then 40% fewer, with the earlier figure
    assert more == "In the last 24 hours agents asked for 3 decisions, 50% more than in the 24 hours before (2)."
    assert fewer == "In the last 24 hours agents asked for 3 decisions, 40% fewer than in the 24 hours before (5)."


def test_the_risk_sentence_names_the_departments_above_their_appetite(finance_agent, support_agent, alice, day):
    # Given Finance (appetite 50) at an average risk of 80 and Customer Support at 20
    DecisionFactory(agent=finance_agent, created_at=NOW, risk_score=80)
    DecisionFactory(agent=support_agent, created_at=NOW, risk_score=20)

    # When the headline is written, and again once Finance's appetite is raised to 90
    above = sentences(alice, day)["risk"]
    finance_agent.department.risk_appetite = 90
    finance_agent.department.save()
    within = sentences(alice, day)["risk"]

    # Then it names Finance with its figures, then says every department is within
    assert above == "Risk is above appetite in Finance (average risk 80 against an appetite of 50)."
    assert within == "Every department's average risk is within its appetite."


def test_the_approvals_sentence_says_how_many_wait_for_whom_and_the_oldest_wait(
    finance_agent, support_agent, alice, day
):
    # Given nothing waiting, then two requests for a Supervisor and one for an Executive, the oldest 190 min old
    nothing = sentences(alice, day)["approvals"]
    waiting(finance_agent, "Supervisor", 190)
    waiting(support_agent, "Supervisor", 5)
    waiting(finance_agent, "Executive", 30)

    # When the headline is written
    some = sentences(alice, day)["approvals"]

    # Then it says so, by approver role, with the oldest wait, and how many are the executive's own
    assert nothing == "No request is waiting for a person's decision across the organisation."
    assert some == (
        "3 requests wait for a decision across the organisation: 1 for an Executive and 2 for a Department "
        "supervisor; the oldest has waited 3 h 10 min. 1 of them is yours to decide."
    )


def test_a_supervisor_reads_the_backlog_of_their_departments_only(finance_agent, support_agent, bob, day):
    # Given a request in Finance (bob's) and one in Customer Support
    waiting(finance_agent, "Supervisor", 20)
    waiting(support_agent, "Supervisor", 90)

    # When bob's headline is written
    text = sentences(bob, day)["approvals"]

    # Then it counts Finance's only, and its age
    assert text.startswith("1 request waits for a decision in your departments: 1 for a Department supervisor;")
    assert "the oldest has waited 20 min" in text


def test_the_spend_sentence_says_when_spend_is_over_the_budget(finance_agent, alice, day):
    # Given Finance's monthly budget of 100,000 (3,285.42 a day) and 1,000 spent
    DecisionFactory(agent=finance_agent, created_at=NOW, amount=Decimal("1000"), currency="USD")
    within = sentences(alice, day)["spend"]

    # When 5,000 more is spent
    DecisionFactory(agent=finance_agent, created_at=NOW, amount=Decimal("5000"), currency="USD")
    over = sentences(alice, day)["spend"]

    # Then the first is a share of the budget, the second says over budget, both in the organisation's currency
    assert within == "Agents' actions committed $1,000 of spend, 30% of the $3,285 budget."
    assert over == "Spend is over budget: $6,000 against $3,285, 183% of it."


def test_the_violation_sentence_counts_denied_and_flagged_decisions(finance_agent, alice, day):
    # Given 4 decisions, one denied and one flagged
    for verdict in (Verdict.ALLOW, Verdict.ALLOW, Verdict.DENY, Verdict.FLAG):
        DecisionFactory(agent=finance_agent, verdict=verdict, created_at=NOW)

    # When the headline is written
    text = sentences(alice, day)["violations"]

    # Then the rate and the count agree with the definition of a violation
    assert text == "50.0% of decisions were violations (2 denied or flagged)."


@pytest.mark.parametrize(
    ("wait", "words"),
    [
        (dt.timedelta(seconds=20), "under a minute"),
        (dt.timedelta(minutes=12), "12 min"),
        (dt.timedelta(hours=3, minutes=10), "3 h 10 min"),
        (dt.timedelta(hours=5), "5 h"),
        (dt.timedelta(days=2, hours=4), "2 days 4 h"),
        (dt.timedelta(days=1), "1 day"),
    ],
)
def test_a_wait_reads_as_a_person_says_it(wait, words):
    assert wait_words(wait) == words
