"""The demo organisation, declared as data so that seeding it twice changes nothing."""

from decimal import Decimal

from django.conf import settings

from dashboard.money import format_money
from orchestration.models import ModelProvider, RiskTier
from orchestration.roles import Role

PASSWORD = "regent-demo"
# The company works in the organisation's currency (settings.ORG_CURRENCY), whichever that is.
CURRENCY = settings.ORG_CURRENCY


def _money(amount: int) -> str:
    return format_money(amount, whole=True)


PEOPLE = [
    # username, full name, role
    ("executive", "Erika Exec", Role.EXECUTIVE),
    ("supervisor", "Sam Supervisor", Role.SUPERVISOR),
    ("policyadmin", "Pat Policy", Role.POLICY_ADMIN),
    ("auditor", "Audrey Auditor", Role.AUDITOR),
]
SUPERVISED_BY = {"supervisor": ["finance", "procurement"]}

DEPARTMENTS = [
    # slug, name, monthly budget, risk appetite
    ("finance", "Finance", Decimal("3500000"), 40),
    ("procurement", "Procurement", Decimal("3000000"), 45),
    ("support", "Customer Support", Decimal("400000"), 60),
    ("data", "Data & Analytics", Decimal("150000"), 50),
    ("legal", "Legal", Decimal("100000"), 30),
    ("it-ops", "IT Operations", Decimal("150000"), 55),
]

PROVIDERS = [
    # name, kind, endpoint, region, cost per unit
    ("Northwind LLM", ModelProvider.Kind.SIMULATED, "", "eu-west", Decimal("0.0020")),
    ("Contoso AI", ModelProvider.Kind.SIMULATED, "", "us-east", Decimal("0.0030")),
    (
        "On-prem model gateway",
        ModelProvider.Kind.OPENAI_COMPATIBLE,
        "http://127.0.0.1:8088/v1",
        "on-prem",
        Decimal("0.0008"),
    ),
    (
        "Partner agent webhook",
        ModelProvider.Kind.HTTP_WEBHOOK,
        "http://127.0.0.1:8089/agents",
        "eu-central",
        Decimal("0.0015"),
    ),
]

CAPABILITIES = {
    "invoice.approve": "Approve a supplier invoice for payment",
    "payment.execute": "Execute a payment",
    "expense.review": "Review an expense claim",
    "report.generate": "Generate a report",
    "purchase_order.create": "Raise a purchase order",
    "vendor.onboard": "Onboard a new vendor",
    "contract.review": "Review a contract",
    "ticket.reply": "Reply to a customer ticket",
    "refund.issue": "Issue a refund to a customer",
    "account.update": "Update a customer account",
    "data.export": "Export a data set",
    "dataset.share": "Share a data set with a third party",
    "document.redact": "Redact a document",
    "access.grant": "Grant a person access to a system",
    "incident.triage": "Triage an incident",
    "deployment.approve": "Approve a deployment",
}

# department slug -> (agent roles, capabilities they hold)
AGENT_ROLES = {
    "finance": [
        ("Invoice", ["invoice.approve", "expense.review"]),
        ("Payments", ["payment.execute"]),
        ("Reporting", ["report.generate"]),
    ],
    "procurement": [("Purchasing", ["purchase_order.create"]), ("Vendor", ["vendor.onboard", "contract.review"])],
    "support": [("Helpdesk", ["ticket.reply", "account.update"]), ("Refunds", ["refund.issue", "ticket.reply"])],
    "data": [("Export", ["data.export", "report.generate"]), ("Sharing", ["dataset.share"])],
    "legal": [("Contracts", ["contract.review", "document.redact"])],
    "it-ops": [("Access", ["access.grant"]), ("Incidents", ["incident.triage"]), ("Release", ["deployment.approve"])],
}
AGENTS_PER_DEPARTMENT = {"finance": 8, "procurement": 7, "support": 8, "data": 6, "legal": 4, "it-ops": 7}
# Agents that move money get budgets sized for a month of payments; the others pay for compute.
MONEY_BUDGETS = [Decimal("800000"), Decimal("1200000"), Decimal("1500000")]
OTHER_BUDGETS = [Decimal("20000"), Decimal("50000"), Decimal("80000")]
TIERS = [RiskTier.MINIMAL, RiskTier.LIMITED, RiskTier.LIMITED, RiskTier.HIGH, RiskTier.HIGH, RiskTier.CRITICAL]

# Each example: (description, capability of the agent that asks, request, verdict it must get). The seed
# picks an agent below the critical tier holding that capability, so other policies do not interfere.
POLICIES = [
    {
        "name": "Large payments need an executive",
        "rationale": f"Payments of {_money(10_000)} or more commit the company: an executive signs them off.",
        "actions": "invoice.approve, payment.execute",
        "condition": "amount >= 10000.0",
        "effect": "require_approval",
        "approver_role": Role.EXECUTIVE,
        "priority": 300,
        "risk_weight": 20,
        "examples": [
            (
                f"A {_money(25_000)} invoice waits for an executive",
                "invoice.approve",
                {"action": "invoice.approve", "amount": "25000", "currency": CURRENCY},
                "require_approval",
            ),
        ],
    },
    {
        "name": "Mid-size payments need a supervisor",
        "rationale": f"Payments from {_money(2_000)} to {_money(10_000)} are checked by the department's supervisor.",
        "actions": "invoice.approve, payment.execute, purchase_order.create",
        "condition": "amount >= 2000.0 && amount < 10000.0",
        "effect": "require_approval",
        "approver_role": Role.SUPERVISOR,
        "priority": 250,
        "risk_weight": 10,
    },
    {
        "name": "Personal data stays in the EU",
        "rationale": "GDPR: personal data may only be exported to EU destinations.",
        "actions": "data.export, dataset.share",
        "condition": '"pii" in data_classes && (!has(context.region) || context.region != "eu")',
        "effect": "deny",
        "priority": 400,
        "risk_weight": 30,
        "examples": [
            (
                "Personal data to the US is refused",
                "data.export",
                {"action": "data.export", "data_classes": ["pii"], "context": {"region": "us"}},
                "deny",
            ),
            (
                "Personal data within the EU is fine",
                "data.export",
                {"action": "data.export", "data_classes": ["pii"], "context": {"region": "eu"}},
                "allow",
            ),
        ],
    },
    {
        "name": f"Refunds over {_money(500)} are flagged",
        "rationale": "Larger refunds are reviewed weekly for abuse patterns.",
        "actions": "refund.issue",
        "condition": "amount > 500.0",
        "effect": "flag",
        "priority": 150,
        "risk_weight": 10,
    },
    {
        "name": f"Refunds over {_money(2_000)} are refused",
        "rationale": "Refunds this large go through the claims process, not an agent.",
        "actions": "refund.issue",
        "condition": "amount > 2000.0",
        "effect": "deny",
        "priority": 350,
        "risk_weight": 25,
        "examples": [
            (
                f"A {_money(2_500)} refund is refused",
                "refund.issue",
                {"action": "refund.issue", "amount": "2500", "currency": CURRENCY},
                "deny",
            ),
        ],
    },
    {
        "name": "Critical-tier agents never move money alone",
        "rationale": "Agents in the critical risk tier need a person for any action with an amount.",
        "condition": "agent.risk_tier >= 4 && amount > 0.0",
        "effect": "require_approval",
        "approver_role": Role.SUPERVISOR,
        "priority": 280,
        "risk_weight": 15,
    },
    {
        "name": "Burst limit per agent",
        "rationale": "More than 600 actions an hour from one agent suggests a loop or an attack.",
        "condition": "agent_actions_last_hour() >= 600",
        "effect": "deny",
        "priority": 500,
        "risk_weight": 20,
    },
    {
        "name": "Budget nearly spent",
        "rationale": "Flag spending that takes an agent past 90% of its monthly budget.",
        "condition": "amount > 0.0 && agent_spend_month() + amount > agent.monthly_budget * 0.9",
        "effect": "flag",
        "priority": 120,
        "risk_weight": 10,
    },
    {
        "name": "After-hours access grants need approval",
        "rationale": "Access granted outside 07:00–19:00 UTC is a classic intrusion pattern.",
        "actions": "access.grant",
        "condition": "now.getHours() < 7 || now.getHours() >= 19",
        "effect": "require_approval",
        "approver_role": Role.SUPERVISOR,
        "priority": 200,
        "risk_weight": 15,
    },
    {
        "name": "Production deployments need approval",
        "rationale": "Change management: a person approves every production release.",
        "actions": "deployment.approve",
        "condition": 'has(context.environment) && context.environment == "production"',
        "effect": "require_approval",
        "approver_role": Role.SUPERVISOR,
        "priority": 200,
        "risk_weight": 10,
        "examples": [
            (
                "A production release waits for a person",
                "deployment.approve",
                {"action": "deployment.approve", "context": {"environment": "production"}},
                "require_approval",
            ),
            (
                "A staging release goes ahead",
                "deployment.approve",
                {"action": "deployment.approve", "context": {"environment": "staging"}},
                "allow",
            ),
        ],
    },
    {
        "name": "Support never handles health data",
        "rationale": "Health data is special-category data; support agents are not cleared for it.",
        "departments": ["support"],
        "condition": '"health" in data_classes',
        "effect": "deny",
        "priority": 400,
        "risk_weight": 30,
        "examples": [
            (
                "A reply touching health data is refused",
                "ticket.reply",
                {"action": "ticket.reply", "data_classes": ["health"]},
                "deny",
            ),
        ],
    },
    {
        "name": "Sanctions check before onboarding (trial)",
        "rationale": "Proposed: refuse onboarding a vendor that has not passed the sanctions check.",
        "actions": "vendor.onboard",
        "condition": "!has(context.sanctions_checked) || !context.sanctions_checked",
        "effect": "deny",
        "mode": "shadow",
        "priority": 300,
        "risk_weight": 20,
        "examples": [
            (
                "An unchecked vendor is refused",
                "vendor.onboard",
                {"action": "vendor.onboard", "context": {"sanctions_checked": False}},
                "deny",
            ),
            (
                "A checked vendor is onboarded",
                "vendor.onboard",
                {"action": "vendor.onboard", "context": {"sanctions_checked": True}},
                "allow",
            ),
        ],
    },
    {
        "name": "High-value contracts are flagged",
        "rationale": f"Contracts above {_money(50_000)} go on Legal's weekly review list.",
        "actions": "contract.review",
        "condition": "has(context.contract_value) && context.contract_value > 50000.0",
        "effect": "flag",
        "priority": 100,
        "risk_weight": 10,
    },
]

# slug, name, sample input, steps: (key, capability = action, amount field, data classes, depends on)
WORKFLOWS = [
    (
        "supplier-invoice",
        "Supplier invoice",
        {"amount": 1800, "currency": CURRENCY},
        [
            ("order", "purchase_order.create", "amount", [], ""),
            ("approve", "invoice.approve", "amount", ["financial"], "order"),
            ("pay", "payment.execute", "amount", ["financial"], "approve"),
        ],
    ),
    (
        "customer-refund",
        "Customer refund",
        {"amount": 300, "currency": CURRENCY},
        [
            ("reply", "ticket.reply", "", ["pii"], ""),
            ("refund", "refund.issue", "amount", ["pii", "financial"], "reply"),
        ],
    ),
    (
        "data-sharing",
        "Data sharing with a partner",
        {"region": "eu"},
        [
            ("export", "data.export", "", ["financial"], ""),
            ("redact", "document.redact", "", [], "export"),
            ("share", "dataset.share", "", [], "redact"),
        ],
    ),
]
STRATEGY = {"cost": 30, "risk": 30, "customer_satisfaction": 20, "resilience": 20}

# Alert rules a Policy Admin would start with (alerting): the organisation's, checked every minute.
ALERT_RULES = [
    {"name": "An agent past 80% of its monthly budget", "kind": "budget", "level": "agent", "threshold": 80},
    {
        "name": "A department spending ahead of the month",
        "kind": "budget",
        "level": "department",
        "threshold": 100,
        "pro_rata": True,
    },
    {
        "name": "Violations at twice the week's rate",
        "kind": "violation_rate",
        "threshold": 2,
        "minimum_volume": 20,
        "window_hours": 1,
        "baseline_days": 7,
    },
    {"name": "Average risk above appetite today", "kind": "risk_appetite", "minimum_volume": 20, "window_hours": 24},
    {"name": "An approval waiting over 30 minutes", "kind": "approvals_waiting", "minutes": 30},
    {"name": "Kill switch used", "kind": "kill_switch"},
    {"name": "Audit log failing verification", "kind": "audit_chain"},
]

# The models the simulated agents reason with, as they report them in their traces (model, provider), and what
# their tokens cost in the organisation's currency per thousand (input, output).
AGENT_MODELS = [("gpt-4o", "openai"), ("claude-sonnet-4", "anthropic"), ("gemini-2.5-pro", "gcp.gemini")]
SMALL_MODEL = ("gpt-4o-mini", "openai")
TOKEN_PRICES = {
    "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
    "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
    "claude-sonnet-4": (Decimal("3.00"), Decimal("15.00")),
    "gemini-2.5-pro": (Decimal("1.25"), Decimal("10.00")),
}
