"""What the simulated agents ask to do: plausible requests per capability."""

import random
from decimal import Decimal

from django.conf import settings

from governance.evaluation import ActionRequest

# capability -> (median amount or None, spread)
AMOUNTS = {
    "invoice.approve": (900.0, 1.1),
    "payment.execute": (1200.0, 1.0),
    "purchase_order.create": (1500.0, 0.9),
    "refund.issue": (120.0, 1.0),
    "expense.review": (90.0, 0.7),
}


def _amount(rng: random.Random, capability: str) -> Decimal | None:
    if capability not in AMOUNTS:
        return None
    median, spread = AMOUNTS[capability]
    return Decimal(str(round(rng.lognormvariate(0, spread) * median, 2)))


def make_request(rng: random.Random, capability: str) -> ActionRequest:
    data_classes: list[str] = []
    context: dict = {}
    resource = f"{capability.split('.')[0]}/{rng.randint(10000, 99999)}"
    if capability in ("data.export", "dataset.share"):
        data_classes = rng.choice([[], ["pii"], ["financial"], ["pii", "financial"]])
        context["region"] = rng.choices(["eu", "us", "apac"], weights=[80, 15, 5])[0]
    elif capability in ("ticket.reply", "account.update"):
        data_classes = rng.choices([[], ["pii"], ["health"]], weights=[60, 38, 2])[0]
        context["channel"] = rng.choice(["email", "chat", "phone"])
    elif capability == "refund.issue":
        data_classes = ["pii", "financial"]
    elif capability in ("invoice.approve", "payment.execute"):
        data_classes = ["financial"]
    elif capability == "deployment.approve":
        context["environment"] = rng.choices(["production", "staging"], weights=[35, 65])[0]
    elif capability == "vendor.onboard":
        context["sanctions_checked"] = rng.random() < 0.8
    elif capability == "contract.review":
        context["contract_value"] = round(rng.lognormvariate(0, 1.0) * 20000.0, 2)
    elif capability == "access.grant":
        context["system"] = rng.choice(["erp", "crm", "warehouse", "payroll"])
    return ActionRequest(
        action=capability,
        resource=resource,
        amount=_amount(rng, capability),
        currency=settings.ORG_CURRENCY if capability in AMOUNTS else "",
        data_classes=data_classes,
        context=context,
    )


def make_outcome(rng: random.Random, capability: str, amount: Decimal | None) -> dict:
    """What happened after an allowed action: success, what it cost and what it was worth."""
    success = rng.random() < 0.94
    cost = Decimal(str(round(rng.uniform(0.02, 0.6), 2)))
    base_value = {"ticket.reply": 6.0, "incident.triage": 40.0, "report.generate": 25.0, "contract.review": 120.0}
    value = float(amount) * 0.015 if amount else base_value.get(capability, 15.0)
    csat = rng.choices([1, 2, 3, 4, 5], weights=[3, 5, 15, 40, 37])[0] if capability.startswith("ticket") else None
    return {
        "result": "success" if success else "failure",
        "cost": cost,
        "value": Decimal(str(round(value if success else 0.0, 2))),
        "csat": csat,
    }
