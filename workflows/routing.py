"""Routing: the best active agent for a step, by the organisation's priorities and measured data.

Every candidate gets four scores from 0 to 1 and a total weighted by the active Strategy:
- cost: cheaper average cost per task (from reported outcomes; the provider's unit cost until then)
- risk: lower risk tier and fewer denials and failures
- csat: higher average customer satisfaction (neutral 0.5 until rated)
- resilience: higher success rate, smoothed so one early success or failure does not dominate
"""

import datetime as dt
import time
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Avg, Count, Q
from django.utils import timezone

from orchestration.models import Agent, Department, Status
from workflows.models import Strategy

MEASURE_DAYS = 30
ACTIVE_CHECK = 5
DEFAULT_WEIGHTS = {"cost": 0.25, "risk": 0.25, "csat": 0.25, "resilience": 0.25}


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    slug: str
    department_id: int
    scores: dict[str, float]
    measures: dict[str, float | None]
    total: float

    def as_dict(self) -> dict:
        return {
            "agent_id": self.agent_id,
            "agent": self.slug,
            "total": round(self.total, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "measures": self.measures,
        }


def active_weights() -> dict[str, float]:
    strategy = Strategy.objects.filter(is_active=True).first()
    return strategy.weights() if strategy else DEFAULT_WEIGHTS


def rank_candidates(capability_id: int, *, exclude: list[int] = (), now: dt.datetime | None = None) -> list[Candidate]:
    """Every active agent of an active department holding the capability, best first."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=MEASURE_DAYS)
    agents = list(
        Agent.objects.filter(capabilities=capability_id, status=Status.ACTIVE, department__status=Status.ACTIVE)
        .exclude(pk__in=list(exclude))
        .select_related("provider")
        .annotate(
            outcomes=Count("decisions__outcome", filter=Q(decisions__created_at__gte=since)),
            successes=Count(
                "decisions__outcome",
                filter=Q(decisions__created_at__gte=since, decisions__outcome__result="success"),
            ),
            avg_cost=Avg("decisions__outcome__cost", filter=Q(decisions__created_at__gte=since)),
            avg_csat=Avg("decisions__outcome__csat", filter=Q(decisions__created_at__gte=since)),
            decided=Count("decisions", filter=Q(decisions__created_at__gte=since)),
            denied=Count("decisions", filter=Q(decisions__created_at__gte=since, decisions__verdict="deny")),
        )
    )
    if not agents:
        return []
    weights = active_weights()
    costs = {a.pk: float(a.avg_cost if a.avg_cost is not None else a.provider.cost_per_unit) for a in agents}
    low, high = min(costs.values()), max(costs.values())
    ranked = []
    for agent in agents:
        deny_rate = agent.denied / agent.decided if agent.decided else 0.0
        failure_rate = 1 - agent.successes / agent.outcomes if agent.outcomes else 0.0
        scores = {
            "cost": 1.0 if high == low else 1 - (costs[agent.pk] - low) / (high - low),
            "risk": max(0.0, 1 - 0.6 * (agent.risk_tier - 1) / 3 - 0.4 * min(1.0, 2 * (deny_rate + failure_rate))),
            "csat": (float(agent.avg_csat) - 1) / 4 if agent.avg_csat is not None else 0.5,
            "resilience": (agent.successes + 1) / (agent.outcomes + 2),
        }
        measures = {
            "cost_per_task": round(costs[agent.pk], 4),
            "risk_tier": agent.risk_tier,
            "deny_rate": round(deny_rate, 4),
            "failure_rate": round(failure_rate, 4),
            "csat": round(float(agent.avg_csat), 2) if agent.avg_csat is not None else None,
            "outcomes": agent.outcomes,
        }
        total = sum(weights[axis] * scores[axis] for axis in weights)
        ranked.append(Candidate(agent.pk, agent.slug, agent.department_id, scores, measures, total))
    ranked.sort(key=lambda c: (-c.total, c.slug))
    return ranked


RANKING_TTL_SECONDS = 10
_rankings: dict[tuple[int, int | None], tuple[float, list[Candidate]]] = {}


def route(capability_id: int, *, exclude: list[int] = ()) -> list[Candidate]:
    """The ranking for the next step, best first, with every candidate confirmed active now.

    Scores come from measured history, so a ranking is reused for RANKING_TTL_SECONDS per capability
    and strategy: a step costs one lookup and one status check however many agents could do it. A
    strategy change takes effect at the next step; a pause or kill at once (the status check).
    """
    strategy_id = _active_strategy_id()
    key = (capability_id, strategy_id)
    now = time.monotonic()
    cached = _rankings.get(key)
    if cached is None or cached[0] < now:
        cached = _rankings[key] = (now + RANKING_TTL_SECONDS, rank_candidates(capability_id))
    excluded = set(exclude)
    ranked = [c for c in cached[1] if c.agent_id not in excluded] if excluded else cached[1]
    active = _still_active([c.agent_id for c in ranked[:ACTIVE_CHECK]], capability_id)
    if ranked and not active:
        _rankings.pop(key, None)  # the head of the cached ranking went away: rank afresh
        return rank_candidates(capability_id, exclude=exclude)
    return [c for c in ranked if c.agent_id in active] + ranked[ACTIVE_CHECK:]


def forget_rankings(**_signal) -> None:
    _rankings.clear()


# The two lookups every step makes, in plain SQL: through the ORM, compiling them cost more CPU than the
# database took to answer (about 0.7 ms a step on this class of machine). Names come from model metadata.


def _active_strategy_id() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_strategy_sql(connection.vendor), [True])
        row = cursor.fetchone()
    return row[0] if row else None


def _still_active(agent_ids: list[int], capability_id: int) -> set[int]:
    """Which of the agents are active, in an active department, and still hold the capability."""
    if not agent_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            _still_active_sql(connection.vendor, len(agent_ids)),
            [*agent_ids, Status.ACTIVE, Status.ACTIVE, capability_id],
        )
        return {pk for (pk,) in cursor.fetchall()}


@cache
def _strategy_sql(vendor: str) -> str:
    quote, meta = connection.ops.quote_name, Strategy._meta
    return (
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.get_field('is_active').column)} = %s "
        f"ORDER BY {quote(meta.get_field('created_at').column)} DESC LIMIT 1"
    )


@cache
def _still_active_sql(vendor: str, count: int) -> str:
    quote = connection.ops.quote_name
    agent, department = Agent._meta, Department._meta
    held = Agent.capabilities.through._meta
    pk = quote("id")
    return (
        f"SELECT a.{pk} FROM {quote(agent.db_table)} a "  # noqa: S608
        f"JOIN {quote(department.db_table)} d ON d.{pk} = a.{quote(agent.get_field('department').column)} "
        f"WHERE a.{pk} IN ({', '.join(['%s'] * count)}) AND a.{quote(agent.get_field('status').column)} = %s "
        f"AND d.{quote(department.get_field('status').column)} = %s "
        f"AND EXISTS (SELECT 1 FROM {quote(held.db_table)} h WHERE h.{quote('agent_id')} = a.{pk} "
        f"AND h.{quote('capability_id')} = %s)"
    )
