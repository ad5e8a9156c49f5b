"""On PostgreSQL, with writers and folds running at once, every decision and outcome is counted exactly once.

A sequence hands out ids in one order and transactions commit in another: these tests make that
happen on purpose, with real threads on their own connections. Decisions are written with the factory
(the triggers are what is tested; evaluate_action would serialise the writers on the audit chain head).
"""

import random
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from dashboard.kpis.tiles import kpis
from dashboard.models import DecisionRollup
from dashboard.periods import period_for
from dashboard.rollups import fold_changes
from governance.models import Outcome, Verdict
from tests.factories import DecisionFactory
from tests.support.clock import NOW
from tests.support.rollups import bucket_counts, decisions_per_bucket
from tests.support.threads import in_thread

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 60


def test_a_decision_committed_after_a_newer_one_is_still_folded_once(finance_agent, support_agent):
    # Given a writer holding its transaction open after taking a lower id
    holding, release, ids, errors = threading.Event(), threading.Event(), {}, []

    def slow_writer() -> None:
        with transaction.atomic():
            ids["late"] = DecisionFactory(agent=finance_agent, created_at=NOW).pk
            holding.set()
            release.wait(WAIT_SECONDS)

    writer = in_thread(slow_writer, errors)
    assert holding.wait(WAIT_SECONDS)
    ids["early"] = DecisionFactory(agent=support_agent, created_at=NOW).pk

    # When a fold runs before the late transaction commits, and another after
    fold_changes()
    folded_first = DecisionRollup.objects.filter(grain="hour").aggregate(n=Sum("decisions"))["n"]
    release.set()
    writer.join(WAIT_SECONDS)
    fold_changes()

    # Then the lower id committed last, the first fold took only what was committed, and none is missing
    assert errors == []
    assert ids["late"] < ids["early"]
    assert folded_first == 1
    assert bucket_counts("hour") == decisions_per_bucket("hour")
    assert bucket_counts("day") == decisions_per_bucket("day")


def test_writers_folds_and_readers_at_once_count_everything_exactly(finance_agent, support_agent, alice):
    # Given 6 writers (some decisions get an outcome), 2 folds in a loop, and a reader of the tiles
    agents, writers_done, errors, seen = [finance_agent, support_agent], threading.Event(), [], []
    period = period_for("24h", NOW)

    def write(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            with transaction.atomic():
                verdict = rng.choice(list(Verdict))
                decision = DecisionFactory(agent=rng.choice(agents), verdict=verdict, created_at=NOW)
                if verdict == Verdict.ALLOW and rng.random() < 0.5:
                    Outcome.objects.create(decision=decision, result="success", value=10)

    def fold() -> None:
        while not writers_done.is_set():
            fold_changes(batch=25)

    def read() -> None:
        while not writers_done.is_set():
            seen.append(next(t.value for t in kpis(alice, period) if t.key == "decisions"))

    writers = [in_thread(lambda s=seed: write(s), errors) for seed in range(6)]
    others = [in_thread(fold, errors), in_thread(fold, errors), in_thread(read, errors)]

    # When all have run and a last fold takes what is left
    for thread in writers:
        thread.join(WAIT_SECONDS)
    writers_done.set()
    for thread in others:
        thread.join(WAIT_SECONDS)
    while fold_changes():
        pass

    # Then the buckets match the tables exactly, and the tiles never went backwards or past the total
    assert errors == []
    assert sum(decisions_per_bucket("hour").values()) == 240
    assert bucket_counts("hour") == decisions_per_bucket("hour")
    assert bucket_counts("day") == decisions_per_bucket("day")
    outcomes = DecisionRollup.objects.filter(grain="hour").aggregate(n=Sum("outcomes"))["n"]
    assert outcomes == Outcome.objects.count()
    assert seen == sorted(seen) and all(n <= 240 for n in seen)
    assert seen  # the reader did read while the writers ran
