"""Fixtures for the decision point: recorded policies, a fixed clock, and a one-line way to ask.

The engine sees only recorded policy versions, so `make_policy` and `edit_policy` record one each time,
as the admin does when a Policy Admin saves.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from governance import engine
from governance.models import Decision, Policy
from governance.policies import record_policy_version
from governance.services import ActionRequest, evaluate_action
from orchestration.models import Agent, Capability
from tests.factories import CapabilityFactory, PolicyFactory

NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_policy_index() -> Iterator[None]:
    """Start and end each test with an empty policy index.

    The database is rolled back between tests and SQLite then hands out the same ids again, so an index
    cached during one test could pass for current in the next.
    """
    engine._cached_index = engine.PolicyIndex([])
    yield
    engine._cached_index = engine.PolicyIndex([])


@pytest.fixture
def make_policy(db) -> Callable[..., Policy]:
    """Create a policy (scope included) and record its first version."""

    def make(**fields) -> Policy:
        policy = PolicyFactory(**fields)
        record_policy_version(policy)
        policy.refresh_from_db()
        return policy

    return make


@pytest.fixture
def edit_policy(db) -> Callable[..., Policy]:
    """Change a policy's fields and record the change as its next version."""

    def edit(policy: Policy, **changes) -> Policy:
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.save()
        record_policy_version(policy)
        policy.refresh_from_db()
        return policy

    return edit


@pytest.fixture
def decide(db) -> Callable[..., Decision]:
    """Ask the decision point about one action, at NOW unless told otherwise."""

    def ask(agent: Agent, action: str = "invoice.approve", *, now: dt.datetime = NOW, **fields) -> Decision:
        if fields.get("amount") is not None:
            fields["amount"] = Decimal(str(fields["amount"]))
        return evaluate_action(agent, ActionRequest(action=action, **fields), now=now)

    return ask


@pytest.fixture
def approve_invoices(db) -> Capability:
    return CapabilityFactory(code="invoice.approve")
