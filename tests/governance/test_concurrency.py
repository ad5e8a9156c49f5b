"""Many requests at once, on PostgreSQL: budgets and rate limits hold exactly, and policy changes are seen.

Each test runs real threads, each with its own database connection, released at the barrier together.
SQLite serialises writers, so these run on PostgreSQL only, where the row locks are what is tested.
"""

import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import pytest
from django.db import connection, transaction

from audit import chain
from governance.models import Decision, Effect, Policy, Verdict
from governance.policies import record_policy_version
from orchestration.models import Agent
from tests.factories import AgentFactory

T = TypeVar("T")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: set DATABASE_URL=postgres://… (SQLite serialises every writer)",
    ),
    pytest.mark.django_db(transaction=True),
]

JOIN_SECONDS = 60


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0)…work(count - 1) in as many threads, released at once; return their results in order."""
    barrier = threading.Barrier(count)
    results: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=JOIN_SECONDS)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    assert errors == []
    return results


@pytest.fixture
def budget_agent(finance) -> Agent:
    """A Finance agent with 1000 to spend a month; Finance has 100000."""
    return AgentFactory(slug="budget-bot", department=finance, monthly_budget=1000)


# As many requests at once as the pool has connections (20, each held for a decision's transaction): more would
# wait past DB_POOL_TIMEOUT behind one agent's row lock and be answered 503, which tests/test_overload.py covers.
AT_ONCE = 20


def test_concurrent_requests_spend_the_budget_exactly(decide, budget_agent):
    # Given an agent with 1000 to spend

    # When 20 requests for 100 each arrive at once
    decisions = run_together(AT_ONCE, lambda _: decide(budget_agent, amount=100))

    # Then exactly 10 are allowed, the other 10 are denied for the agent's budget, and 1000 is spent
    allowed = [d for d in decisions if d.verdict == Verdict.ALLOW]
    denied = [d for d in decisions if d.verdict == Verdict.DENY]
    assert (len(allowed), len(denied)) == (10, AT_ONCE - 10)
    assert all(d.explanation.startswith("Agent budget-bot has not enough budget left") for d in denied)
    budget_agent.refresh_from_db()
    budget_agent.department.refresh_from_db()
    assert budget_agent.month_spent == Decimal("1000")
    assert budget_agent.department.month_spent == Decimal("1000")


def test_concurrent_requests_of_random_amounts_never_overspend(decide, budget_agent):
    # Given an agent with 1000 to spend, and requests of random amounts
    amounts = [Decimal(random.randint(1, 300)) for _ in range(AT_ONCE)]

    # When they arrive at once
    run_together(len(amounts), lambda index: decide(budget_agent, amount=amounts[index]))

    # Then, in the order they took the agent's lock, each was allowed exactly when it still fitted the budget
    spent = Decimal("0")
    for decision in Decision.objects.filter(agent=budget_agent).order_by("pk"):
        fits = spent + decision.amount <= 1000
        assert decision.verdict == (Verdict.ALLOW if fits else Verdict.DENY), (spent, decision.amount)
        spent += decision.amount if fits else 0
    budget_agent.refresh_from_db()
    assert budget_agent.month_spent == spent <= 1000


def test_concurrent_requests_of_many_agents_spend_their_departments_budget_exactly(decide, finance):
    # Given a department with 1000 to spend a month and 20 agents of its own with 500 each
    finance.monthly_budget = Decimal("1000")
    finance.save(update_fields=["monthly_budget"])
    agents = [AgentFactory(slug=f"buyer-{n}", department=finance, monthly_budget=500) for n in range(AT_ONCE)]

    # When each agent asks to spend 100 at the same moment
    decisions = run_together(AT_ONCE, lambda index: decide(agents[index], amount=100))

    # Then exactly 10 are allowed; the others are denied for the department's budget and cost their agent nothing
    allowed = [d for d in decisions if d.verdict == Verdict.ALLOW]
    denied = [d for d in decisions if d.verdict == Verdict.DENY]
    assert (len(allowed), len(denied)) == (10, AT_ONCE - 10)
    assert all("Department Finance has not enough budget left" in d.explanation for d in denied)
    finance.refresh_from_db()
    assert finance.month_spent == Decimal("1000")
    spent = {a.pk: a.month_spent for a in Agent.objects.filter(pk__in=[a.pk for a in agents])}
    assert spent == {d.agent_id: Decimal("100") if d.verdict == Verdict.ALLOW else Decimal("0") for d in decisions}


def test_a_rate_limit_lets_exactly_its_number_through_concurrent_requests(make_policy, decide, finance_agent):
    # Given a policy denying an agent's sixth action within an hour
    make_policy(name="Five an hour", effect=Effect.DENY, condition="agent_actions_last_hour() >= 5")

    # When 20 requests arrive at once
    decisions = run_together(20, lambda _: decide(finance_agent, "ticket.reply"))

    # Then exactly 5 are allowed
    verdicts = [d.verdict for d in decisions]
    assert (verdicts.count(Verdict.ALLOW), verdicts.count(Verdict.DENY)) == (5, 15)


def test_a_policy_change_committed_after_a_later_one_still_reaches_the_engine(
    monkeypatch, make_policy, edit_policy, decide, finance_agent
):
    # Given two policies on refunds only, so invoice approvals are allowed
    slow = make_policy(name="Slow edit", actions="refund.issue")
    quick = make_policy(name="Quick edit", actions="refund.issue")

    # And an edit of the first that stores its version, then stalls before it commits (at the audit record,
    # record_policy_version's last step), so its version id is older than one committed after it
    stored, release = threading.Event(), threading.Event()
    record_audit = chain.record

    def stall_the_slow_edit(*args, **kwargs):
        if threading.current_thread() is editor:
            stored.set()
            release.wait(JOIN_SECONDS)
        return record_audit(*args, **kwargs)

    def extend_slow_to_invoices() -> None:
        try:
            with transaction.atomic():
                Policy.objects.filter(pk=slow.pk).update(actions="refund.issue, invoice.approve")
                record_policy_version(slow)
        finally:
            connection.close()

    monkeypatch.setattr(chain, "record", stall_the_slow_edit)
    editor = threading.Thread(target=extend_slow_to_invoices)
    editor.start()
    assert stored.wait(JOIN_SECONDS)

    # And a later edit of the second that commits first, and a decision that caches the policy set
    edit_policy(quick, rationale="Reworded.")
    assert decide(finance_agent).verdict == Verdict.ALLOW

    # When the slow edit commits
    release.set()
    editor.join(JOIN_SECONDS)

    # Then the next invoice approval meets it
    assert decide(finance_agent).verdict == Verdict.DENY
