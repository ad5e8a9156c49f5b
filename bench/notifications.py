"""What telling approvers costs the transaction that chains a held decision's events.

    .venv/bin/python bench/notifications.py [--decisions 200] [--approvers 3] [--rounds 3]

Approval messages are written by a transaction listener (notifications.approval_messages) in the transaction
that chains the events: the sequencer's, or the writer's under inline sequencing, which this benchmark uses so
that one call times it all. A throwaway database holds one department with --approvers supervisors, each with
email and a Slack webhook, and a policy holding invoices over 500 for a supervisor. Each round takes
--decisions turns of three decisions: held with the listener removed (the baseline), held with it, allowed (no
approval event: the listener returns at once) with it; then the task that tells the
round's held requests' approvers (a worker's time, after commit, off the chain). Sending is left out: no task is
queued (delivery._send and approval_messages._queue are replaced).
"""

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import databases

DATABASE = "regent_bench_notifications"


def setup(url: str) -> None:
    os.environ.update(DATABASE_URL=url, AUDIT_SEQUENCING="inline", EMAIL_HOST="localhost")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(approvers: int):
    from governance.models import Effect
    from governance.policies import record_policy_version
    from notifications.models import Preference
    from orchestration.roles import Role
    from tests.factories import AgentFactory, CapabilityFactory, DepartmentFactory, PolicyFactory, UserFactory

    finance = DepartmentFactory(name="Finance", slug="finance")
    for n in range(approvers):
        person = UserFactory(username=f"supervisor{n}", roles=[Role.SUPERVISOR])
        finance.supervisors.add(person)
        Preference.objects.create(user=person, chat="slack", chat_webhook_url=f"https://hooks.slack.com/services/{n}")
    CapabilityFactory(code="invoice.approve", description="Approve an invoice for payment")
    policy = PolicyFactory(
        name="Big invoices need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="invoice.approve",
        condition="amount > 500.0",
        approver_role="Supervisor",
        rationale="Large sums get a second pair of eyes.",
    )
    record_policy_version(policy)
    return AgentFactory(name="Invoice Bot", slug="invoice-bot", department=finance)


def time_decision(agent, amount: str) -> float:
    from governance.evaluation import ActionRequest, evaluate_action

    started = time.perf_counter()
    evaluate_action(agent, ActionRequest(action="invoice.approve", amount=Decimal(amount), currency="EUR"))
    return time.perf_counter() - started


def time_round(agent, count: int) -> dict[str, float]:
    """Milliseconds per decision, median, for each case; the cases take turns decision by decision, so a change
    in the machine's load lands on all of them."""
    from audit import events
    from notifications.approval_messages import record_messages

    took: dict[str, list[float]] = {"held, messages off": [], "held, messages on": [], "allowed, messages on": []}
    for _ in range(count):
        events._transaction_listeners.remove(record_messages)
        took["held, messages off"].append(time_decision(agent, "900"))
        events.add_transaction_listener(record_messages)
        took["held, messages on"].append(time_decision(agent, "900"))
        took["allowed, messages on"].append(time_decision(agent, "100"))
    return {case: statistics.median(values) * 1000 for case, values in took.items()}


def time_telling() -> float:
    """Milliseconds per notice for the task that tells its people (links, messages, delivery rows), median."""
    from notifications.approval_messages import tell_from_notice
    from notifications.models import ApprovalNotice

    took = []
    for notice_id in ApprovalNotice.objects.filter(told_at=None).values_list("pk", flat=True):
        started = time.perf_counter()
        tell_from_notice(notice_id)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--approvers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    setup(databases.recreate(DATABASE))
    from notifications import approval_messages, delivery
    from notifications.models import Delivery

    delivery._send = lambda ids: None
    approval_messages._queue = lambda ids: None  # the telling is timed on its own, as a worker runs it
    agent = seed(options.approvers)
    time_round(agent, 10)  # warm-up: the policy index, the pool, the imports
    time_telling()
    results: dict[str, list[float]] = {}
    for _ in range(options.rounds):
        for case, value in time_round(agent, options.decisions).items():
            results.setdefault(case, []).append(value)
        results.setdefault("telling (worker), per held", []).append(time_telling())
    written = Delivery.objects.count()
    baseline = statistics.median(results["held, messages off"])
    print(f"{options.decisions} decisions a round, {options.rounds} rounds, {options.approvers} approvers each with")
    print(f"email and Slack ({written} deliveries written); median ms per decision, round medians:\n")
    print(f"{'case':<28} {'ms/decision':>12} {'rounds':>24} {'× held, off':>12}")
    for case, values in results.items():
        median = statistics.median(values)
        rounds = " ".join(f"{value:.2f}" for value in values)
        print(f"{case:<28} {median:>12.2f} {rounds:>24} {median / baseline:>12.2f}")
    from django.db import connections

    connections.close_all()
    databases.drop(DATABASE)


if __name__ == "__main__":
    main()
