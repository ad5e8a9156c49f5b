"""Synthetic decision history at COPY speed, for benchmarks and for seeing the pages at scale.

Decisions stream through PostgreSQL COPY; outcomes and approvals follow set-based from them; the
rollups are built with one grouped pass (the same change SQL the triggers use), with the row
triggers switched off for this transaction only. Synthetic rows are not linked into the audit chain.
"""

import datetime as dt
import json
import random
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dashboard.rollups import (
    BULK_LOAD_SETTING,
    add_to_buckets,
    approval_changes,
    decision_changes,
    outcome_changes,
    policy_changes,
)
from governance.models import Policy
from orchestration.models import Agent

DECISION_COLUMNS = (
    "agent_id",
    "department_id",
    "action",
    "resource",
    "amount",
    "currency",
    "data_classes",
    "context",
    "verdict",
    "risk_score",
    "explanation",
    "shadow_verdict",
    "matched_policies",
    "policy_versions",
    "inputs",
    "latency_us",
    "created_at",
    "idempotency_key",
)
ACTIONS = ("invoice.approve", "refund.issue", "ticket.reply", "data.export", "deploy.release", "contract.sign")
VERDICT_WEIGHTS = {1: (86, 2, 8, 4), 2: (80, 4, 11, 5), 3: (70, 8, 15, 7), 4: (58, 14, 20, 8)}  # by agent risk tier
VERDICTS = ("allow", "deny", "require_approval", "flag")
SHAPES = 4096  # distinct (verdict, risk, policies, amount) rows the generator draws from
CHUNK = 50_000


class HistoryError(Exception):
    """The history cannot be loaded as asked; the message says what to do."""


@dataclass(frozen=True)
class LoadReport:
    resource: str  # every decision of this load has it as its resource
    decisions: int
    outcomes: int
    approvals: int
    copy_seconds: float
    follow_up_seconds: float
    rollup_seconds: float

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.follow_up_seconds + self.rollup_seconds


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _shapes(rng: random.Random, tier: int, policies: list[dict], resource: str) -> list[str]:
    """Pre-rendered COPY fields from `action` to `latency_us` for one risk tier."""
    shapes = []
    for _ in range(SHAPES):
        verdict = rng.choices(VERDICTS, VERDICT_WEIGHTS[tier])[0]
        risk = min(100, max(0, int(rng.gauss(18 + 12 * tier + (25 if verdict == "deny" else 0), 12))))
        hits = rng.sample(policies, k=min(len(policies), rng.choice((0, 0, 1, 1, 2)))) if verdict != "allow" else []
        shadow = "deny" if rng.random() < 0.03 else ""
        if rng.random() < 0.04 and policies:
            hits = [*hits, {**rng.choice(policies), "mode": "shadow"}]
        amount = f"{rng.uniform(5, 5000):.2f}" if rng.random() < 0.6 else "\\N"
        fields = (
            rng.choice(ACTIONS),
            resource,
            amount,
            settings.ORG_CURRENCY if amount != "\\N" else "",
            "[]",
            "{}",
            verdict,
            str(risk),
            "synthetic history",
            shadow,
            _copy_text(json.dumps(hits)),
            "[]",
            "{}",
            str(rng.randint(80, 900)),
        )
        shapes.append("\t".join(fields))
    return shapes


def load_history(count: int, *, days: int = 90, seed: int = 1, now: dt.datetime | None = None) -> LoadReport:
    """Add `count` synthetic decisions spread over the last `days` days, with outcomes, approvals and rollups."""
    if connection.vendor != "postgresql":
        raise HistoryError("Synthetic history loads with PostgreSQL COPY: set DATABASE_URL to a PostgreSQL database.")
    if count < 1 or days < 1:
        raise HistoryError("Give a positive number of decisions and days.")
    agents = list(Agent.objects.values_list("pk", "department_id", "risk_tier"))
    if not agents:
        raise HistoryError("There are no agents to attribute decisions to: run `manage.py demo --seed-only` first.")
    rng = random.Random(seed)
    policies = [
        {"id": pk, "name": name, "effect": effect, "mode": "enforce"}
        for pk, name, effect in Policy.objects.values_list("pk", "name", "effect")
    ]
    # Marks this load's rows, so the set-based steps take exactly them (never a concurrent live decision).
    resource = f"synthetic/{secrets.token_hex(6)}"
    shapes = {tier: _shapes(rng, tier, policies, resource) for tier in VERDICT_WEIGHTS}
    prefixes = [f"{pk}\t{department}\t" for pk, department, _ in agents]
    tiers = [tier for _, _, tier in agents]
    end = (now or timezone.now()).timestamp()
    span = days * 86400
    slot = span / count
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {BULK_LOAD_SETTING} = 'on'")
        cursor.execute("SELECT coalesce(max(id), 0) FROM governance_decision")
        after = cursor.fetchone()[0]
        started = time.perf_counter()
        sql = f"COPY governance_decision ({', '.join(DECISION_COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for offset in range(0, count, CHUNK):
                size = min(CHUNK, count - offset)
                picks = rng.choices(range(len(agents)), k=size)
                lines = []
                for number, agent in enumerate(picks, start=offset):
                    # Oldest first at a steady pace, each at a random moment of its own slot: stored in time
                    # order, as live decisions are, so a walk of (created_at, id) reads neighbouring pages.
                    at = dt.datetime.fromtimestamp(end - span + (number + rng.random()) * slot, dt.UTC)
                    lines.append(f"{prefixes[agent]}{rng.choice(shapes[tiers[agent]])}\t{at.isoformat()}\t\n")
                copy.write("".join(lines))
        copied = time.perf_counter()
        mine = f"d.id > {int(after)} AND d.resource = '{resource}'"
        outcomes, approvals = _follow_up(cursor, mine)
        # Statistics that count this transaction's rows: without them the planner expects empty tables.
        cursor.execute("ANALYZE governance_decision, governance_outcome, governance_approval")
        followed = time.perf_counter()
        add_to_buckets(
            " UNION ALL ".join(
                (
                    decision_changes(mine),
                    policy_changes(mine),
                    outcome_changes(f"o.decision_id > {int(after)} AND {mine}"),
                    approval_changes(f"p.decision_id > {int(after)} AND {mine}"),
                )
            )
        )
        done = time.perf_counter()
    return LoadReport(resource, count, outcomes, approvals, copied - started, followed - copied, done - followed)


def _follow_up(cursor, mine: str) -> tuple[int, int]:
    """Outcomes for most executed actions and a person's answer for every held one, set-based."""
    cursor.execute(
        "INSERT INTO governance_outcome (decision_id, result, cost, value, csat, reported_at) "
        "SELECT d.id, CASE WHEN random() < 0.93 THEN 'success' ELSE 'failure' END, "
        "round(CAST(random() * 3 AS numeric), 2), round(CAST(random() * 60 AS numeric), 2), "
        "CASE WHEN random() < 0.6 THEN 1 + CAST(floor(random() * 5) AS integer) END, "  # not every customer answers
        "d.created_at + interval '10 minutes' "
        f"FROM governance_decision d WHERE {mine} AND d.verdict IN ('allow', 'flag') AND random() < 0.3"
    )
    outcomes = cursor.rowcount
    cursor.execute(
        "INSERT INTO governance_approval (decision_id, department_id, approver_role, status, requested_at, "
        "deadline, escalation_level, decided_at, comment) "
        "SELECT d.id, d.department_id, 'supervisor', CASE WHEN random() < 0.85 THEN 'approved' ELSE 'rejected' END, "
        "d.created_at, d.created_at + interval '4 hours', 0, d.created_at + random() * interval '3 hours', '' "
        f"FROM governance_decision d WHERE {mine} AND d.verdict = 'require_approval'"
    )
    return outcomes, cursor.rowcount
