"""Fixtures for the oversight pages (approvals inbox, decision explorer, decision page), imported by their
test modules: requests held for a person through the real decision point, and agent text meant to attack.

Import `hold_fixture` (the fixture is named `hold`) into a test module to use it.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.models import Decision, Effect, Policy
from governance.services import ActionRequest, evaluate_action
from orchestration.models import Agent

SCRIPT = "<script>alert('owned')</script>"


def big_invoices_need_a_supervisor(make_policy) -> Policy:
    return make_policy(
        name="Big invoices need a supervisor", effect=Effect.REQUIRE_APPROVAL, actions="invoice.approve",
        condition="amount > 500.0", approver_role="Supervisor", rationale="Large sums get a second pair of eyes.",
    )  # fmt: skip


@pytest.fixture(name="hold")
def hold_fixture(make_policy) -> Callable[..., Decision]:
    """An agent asks to approve an invoice over 500: the decision point holds it for a supervisor."""
    big_invoices_need_a_supervisor(make_policy)

    def ask(agent: Agent, amount: str = "900", *, now=None, **fields) -> Decision:
        request = ActionRequest(action="invoice.approve", amount=Decimal(amount), currency="EUR", **fields)
        decision = evaluate_action(agent, request, now=now or timezone.now())
        assert decision.approval.status == "pending"
        return decision

    return ask
