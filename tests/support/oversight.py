"""For the oversight pages (approvals inbox, decision explorer, decision page): a policy that holds big
invoices for a supervisor, and agent text meant to attack. The `hold` fixture (tests/fixtures/governance.py)
asks through that policy.
"""

from governance.models import Effect, Policy

SCRIPT = "<script>alert('owned')</script>"


def big_invoices_need_a_supervisor(make_policy) -> Policy:
    return make_policy(
        name="Big invoices need a supervisor",
        effect=Effect.REQUIRE_APPROVAL,
        actions="invoice.approve",
        condition="amount > 500.0",
        approver_role="Supervisor",
        rationale="Large sums get a second pair of eyes.",
    )
