"""Policy evaluation benchmark: Regent's engine against Cedar, two CEL libraries, and the HTTP path.

Run from the repository root: `.venv/bin/python bench/policy_eval.py` (sections: engine, cel, http;
all by default). Every ratio is against a baseline measured in the same run; nothing here asserts a
wall-clock limit. bench/README.md explains the choices and records a run.
"""

import argparse
import datetime as dt
import json
import logging
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "regent_bench"
BENCH_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}"

# Settings come from the environment when Django starts: only the HTTP section touches this database.
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

import cedarpy  # noqa: E402
import cel  # noqa: E402
import celpy  # noqa: E402
import psycopg  # noqa: E402
from celpy import celtypes  # noqa: E402
from django.db import connections  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from bench import databases  # noqa: E402
from governance import engine  # noqa: E402
from governance.condition_cost import RequestData  # noqa: E402
from governance.evaluation import ActionRequest, engine_request, subject_of  # noqa: E402
from governance.models import Effect, Policy, PolicyVersion  # noqa: E402
from governance.policies import record_policy_version, snapshot_of  # noqa: E402
from orchestration.keys import issue_key  # noqa: E402
from orchestration.models import Agent, Capability, Department, ModelProvider  # noqa: E402

SEED = 20260105
POLICY_COUNTS = (10, 100, 1000)
ENGINE_ITERATIONS = 20_000
ENGINE_WARMUP = 2_000
BREAKDOWN_ITERATIONS = 5_000
CEL_ITERATIONS = 20_000
CELPY_ITERATIONS = 1_000
HTTP_CLIENTS = (1, 10, 50)
HTTP_SECONDS = 10.0
HTTP_WARMUP_SECONDS = 3.0

# The organisation the generated policies govern.
DEPARTMENTS = [
    # id, slug, risk appetite
    (1, "finance", 40),
    (2, "procurement", 45),
    (3, "support", 60),
    (4, "data", 50),
    (5, "legal", 30),
    (6, "it-ops", 55),
    (7, "hr", 35),
    (8, "marketing", 65),
    (9, "sales", 60),
    (10, "security", 25),
]
ACTION_FAMILIES = {
    "invoice": ["approve", "create", "dispute"],
    "payment": ["execute", "schedule", "cancel"],
    "expense": ["review", "reimburse"],
    "report": ["generate", "publish"],
    "purchase_order": ["create", "amend"],
    "vendor": ["onboard", "offboard"],
    "contract": ["review", "sign"],
    "ticket": ["reply", "escalate", "close"],
    "refund": ["issue"],
    "account": ["update", "close"],
    "data": ["export", "delete"],
    "dataset": ["share"],
    "document": ["redact", "publish"],
    "access": ["grant", "revoke"],
    "incident": ["triage", "resolve"],
    "deployment": ["approve", "rollback"],
    "payroll": ["run"],
    "employee": ["onboard", "offboard"],
    "campaign": ["launch"],
    "email": ["send"],
    "discount": ["grant"],
    "secret": ["rotate"],
}
ACTIONS = [f"{family}.{verb}" for family, verbs in ACTION_FAMILIES.items() for verb in verbs]
MONEY_FAMILIES = {"invoice", "payment", "expense", "purchase_order", "refund", "payroll", "discount", "contract"}
DATA_CLASSES = ["pii", "health", "financial", "credentials"]
AGENT_COUNT = 50
REQUEST_COUNT = 50
RISK_TIERS = [1, 2, 2, 3, 3, 4]
AGENT_BUDGETS = [Decimal("10000"), Decimal("50000"), Decimal("250000"), Decimal("1000000")]
# Stateful inputs, the same for every request: Regent reads them lazily, Cedar in the request context.
SPEND_THIS_MONTH = 12_000.0
DEPARTMENT_SPEND_THIS_MONTH = 250_000.0
ACTIONS_LAST_HOUR = 42
PROVIDERS = {
    "agent_spend_month": lambda: SPEND_THIS_MONTH,
    "department_spend_month": lambda: DEPARTMENT_SPEND_THIS_MONTH,
    "agent_actions_last_hour": lambda: ACTIONS_LAST_HOUR,
}
PRECEDENCE = engine.PRECEDENCE


def cents(value: float | Decimal) -> int:
    return round(Decimal(str(value)) * 100)


# ---------------------------------------------------------------------------------------------------------
# The workload: policies and requests, each written once and rendered for both engines.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """One test in a condition. Cedar has no evaluation errors to fail closed on, so a test of a
    request key that may be missing is written twice: `guard` counts a missing key as true (a deny,
    approval or flag whose condition fails is treated as fired) and `allow` counts it as false (a
    failing allow does not fire). For conditions built from atoms with && and || that is exactly
    Regent's rule applied to the whole condition."""

    cel: str
    guard: str
    allow: str = ""

    def cedar(self, effect: str) -> str:
        return self.allow if effect == Effect.ALLOW and self.allow else self.guard


def _optional_key(key: str, cel_test: str, cedar_test: str) -> Atom:
    return Atom(
        cel=cel_test,
        guard=f"(!(context.details has {key}) || {cedar_test})",
        allow=f"(context.details has {key} && {cedar_test})",
    )


def atom_amount(rng: random.Random) -> Atom:
    limit, op = rng.choice([100, 500, 1234, 2000, 5000, 10000, 25000]), rng.choice([">", ">="])
    return Atom(f"amount {op} {limit}.0", f"context.amount_cents {op} {limit * 100}")


def atom_data_class(rng: random.Random) -> Atom:
    data_class = rng.choice(DATA_CLASSES)
    return Atom(f'"{data_class}" in data_classes', f'context.data_classes.contains("{data_class}")')


def atom_sensitive_data(rng: random.Random) -> Atom:
    return Atom('data_classes.exists(c, c in ["pii", "health"])', 'context.data_classes.containsAny(["pii", "health"])')


def atom_region(rng: random.Random) -> Atom:
    region = rng.choice(["eu", "us"])
    return _optional_key("region", f'context.region != "{region}"', f'context.details.region != "{region}"')


def atom_environment(rng: random.Random) -> Atom:
    return _optional_key(
        "environment", 'context.environment == "production"', 'context.details.environment == "production"'
    )


def atom_risk_tier(rng: random.Random) -> Atom:
    tier = rng.choice([2, 3, 4])
    return Atom(f"agent.risk_tier >= {tier}", f"principal.risk_tier >= {tier}")


def atom_after_hours(rng: random.Random) -> Atom:
    return Atom("(now.getHours() < 7 || now.getHours() >= 19)", "(context.hour < 7 || context.hour >= 19)")


def atom_currency(rng: random.Random) -> Atom:
    return Atom('currency == "USD"', 'context.currency == "USD"')


def atom_production_resource(rng: random.Random) -> Atom:
    return Atom('resource.startsWith("prod/")', 'context.resource like "prod/*"')


def atom_risk_appetite(rng: random.Random) -> Atom:
    appetite = rng.choice([35, 45, 55])
    return Atom(f"department.risk_appetite < {appetite}", f"principal.department.risk_appetite < {appetite}")


def atom_budget_nearly_spent(rng: random.Random) -> Atom:
    return Atom(
        "agent_spend_month() + amount > agent.monthly_budget * 0.9",
        "(context.agent_spend_month_cents + context.amount_cents) * 10 > principal.monthly_budget_cents * 9",
    )


def atom_burst(rng: random.Random) -> Atom:
    limit = rng.choice([40, 600])
    return Atom(f"agent_actions_last_hour() >= {limit}", f"context.agent_actions_last_hour >= {limit}")


def atom_contract_value(rng: random.Random) -> Atom:
    value = rng.choice([20000, 50000])
    test = f"(context.details has contract_value && context.details.contract_value > {value})"
    return Atom(f"(has(context.contract_value) && context.contract_value > {value})", test)


def atom_sanctions(rng: random.Random) -> Atom:
    test = "(!(context.details has sanctions_checked) || !context.details.sanctions_checked)"
    return Atom("(!has(context.sanctions_checked) || !context.sanctions_checked)", test)


ATOMS = [
    (atom_amount, 25),
    (atom_data_class, 12),
    (atom_sensitive_data, 4),
    (atom_region, 10),
    (atom_environment, 4),
    (atom_risk_tier, 10),
    (atom_after_hours, 5),
    (atom_currency, 4),
    (atom_production_resource, 4),
    (atom_risk_appetite, 5),
    (atom_budget_nearly_spent, 4),
    (atom_burst, 3),
    (atom_contract_value, 5),
    (atom_sanctions, 3),
]
EFFECTS = [(Effect.DENY, 35), (Effect.REQUIRE_APPROVAL, 20), (Effect.FLAG, 25), (Effect.ALLOW, 20)]


def _weighted(rng: random.Random, choices: list[tuple]) -> object:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


@dataclass(frozen=True)
class BenchPolicy:
    """A generated policy: the fields of a `Policy` plus its scope and its Cedar twin."""

    fields: dict
    department_ids: list[int]
    atoms: list[Atom]
    joiner: str

    @property
    def effect(self) -> str:
        return self.fields["effect"]

    def snapshot(self) -> dict:
        departments = [Department(pk=pk) for pk in self.department_ids]
        return snapshot_of(Policy(**self.fields), departments=departments, agents=[], capabilities=[])

    def cedar(self) -> str:
        kind = "forbid" if self.effect == Effect.DENY else "permit"
        principal = f'principal in Department::"{self.department_ids[0]}"' if self.department_ids else "principal"
        actions = [a.strip() for a in self.fields["actions"].split(",") if a.strip()]
        names = [f'Action::"{a.removesuffix(".*")}"' for a in actions]
        if not actions:
            action = "action"
        elif len(names) == 1:
            action = f"action {'in' if actions[0].endswith('.*') else '=='} {names[0]}"
        else:
            action = f"action in [{', '.join(names)}]"
        text = f'@effect("{self.effect}")\n{kind} ({principal}, {action}, resource)'
        if self.atoms:
            text += " when { " + f" {self.joiner} ".join(a.cedar(self.effect) for a in self.atoms) + " }"
        return text + ";"


def generate_policies(count: int) -> list[BenchPolicy]:
    """Most policies are scoped to one action and one department; a few to an action (sometimes a
    family, `invoice.*`) or a department only; about 1% apply to everything."""
    rng = random.Random(SEED + count)
    unscoped, action_only, department_only = max(1, count // 100), count * 4 // 100, count * 3 // 100
    scopes = ["none"] * unscoped + ["action"] * action_only + ["department"] * department_only
    scopes += ["both"] * (count - len(scopes))
    rng.shuffle(scopes)
    policies = []
    for number, scope in enumerate(scopes, start=1):
        actions = ""
        if scope in ("action", "both"):
            action = rng.choice(ACTIONS)
            if scope == "action" and rng.random() < 0.5:
                actions = action.split(".")[0] + ".*"
            elif rng.random() < 0.2:
                actions = ", ".join(sorted({action, rng.choice(ACTIONS)}))
            else:
                actions = action
        department_ids = [rng.choice(DEPARTMENTS)[0]] if scope in ("department", "both") else []
        shape = rng.random()
        atom_count = 0 if shape < 0.02 else 1 if shape < 0.47 else 2 if shape < 0.92 else 3
        atoms = [_weighted(rng, ATOMS)(rng) for _ in range(atom_count)]
        joiner = "||" if atom_count == 2 and rng.random() < 0.12 else "&&"
        effect = _weighted(rng, EFFECTS)
        fields = {
            "name": f"Bench policy {number:04d} ({effect}, {scope})",
            "rationale": f"Generated policy {number} of {count}.",
            "actions": actions,
            "condition": f" {joiner} ".join(a.cel for a in atoms),
            "effect": effect,
            "approver_role": rng.choice(["Supervisor", "Executive"]) if effect == Effect.REQUIRE_APPROVAL else "",
            "approval_deadline_minutes": 240,
            "mode": "enforce",
            "priority": rng.randint(50, 500),
            "risk_weight": rng.randint(5, 30),
            "enabled": True,
        }
        policies.append(BenchPolicy(fields, department_ids, atoms, joiner))
    return policies


def out_of_scope_policies(count: int) -> list[BenchPolicy]:
    """Policies for actions no benchmark request asks for, across every department."""
    rng = random.Random(SEED - count)
    policies = []
    for number in range(1, count + 1):
        atom = _weighted(rng, ATOMS)(rng)
        fields = {
            "name": f"Out-of-scope policy {number:04d}",
            "rationale": "Never meets a benchmark request.",
            "actions": f"elsewhere{number % 97}.task{number % 13}",
            "condition": atom.cel,
            "effect": Effect.DENY,
            "approver_role": "",
            "approval_deadline_minutes": 240,
            "mode": "enforce",
            "priority": rng.randint(50, 500),
            "risk_weight": 10,
            "enabled": True,
        }
        policies.append(BenchPolicy(fields, [rng.choice(DEPARTMENTS)[0]], [atom], "&&"))
    return policies


@dataclass(frozen=True)
class BenchAgent:
    number: int
    department_id: int
    risk_tier: int
    monthly_budget: Decimal
    capabilities: list[str]


def generate_agents() -> list[BenchAgent]:
    rng = random.Random(SEED)
    agents = []
    for number in range(1, AGENT_COUNT + 1):
        families = rng.sample(sorted(ACTION_FAMILIES), 2)
        capabilities = sorted(f"{family}.{verb}" for family in families for verb in ACTION_FAMILIES[family])
        department_id = DEPARTMENTS[(number - 1) % len(DEPARTMENTS)][0]
        agents.append(
            BenchAgent(number, department_id, rng.choice(RISK_TIERS), rng.choice(AGENT_BUDGETS), capabilities)
        )
    return agents


@dataclass(frozen=True)
class Case:
    agent: BenchAgent
    request: ActionRequest
    now: dt.datetime


def generate_cases(agents: list[BenchAgent]) -> list[Case]:
    """Fifty requests across actions and departments, with and without money, data classes and context."""
    rng = random.Random(SEED + 1)
    cases = []
    for _ in range(REQUEST_COUNT):
        action = rng.choice(ACTIONS)
        family = action.split(".")[0]
        amount = None
        if family in MONEY_FAMILIES and rng.random() < 0.85:
            amount = Decimal(rng.choice(["49.99", "250", "800", "1234", "1500", "2500", "7200", "12000", "30000"]))
        context = {}
        if rng.random() < 0.5:
            context["region"] = rng.choice(["eu", "eu", "us", "apac"])
        if family == "deployment" or rng.random() < 0.1:
            context["environment"] = rng.choice(["production", "staging"])
        if family == "contract" or rng.random() < 0.1:
            context["contract_value"] = rng.choice([8000, 35000, 120000])
        if family == "vendor" or rng.random() < 0.1:
            context["sanctions_checked"] = rng.random() < 0.7
        prefix = "prod" if rng.random() < 0.2 else family
        request = ActionRequest(
            action=action,
            resource=f"{prefix}/{rng.randint(1, 99999)}",
            amount=amount,
            currency=(rng.choice(["EUR", "EUR", "USD"]) if amount is not None else ""),
            data_classes=rng.sample(DATA_CLASSES, rng.choice([0, 0, 1, 1, 2])),
            context=context,
        )
        now = dt.datetime(2026, 1, 5, rng.choice([3, 9, 11, 14, 16, 21]), rng.randint(0, 59), tzinfo=dt.UTC)
        cases.append(Case(rng.choice(agents), request, now))
    return cases


# ---------------------------------------------------------------------------------------------------------
# Both engines fed the same workload.
# ---------------------------------------------------------------------------------------------------------


def unsaved_agent(agent: BenchAgent) -> Agent:
    number, slug, appetite = DEPARTMENTS[agent.department_id - 1]
    department = Department(
        pk=number, name=slug.title(), slug=slug, monthly_budget=Decimal("10000000"), risk_appetite=appetite
    )
    provider = ModelProvider(name="Bench LLM", kind=ModelProvider.Kind.SIMULATED)
    return Agent(
        pk=agent.number,
        name=f"Agent {agent.number}",
        slug=f"agent-{agent.number}",
        department=department,
        provider=provider,
        model_name="sim",
        risk_tier=agent.risk_tier,
        monthly_budget=agent.monthly_budget,
    )


def regent_index(policies: list[BenchPolicy]) -> engine.PolicyIndex:
    versions = [
        PolicyVersion(pk=number, policy_id=number, number=1, snapshot=policy.snapshot())
        for number, policy in enumerate(policies, start=1)
    ]
    return engine.build_index(versions)


@dataclass(frozen=True)
class RegentCall:
    subject: engine.Subject
    request: engine.Request
    now: dt.datetime


def regent_calls(cases: list[Case]) -> list[RegentCall]:
    calls = []
    for case in cases:
        subject = subject_of(unsaved_agent(case.agent), frozenset(case.agent.capabilities))
        calls.append(RegentCall(subject, engine_request(case.request), case.now))
    return calls


def regent_verdict(index: engine.PolicyIndex, call: RegentCall) -> str:
    candidates = engine.candidates_for(index, call.subject, call.request, call.now)
    return engine.decide(candidates, call.subject, call.request, call.now, engine.Inputs(PROVIDERS)).verdict


def cedar_entities(agents: list[BenchAgent]) -> cedarpy.Entities:
    entities = [
        {
            "uid": {"type": "Department", "id": str(pk)},
            "attrs": {"slug": slug, "risk_appetite": appetite},
            "parents": [],
        }
        for pk, slug, appetite in DEPARTMENTS
    ]
    for agent in agents:
        department = {"type": "Department", "id": str(agent.department_id)}
        attrs = {
            "risk_tier": agent.risk_tier,
            "monthly_budget_cents": cents(agent.monthly_budget),
            "department": {"__entity": department},
            "capabilities": agent.capabilities,
        }
        entities.append({"uid": {"type": "Agent", "id": str(agent.number)}, "attrs": attrs, "parents": [department]})
    entities += [{"uid": {"type": "Action", "id": family}, "attrs": {}, "parents": []} for family in ACTION_FAMILIES]
    entities += [
        {
            "uid": {"type": "Action", "id": action},
            "attrs": {},
            "parents": [{"type": "Action", "id": action.split(".")[0]}],
        }
        for action in ACTIONS
    ]
    return cedarpy.Entities.from_json_str(json.dumps(entities))


@dataclass(frozen=True)
class CedarPolicies:
    """The policy set, pre-parsed, and the effect behind each policy id Cedar reports as a reason.

    Deny is `forbid`; allow, flag and require approval are `permit` with an @effect annotation, and one
    unconditional permit stands for the department default (allow). A Deny decision is Regent's deny;
    on Allow, the strongest effect among the satisfied permits is Regent's verdict.
    """

    policy_set: cedarpy.PolicySet
    effect_rank: dict[str, int]


EFFECT_BY_RANK = {rank: effect for effect, rank in PRECEDENCE.items()}


def cedar_policies(policies: list[BenchPolicy]) -> CedarPolicies:
    texts = ['@effect("default")\npermit (principal, action, resource);'] + [p.cedar() for p in policies]
    ranks = {"policy0": PRECEDENCE[Effect.ALLOW]}
    ranks.update({f"policy{number}": PRECEDENCE[p.effect] for number, p in enumerate(policies, start=1)})
    return CedarPolicies(cedarpy.PolicySet.from_str("\n".join(texts)), ranks)


def cedar_request(case: Case) -> dict:
    amount = case.request.amount or Decimal("0")
    return {
        "principal": f'Agent::"{case.agent.number}"',
        "action": f'Action::"{case.request.action}"',
        "resource": f'Resource::"{case.request.resource}"',
        "context": {
            "amount_cents": cents(amount),
            "currency": case.request.currency,
            "resource": case.request.resource,
            "data_classes": case.request.data_classes,
            "details": case.request.context,
            "hour": case.now.hour,
            "agent_spend_month_cents": cents(SPEND_THIS_MONTH),
            "agent_actions_last_hour": ACTIONS_LAST_HOUR,
        },
    }


def cedar_verdict(policies: CedarPolicies, entities: cedarpy.Entities, request: dict) -> str:
    result = cedarpy.is_authorized(request, policies.policy_set, entities)
    if result.diagnostics.errors:
        raise RuntimeError(f"Cedar reported errors: {result.diagnostics.errors}")
    if result.decision == cedarpy.Decision.Deny:
        return Effect.DENY
    return EFFECT_BY_RANK[max(policies.effect_rank[reason] for reason in result.diagnostics.reasons)]


@dataclass(frozen=True)
class Timings:
    p50_us: float
    p99_us: float
    per_second: float


def time_calls(call: Callable[[int], object], iterations: int, warmup: int) -> Timings:
    """Time each call on its own with perf_counter_ns, after a warm-up that is not recorded."""
    for i in range(warmup):
        call(i)
    clock = time.perf_counter_ns
    samples = [0] * iterations
    for i in range(iterations):
        started = clock()
        call(i)
        samples[i] = clock() - started
    return summarize(samples)


def summarize(samples_ns: list[int]) -> Timings:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return Timings(p50, p99, len(ordered) * 1e9 / sum(ordered))


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [headers] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    print("\n".join(lines))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def engine_section() -> None:
    print("\n## 1. In-process evaluation: Regent (candidates_for + decide) and cedarpy.is_authorized\n")
    agents = generate_agents()
    cases = generate_cases(agents)
    calls = regent_calls(cases)
    entities = cedar_entities(agents)
    requests = [cedar_request(c) for c in cases]
    rows, breakdown_rows, results = [], [], {}
    for count in POLICY_COUNTS:
        policies = generate_policies(count)
        index = regent_index(policies)
        cedar = cedar_policies(policies)
        regent = [regent_verdict(index, call) for call in calls]
        theirs = [cedar_verdict(cedar, entities, request) for request in requests]
        for case, ours, cedars in zip(cases, regent, theirs, strict=True):
            if ours != cedars:
                print(f"  disagreement at {count} policies: {case.request} -> Regent {ours}, Cedar {cedars}")
        deny_agree = sum((a == Effect.DENY) == (b == Effect.DENY) for a, b in zip(regent, theirs, strict=True))
        verdict_agree = sum(a == b for a, b in zip(regent, theirs, strict=True))
        candidates = [engine.candidates_for(index, c.subject, c.request, c.now) for c in calls]
        mean_candidates = statistics.mean(len(c) for c in candidates)

        n = len(calls)
        ours_t = time_calls(regent_caller(index, calls), ENGINE_ITERATIONS, ENGINE_WARMUP)
        theirs_t = time_calls(cedar_caller(cedar, entities, requests), ENGINE_ITERATIONS, ENGINE_WARMUP)
        results[count] = (ours_t, theirs_t)
        rows.append(
            [
                count,
                f"{mean_candidates:.1f}",
                ours_t.p50_us,
                ours_t.p99_us,
                ours_t.per_second,
                theirs_t.p50_us,
                theirs_t.p99_us,
                theirs_t.per_second,
                f"{ours_t.p50_us / theirs_t.p50_us:.2f}",
                f"{ours_t.p50_us / results[POLICY_COUNTS[0]][0].p50_us:.2f}",
                f"{deny_agree}/{n}",
                f"{verdict_agree}/{n}",
            ]
        )
        breakdown_rows.append(regent_breakdown(count, index, calls, candidates, ours_t))
        mix = ", ".join(f"{verdict} {times}" for verdict, times in sorted(Counter(map(str, regent)).items()))
        print(f"  {count} policies: Regent's verdicts on the {len(cases)} requests: {mix}")

    # The same 10 policies hidden among 990 that no request can meet (other actions): what the index is for.
    padded = generate_policies(POLICY_COUNTS[0]) + out_of_scope_policies(990)
    padded_index = regent_index(padded)
    padded_t = time_calls(regent_caller(padded_index, calls), ENGINE_ITERATIONS, ENGINE_WARMUP)
    padded_cedar = cedar_policies(padded)
    padded_theirs = time_calls(cedar_caller(padded_cedar, entities, requests), ENGINE_ITERATIONS, ENGINE_WARMUP)
    padded_candidates = statistics.mean(
        len(engine.candidates_for(padded_index, c.subject, c.request, c.now)) for c in calls
    )
    index_10 = regent_index(generate_policies(POLICY_COUNTS[0]))
    agree = sum(regent_verdict(padded_index, c) == regent_verdict(index_10, c) for c in calls)
    rows.append(
        [
            "10 + 990 out of scope",
            f"{padded_candidates:.1f}",
            padded_t.p50_us,
            padded_t.p99_us,
            padded_t.per_second,
            padded_theirs.p50_us,
            padded_theirs.p99_us,
            padded_theirs.per_second,
            f"{padded_t.p50_us / padded_theirs.p50_us:.2f}",
            f"{padded_t.p50_us / results[POLICY_COUNTS[0]][0].p50_us:.2f}",
            f"{agree}/{len(calls)} same as 10",
            "",
        ]
    )

    print()
    print_table(
        [
            "policies",
            "cand/req",
            "Regent p50 µs",
            "p99 µs",
            "dec/s",
            "cedar p50 µs",
            "p99 µs",
            "dec/s",
            "Regent/cedar p50",
            "Regent p50 ÷ p50@10",
            "deny agree",
            "verdict agree",
        ],
        rows,
    )
    print(
        f"\n({ENGINE_ITERATIONS:,} timed calls per cell after {ENGINE_WARMUP:,} warm-up calls, rotating "
        f"{len(cases)} requests; dec/s = calls ÷ summed call time, one thread.)"
    )
    print("\nGoals:")
    for count in POLICY_COUNTS[1:]:
        ours_t, theirs_t = results[count]
        ratio = ours_t.p50_us / theirs_t.p50_us
        print(f"  Regent p50 ≤ 0.5 × cedarpy p50 at {count:>5} policies: {_verdict(ratio <= 0.5)} ({ratio:.2f}×)")
    growth = results[POLICY_COUNTS[-1]][0].p50_us / results[POLICY_COUNTS[0]][0].p50_us
    print(
        f"  Regent p50 at 1,000 ≤ 1.5 × Regent p50 at 10:      {_verdict(growth <= 1.5)} ({growth:.2f}×)"
        "  [generated sets: more policies that DO apply]"
    )
    padded_growth = padded_t.p50_us / results[POLICY_COUNTS[0]][0].p50_us
    print(
        f"  Same 10 among 990 that cannot apply ≤ 1.5 × the 10:  {_verdict(padded_growth <= 1.5)} "
        f"({padded_growth:.2f}×)"
    )

    print("\nWhere Regent's time goes (p50 of each part timed on its own, µs):\n")
    print_table(
        [
            "policies",
            "cand/req",
            "candidates_for",
            "cel.Context + 3 functions",
            "conditions",
            "conditions per cand",
            "raised",
            "rest of decide",
            "total p50",
        ],
        breakdown_rows,
    )


def regent_caller(index: engine.PolicyIndex, calls: list[RegentCall]) -> Callable[[int], str]:
    return lambda i: regent_verdict(index, calls[i % len(calls)])


def cedar_caller(policies: CedarPolicies, entities: cedarpy.Entities, requests: list[dict]) -> Callable[[int], str]:
    return lambda i: cedar_verdict(policies, entities, requests[i % len(requests)])


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _values(call: RegentCall) -> dict:
    subject, request = call.subject, call.request
    return {
        "agent": subject.agent,
        "department": subject.department,
        "action": request.action,
        "resource": request.resource,
        "amount": float(request.amount),
        "currency": request.currency,
        "data_classes": list(request.data_classes),
        "context": request.context,
        "now": call.now,
    }


def _context(call: RegentCall) -> cel.Context:
    """The context decide() builds, rebuilt here to time it on its own."""
    context = cel.Context(_values(call))
    inputs = engine.Inputs(PROVIDERS)
    for name in engine.Inputs.NAMES:
        context.add_function(name, inputs.function(name))
    return context


def regent_breakdown(
    count: int, index: engine.PolicyIndex, calls: list[RegentCall], candidates: list[list], total: Timings
) -> list:
    """Time the parts of a decision one by one. Conditions run through the engine's own `_evaluate`, so
    a condition that raises costs what it costs inside `decide`."""
    n = len(calls)
    lookup = time_calls(
        lambda i: engine.candidates_for(index, calls[i % n].subject, calls[i % n].request, calls[i % n].now),
        BREAKDOWN_ITERATIONS,
        200,
    )
    build = time_calls(lambda i: _context(calls[i % n]), BREAKDOWN_ITERATIONS, 200)
    contexts = [_context(call) for call in calls]
    values = [_values(call) for call in calls]

    def conditions(i: int) -> None:
        context, data = contexts[i % n], RequestData(values[i % n])  # sized afresh per request, as in decide()
        for policy in candidates[i % n]:
            engine._evaluate(policy, context, data)

    run = time_calls(conditions, BREAKDOWN_ITERATIONS, 200)
    evaluations = sum(len(c) for c in candidates)
    raised = sum(1 for c, context in zip(candidates, contexts, strict=True) for p in c if _raises(p, context))
    per_candidate = sum(
        time_calls(_evaluation(p, context, call_values), 200, 20).p50_us
        for c, context, call_values in zip(candidates, contexts, values, strict=True)
        for p in c
    ) / max(1, evaluations)
    whole = time_calls(
        lambda i: engine.decide(
            candidates[i % n],
            calls[i % n].subject,
            calls[i % n].request,
            calls[i % n].now,
            engine.Inputs(PROVIDERS),
        ),
        BREAKDOWN_ITERATIONS,
        200,
    )
    rest = whole.p50_us - build.p50_us - run.p50_us
    return [
        count,
        f"{evaluations / n:.1f}",
        lookup.p50_us,
        build.p50_us,
        run.p50_us,
        per_candidate,
        f"{raised}/{evaluations}",
        rest,
        total.p50_us,
    ]


def _evaluation(policy: engine.CompiledPolicy, context: cel.Context, values: dict) -> Callable[[int], object]:
    return lambda _: engine._evaluate(policy, context, RequestData(values))


def _raises(policy: engine.CompiledPolicy, context: cel.Context) -> bool:
    try:
        policy.condition.evaluate(context)
    except Exception:  # any failure: the engine turns it into a verdict
        return True
    return False


# ---------------------------------------------------------------------------------------------------------
# CEL: common-expression-language (`cel`, what Regent uses) against cel-python (`celpy`).
# ---------------------------------------------------------------------------------------------------------

CEL_NOW = dt.datetime(2026, 1, 5, 22, 30, tzinfo=dt.UTC)  # a Monday
CEL_ACTIVATION = {
    "agent": {
        "slug": "invoice-bot",
        "name": "Invoice Bot",
        "risk_tier": 3,
        "monthly_budget": 50000.0,
        "department": "finance",
        "capabilities": ["invoice.approve", "payment.execute"],
        "provider": "Bench LLM",
        "provider_kind": "simulated",
        "model": "sim",
        "status": "active",
    },
    "department": {
        "slug": "finance",
        "name": "Finance",
        "monthly_budget": 3500000.0,
        "risk_appetite": 40,
        "status": "active",
    },
    "action": "invoice.approve",
    "resource": "invoice/4711",
    "amount": 2500.0,
    "currency": "USD",
    "data_classes": ["pii", "financial"],
    "now": CEL_NOW,
    "context": {"region": "us", "contract_value": 60000, "environment": "production"},
}

# Conditions as Policy Admins write them (the demo company's and the generator's).
CEL_CONDITIONS = [
    "amount >= 10000.0",
    "amount >= 2000.0 && amount < 10000.0",
    '"pii" in data_classes && (!has(context.region) || context.region != "eu")',
    "agent.risk_tier >= 4 && amount > 0.0",
    "agent_actions_last_hour() >= 600",
    "amount > 0.0 && agent_spend_month() + amount > agent.monthly_budget * 0.9",
    "now.getHours() < 7 || now.getHours() >= 19",
    'has(context.environment) && context.environment == "production"',
    '"health" in data_classes',
    "!has(context.sanctions_checked) || !context.sanctions_checked",
    "has(context.contract_value) && context.contract_value > 50000.0",
    'data_classes.exists(c, c in ["pii", "health"])',
    'resource.startsWith("invoice/") && currency != "EUR"',
    'resource.matches("^prod/[a-z-]+$")',
    'department.risk_appetite < 50 && agent.capabilities.exists(c, c.startsWith("payment."))',
    'context.region != "eu" && amount > 1234.0',
]

ERROR = "error"
# (expression, the value the CEL specification gives, what it checks)
CEL_CASES = [
    ("amount > 1000", True, "double > int literal"),
    ("agent.risk_tier >= 3.0", True, "int > double literal"),
    ("context.contract_value > 50000.0", True, "int from JSON > double literal"),
    ("1 == 1.0", True, "int == double"),
    ("3 / 2", 1, "int division"),
    ("-7 / 2", -3, "int division truncates toward zero"),
    ("-7 % 3", -1, "remainder takes the dividend's sign"),
    ("1 / 0", ERROR, "int division by zero"),
    ("5 % 0", ERROR, "modulus by zero"),
    ("1.0 / 0.0", float("inf"), "double division by zero is +Inf"),
    ("9223372036854775807 + 1", ERROR, "int overflow"),
    ("1u - 2u", ERROR, "uint underflow"),
    ('"pii" in data_classes', True, "in on a list"),
    ('"health" in data_classes', False, "in on a list, absent"),
    ('"region" in context', True, "in on a map (keys)"),
    ("has(context.region)", True, "has() on a present map key"),
    ("has(context.sanctions_checked)", False, "has() on a missing map key"),
    ('context.nope == "x"', ERROR, "missing map key"),
    ('false && context.nope == "x"', False, "&& absorbs an error"),
    ('context.nope == "x" || true', True, "|| absorbs an error"),
    ("[1, 2][5]", ERROR, "list index out of range"),
    ("!has(context.sanctions_checked) || !context.sanctions_checked", True, "|| after a has() guard"),
    ('data_classes.exists(c, c == "health")', False, "exists macro"),
    ("data_classes.all(c, size(c) > 2)", True, "all macro"),
    ("[1, 2, 3].exists_one(x, x > 2)", True, "exists_one macro"),
    ("[1, 2, 3].map(x, x * 2)", [2, 4, 6], "map macro"),
    ("[1, 2, 3].filter(x, x > 1)", [2, 3], "filter macro"),
    ('resource.startsWith("invoice/")', True, "startsWith"),
    ('resource.matches("^invoice/[0-9]+$")', True, "matches (RE2)"),
    ('size("héllo")', 5, "size counts code points"),
    ("now.getHours()", 22, "timestamp hours, UTC"),
    ('now.getHours("Europe/Paris")', 23, "timestamp hours in a time zone"),
    ("now.getDayOfWeek()", 1, "day of week (Sunday = 0)"),
    ('now - timestamp("2026-01-05T00:00:00Z") > duration("12h")', True, "timestamp arithmetic"),
    ("agent_spend_month() + amount > agent.monthly_budget * 0.25", True, "a host function"),
    ('int("42") + 1', 43, "int() from string"),
    ("string(1.5)", "1.5", "string() of a double"),
    ("type(amount) == double", True, "type()"),
    ("null == null", True, "null"),
]


def _celpy_value(value):
    if isinstance(value, celpy.CELEvalError):
        return ERROR
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [_celpy_value(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {_celpy_value(k): _celpy_value(v) for k, v in value.items()}
    return value


def celpy_activation(variables: dict) -> dict:
    activation = {name: celpy.json_to_cel(value) for name, value in variables.items() if name != "now"}
    activation["now"] = celtypes.TimestampType(variables["now"])
    return activation


CELPY_FUNCTIONS = {
    "agent_spend_month": lambda: celtypes.DoubleType(SPEND_THIS_MONTH),
    "department_spend_month": lambda: celtypes.DoubleType(DEPARTMENT_SPEND_THIS_MONTH),
    "agent_actions_last_hour": lambda: celtypes.IntType(ACTIONS_LAST_HOUR),
}


def cel_context() -> cel.Context:
    context = cel.Context(CEL_ACTIVATION)
    for name, provider in PROVIDERS.items():
        context.add_function(name, provider)
    return context


def outcome(run: Callable[[], object], convert: Callable = lambda v: v):
    try:
        return convert(run())
    except Exception as exc:  # any failure is the library's answer
        return (ERROR, type(exc).__name__)


def shown(value) -> str:
    if value == ERROR:
        return ERROR
    if isinstance(value, tuple) and value and value[0] == ERROR:
        return f"error ({value[1]})" if value[1] != "CELEvalError" else "error"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def matches(expected, got) -> bool:
    if expected == ERROR:
        return got == ERROR or (isinstance(got, tuple) and got[:1] == (ERROR,))
    return type(got) is type(expected) and got == expected


def compile_celpy(sources: list[str], runner: type) -> dict:
    """Each source compiled for one cel-python runner, or the error compiling it gave.

    cel-python keeps one parser per process, built for the runner of the first Environment; it must
    be discarded before an Environment with the other runner can parse (its documented workaround)."""
    celpy.CELParser.CEL_PARSER = None
    environment = celpy.Environment(runner_class=runner)
    programs = {}
    for source in sources:
        try:
            programs[source] = environment.program(environment.compile(source), functions=CELPY_FUNCTIONS)
        except Exception as exc:  # a library that cannot compile it
            programs[source] = (ERROR, type(exc).__name__)
    return programs


def per_call_us(run: Callable[[], object], iterations: int) -> float:
    for _ in range(min(200, iterations)):
        outcome(run)
    started = time.perf_counter_ns()
    for _ in range(iterations):
        outcome(run)
    return (time.perf_counter_ns() - started) / iterations / 1000


def cel_section() -> None:
    print("\n## 2. CEL libraries: common-expression-language (`cel`) and cel-python (`celpy`)\n")
    logging.getLogger("celpy").setLevel(logging.CRITICAL)  # it logs transpiled code and internal errors
    context = cel_context()
    activation = celpy_activation(CEL_ACTIVATION)
    sources = CEL_CONDITIONS + [source for source, _, _ in CEL_CASES]
    runners = {
        "interpreted": compile_celpy(sources, celpy.InterpretedRunner),
        "compiled": compile_celpy(sources, celpy.CompiledRunner),
    }
    rows, ratios = [], []
    for source in CEL_CONDITIONS:
        program = cel.compile(source)
        ours = outcome(lambda program=program: program.execute(context))
        row = [source, shown(ours), per_call_us(lambda program=program: program.execute(context), CEL_ITERATIONS)]
        for programs in runners.values():
            theirs = programs[source]
            if isinstance(theirs, tuple):
                row += [f"compile {shown(theirs)}", "n/a"]
                continue
            result = outcome(lambda theirs=theirs: theirs.evaluate(activation), _celpy_value)
            row += [shown(result), per_call_us(lambda theirs=theirs: theirs.evaluate(activation), CELPY_ITERATIONS)]
        rows.append(row)
        if isinstance(row[4], float):
            ratios.append(row[4] / row[2])
    build_cel = per_call_us(cel_context, 5_000)
    build_celpy = per_call_us(lambda: celpy_activation(CEL_ACTIVATION), 2_000)
    rows.append(["(build the activation: cel.Context / json_to_cel)", "", build_cel, "", build_celpy, "", ""])
    print_table(
        ["condition", "cel result", "cel µs", "celpy result", "celpy µs", "celpy compiled result", "compiled µs"],
        rows,
    )
    print(
        f"\n(compile once, evaluate many: {CEL_ITERATIONS:,} calls for cel, {CELPY_ITERATIONS:,} for celpy; "
        f"celpy interpreted ÷ cel per call: median {statistics.median(ratios):.0f}×, "
        f"range {min(ratios):.0f}–{max(ratios):.0f}×)"
    )

    print("\nCorrectness against the CEL specification (same activation):\n")
    mismatches, rows = [], []
    for source, expected, what in CEL_CASES:
        got = {"cel": outcome(lambda source=source: cel.compile(source).execute(context))}
        for name, programs in runners.items():
            theirs = programs[source]
            got[f"celpy {name}"] = (
                theirs
                if isinstance(theirs, tuple)
                else outcome(lambda theirs=theirs: theirs.evaluate(activation), _celpy_value)
            )
        marks = {name: ("ok" if matches(expected, value) else "WRONG") for name, value in got.items()}
        rows.append([what, source, shown(expected)] + [f"{shown(v)} {marks[k]}" for k, v in got.items()])
        mismatches += [
            f"  {name}: {what}: {source} gave {shown(v)}, expected {shown(expected)}"
            for name, v in got.items()
            if marks[name] != "ok"
        ]
    print_table(["checks", "expression", "expected", "cel", "celpy interpreted", "celpy compiled"], rows)
    totals = Counter(m.split(":")[0].strip() for m in mismatches)
    print(f"\nMismatches ({len(CEL_CASES)} checks; " + ", ".join(f"{k}: {v}" for k, v in totals.items()) + "):")
    print("\n".join(mismatches) or "  none")


# ---------------------------------------------------------------------------------------------------------
# The full HTTP path: uvicorn, Django, PostgreSQL; a raw INSERT + COMMIT as the baseline.
# ---------------------------------------------------------------------------------------------------------


def create_database() -> None:
    databases.recreate(BENCH_DATABASE)
    with psycopg.connect(BENCH_DATABASE_URL, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_raw (id bigserial PRIMARY KEY, agent_id integer NOT NULL, payload jsonb NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )


def drop_database() -> None:
    connections.close_all()
    databases.drop(BENCH_DATABASE)


def seed(agents: list[BenchAgent], policies: list[BenchPolicy]) -> dict[int, str]:
    """The generated organisation in the database; returns each agent's API key. Budgets are large
    so that no request is refused for budget: every decision does the same work."""
    departments = {
        pk: Department.objects.create(
            name=slug.title(), slug=slug, monthly_budget=Decimal("900000000000"), risk_appetite=appetite
        )
        for pk, slug, appetite in DEPARTMENTS
    }
    capabilities = {code: Capability.objects.create(code=code) for code in ACTIONS}
    provider = ModelProvider.objects.create(name="Bench LLM", kind=ModelProvider.Kind.SIMULATED)
    keys = {}
    for agent in agents:
        row = Agent.objects.create(
            name=f"Agent {agent.number}",
            slug=f"agent-{agent.number}",
            department=departments[agent.department_id],
            provider=provider,
            model_name="sim",
            risk_tier=agent.risk_tier,
            monthly_budget=Decimal("9000000000"),
        )
        row.capabilities.set([capabilities[code] for code in agent.capabilities])
        keys[agent.number] = issue_key(row)
    for spec in policies:
        policy = Policy.objects.create(**spec.fields)
        policy.departments.set([departments[pk] for pk in spec.department_ids])
        record_policy_version(policy)
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log, conn_max_age: int = 0) -> subprocess.Popen:
    """Production settings, except that plain HTTP is served (no HTTPS redirect).

    Persistent connections stay off: under ASGI every request runs in a thread of its own, so with
    DB_CONN_MAX_AGE > 0 each request leaves a connection open and PostgreSQL soon refuses new ones
    (see README)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEBUG")}
    environment.update(
        DATABASE_URL=BENCH_DATABASE_URL,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        DB_CONN_MAX_AGE=str(conn_max_age),
        LOG_LEVEL="WARNING",
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        f"--port={port}",
        "--workers",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(200):
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start (exit code {process.poll()}); see {log.name}")
        time.sleep(0.2)


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Run:
    operations: int
    errors: int
    seconds: float
    timings: Timings
    outcomes: Counter


def run_clients(clients: int, seconds: float, make_client: Callable[[int], Callable[[int], str]]) -> Run:
    """Each thread opens its own connection; when all are ready, each repeats its operation until the deadline."""
    ready, go = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
    samples: list[list[int]] = [[] for _ in range(clients)]
    outcomes: list[Counter] = [Counter() for _ in range(clients)]
    failures: list[BaseException] = []
    window = {}

    def work(number: int) -> None:
        try:
            operation = make_client(number)
        except Exception as exc:  # the run cannot be fair without every client: stop it
            failures.append(exc)
            ready.abort()
            return
        clock = time.perf_counter_ns
        ready.wait()
        go.wait()
        deadline = window["deadline"]
        mine, counts, i = samples[number], outcomes[number], 0
        while clock() < deadline:
            started = clock()
            counts[operation(i)] += 1
            mine.append(clock() - started)
            i += 1

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=60)
    except threading.BrokenBarrierError:
        go.abort()
        raise RuntimeError(f"a client could not start: {failures[:1]}") from None
    window["deadline"] = time.perf_counter_ns() + int(seconds * 1e9)
    started = time.perf_counter()
    go.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    everything = [s for mine in samples for s in mine]
    total = sum(outcomes, Counter())
    errors = sum(v for k, v in total.items() if k.startswith(FAILED))
    return Run(len(everything), errors, elapsed, summarize(everything or [1]), total)


FAILED = "failed"


def regent_client(port: int, keys: dict[int, str], cases: list[Case], clients: int) -> Callable:
    """Client n sends as agents n, n + clients, n + 2·clients… in turn, so no two clients share an agent
    (and its budget lock); the requests rotate through the workload from a different start each."""

    def make(number: int) -> Callable[[int], str]:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        own = [a for a in range(1, AGENT_COUNT + 1) if (a - 1) % clients == number]
        headers = {
            agent: {"Authorization": f"Bearer {keys[agent]}", "Content-Type": "application/json"} for agent in own
        }
        bodies = [json.dumps(http_body(c.request)) for c in cases]

        def operation(i: int) -> str:
            agent = own[i % len(own)]
            try:
                connection.request(
                    "POST", "/api/v1/decisions/evaluate", bodies[(number * 7 + i) % len(bodies)], headers[agent]
                )
                response = connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, OSError) as exc:
                connection.close()  # the next request reconnects
                return f"{FAILED}: {type(exc).__name__}"
            if response.status != 200:
                return f"{FAILED}: HTTP {response.status}"
            return json.loads(body)["verdict"]

        return operation

    return make


def http_body(request: ActionRequest) -> dict:
    body = {
        "action": request.action,
        "resource": request.resource,
        "data_classes": request.data_classes,
        "context": request.context,
    }
    if request.amount is not None:
        body.update(amount=str(request.amount), currency=request.currency)
    return body


def raw_insert_client(cases: list[Case]) -> Callable:
    def make(number: int) -> Callable[[int], str]:
        connection = psycopg.connect(BENCH_DATABASE_URL)
        payloads = [Jsonb(http_body(c.request)) for c in cases]

        def operation(i: int) -> str:
            connection.execute(
                "INSERT INTO bench_raw (agent_id, payload) VALUES (%s, %s)", (number, payloads[i % len(payloads)])
            )
            connection.commit()
            return "inserted"

        return operation

    return make


def http_section() -> None:
    print("\n## 3. Full HTTP path: POST /api/v1/decisions/evaluate on uvicorn (2 workers) and PostgreSQL\n")
    agents = generate_agents()
    cases = generate_cases(agents)
    policies = generate_policies(100)
    server, finished = None, False
    log = tempfile.NamedTemporaryFile(prefix="regent-bench-uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        started = time.perf_counter()
        create_database()
        keys = seed(agents, policies)
        print(
            f"  database {BENCH_DATABASE} migrated and seeded in {time.perf_counter() - started:.1f} s: "
            f"{len(DEPARTMENTS)} departments, {len(agents)} agents with keys, {len(policies)} policies"
        )
        port = free_port()
        server = start_server(port, log)
        run_clients(4, HTTP_WARMUP_SECONDS, regent_client(port, keys, cases, 4))
        server_processes = [server.pid, *_children(server.pid)]
        rows = []
        for clients in HTTP_CLIENTS:
            before = _cpu_snapshot(server_processes)
            ours = run_clients(clients, HTTP_SECONDS, regent_client(port, keys, cases, clients))
            server_cpu, busy = _cpu_since(before, server_processes)
            before = _cpu_snapshot([])
            raw = run_clients(clients, HTTP_SECONDS, raw_insert_client(cases))
            _, raw_busy = _cpu_since(before, [])
            ours_rate, raw_rate = ours.operations / ours.seconds, raw.operations / raw.seconds
            rows.append(
                [
                    clients,
                    ours_rate,
                    ours.timings.p50_us / 1000,
                    ours.timings.p99_us / 1000,
                    ours.errors,
                    server_cpu * 1000 / max(1, ours.operations),
                    f"{busy:.0%}",
                    raw_rate,
                    raw.timings.p50_us / 1000,
                    raw.timings.p99_us / 1000,
                    f"{raw_busy:.0%}",
                    f"{ours_rate / raw_rate:.3f}",
                ]
            )
            verdicts = ", ".join(f"{k} {v}" for k, v in sorted(ours.outcomes.items()))
            print(f"  {clients} clients: {ours.operations:,} decisions in {ours.seconds:.1f} s ({verdicts})")
        with psycopg.connect(BENCH_DATABASE_URL) as connection:
            stored = connection.execute("SELECT count(*) FROM governance_decision").fetchone()[0]
        print(f"  decisions stored: {stored:,}\n")
        print_table(
            [
                "clients",
                "Regent dec/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "server CPU ms/dec",
                "machine busy",
                "raw INSERT/s",
                "p50 ms",
                "p99 ms",
                "machine busy",
                "Regent ÷ raw",
            ],
            rows,
        )
        print(
            f"\n({HTTP_SECONDS:.0f} s per cell after a {HTTP_WARMUP_SECONDS:.0f} s warm-up; one keep-alive connection "
            "per client thread; raw = single-row INSERT + COMMIT into a 4-column table, one psycopg connection "
            "per thread. Server, PostgreSQL and clients share the same 2 cores. Server CPU: the uvicorn processes' "
            "user + system time per decision; machine busy: all cores, from /proc/stat, during the cell.)"
        )
        finished = True
    finally:
        if server is not None:
            stop_server(server)
        log.close()
        if finished:
            os.unlink(log.name)
        drop_database()


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _proc_stat(int(entry.name))[1] == str(pid):
                    children.append(int(entry.name))
            except OSError:
                continue  # it ended meanwhile
    return children


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name: state, parent, …, utime at 11, stime at 12."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_snapshot(pids: list[int]) -> tuple[float, list[int]]:
    ticks = os.sysconf("SC_CLK_TCK")
    processes = sum(int(_proc_stat(pid)[11]) + int(_proc_stat(pid)[12]) for pid in pids) / ticks
    return processes, [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def _cpu_since(before: tuple[float, list[int]], pids: list[int]) -> tuple[float, float]:
    """CPU seconds the processes used, and the share of the machine's cores that was busy, since `before`."""
    processes, machine = _cpu_snapshot(pids)
    spent = [now - then for now, then in zip(machine, before[1], strict=True)]
    idle = spent[3] + spent[4]  # idle and iowait
    return processes - before[0], 1 - idle / max(1, sum(spent))


SECTIONS = {"engine": engine_section, "cel": cel_section, "http": http_section}


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)}; default: all, in this order")
    chosen = parser.parse_args().sections or list(SECTIONS)
    if unknown := [name for name in chosen if name not in SECTIONS]:
        parser.error(f"unknown section {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    print(
        f"Policy evaluation benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, cedarpy {_version('cedarpy')}, "
        f"common-expression-language {_version('common-expression-language')}, "
        f"cel-python {_version('cel-python')}; load average {_load()}"
    )
    started = time.perf_counter()
    for name in chosen:
        SECTIONS[name]()
    print(f"\nTotal {time.perf_counter() - started:.0f} s; load average now {_load()}")


def _load() -> str:
    """Other work on the machine skews every number here: say how busy it was."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    main()
