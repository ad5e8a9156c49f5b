"""A small client for agents: ask Regent before acting, report what happened after.

    from regent_client import Regent

    regent = Regent("https://regent.example.com", api_key="rgt_…")

    @regent.governed("invoice.approve", amount=lambda invoice: invoice["total"], currency="EUR")
    def approve(invoice):
        ...

`approve(invoice)` runs only when Regent allows it (allow or flag); otherwise it raises NotAllowed with
Regent's verdict and explanation. Its result is reported as the decision's outcome. Standard library only,
so any agent can vendor it.
"""

from regent_client.client import Decision, NotAllowed, Regent, RegentError

__all__ = ["Decision", "NotAllowed", "Regent", "RegentError"]
