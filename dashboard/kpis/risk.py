"""Where the risk is: agents by average risk score, departments against their risk appetite, and
the policies that fired most, enforced and in shadow (the Risk page, the overview, the board report).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, merge, snapshot
from dashboard.models import PolicyRollup, RollupChange
from dashboard.periods import Period
from governance.models import Policy
from orchestration.models import Agent, Department

RISK_BANDS = [
    ("risk_low", "Low (0–24)"),
    ("risk_moderate", "Moderate (25–49)"),
    ("risk_high", "High (50–74)"),
    ("risk_critical", "Critical (75–100)"),
]


@dataclass(frozen=True)
class AgentRisk:
    agent_id: int
    agent: str
    department: str
    decisions: int
    average_risk: float
    appetite: int
    denied: int
    critical: int

    @property
    def over_appetite(self) -> bool:
        return self.average_risk > self.appetite


def risky_agents(viewer, period: Period, departments: Iterable[int] | None = None, limit: int = 5) -> list[AgentRisk]:
    """Agents by average risk score in the period, highest first: the top risks now."""
    scope = departments_in_scope(viewer, departments)
    with snapshot():
        sums = _decision_sums(period, scope, ("agent_id", "verdict"), ("decisions", "risk_total", "risk_critical"))
    per_agent: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (agent_id, verdict), values in sums.items():
        for measure, amount in values.items():
            per_agent[agent_id][measure] += amount
        if verdict == "deny":
            per_agent[agent_id]["denied"] += values["decisions"]
    agents = Agent.objects.select_related("department").in_bulk(per_agent)
    ranked = [
        AgentRisk(
            agent_id=pk,
            agent=agents[pk].name,
            department=agents[pk].department.name,
            decisions=v["decisions"],
            average_risk=round(v["risk_total"] / v["decisions"], 1),
            appetite=agents[pk].department.risk_appetite,
            denied=v["denied"],
            critical=v["risk_critical"],
        )
        for pk, v in per_agent.items()
        if v["decisions"] and pk in agents
    ]
    ranked.sort(key=lambda a: (-a.average_risk, -a.critical, a.agent))
    return ranked[:limit]


@dataclass(frozen=True)
class DepartmentRisk:
    department: str
    appetite: int
    decisions: int
    average_risk: float | None
    bands: dict[str, int]
    shadow: dict[str, int]

    @property
    def over_appetite(self) -> bool:
        return self.average_risk is not None and self.average_risk > self.appetite


def department_risk(viewer, period: Period, departments: Iterable[int] | None = None) -> list[DepartmentRisk]:
    """Per department: decisions by risk band, average risk against appetite, what shadow policies would change."""
    scope = departments_in_scope(viewer, departments)
    bands = [name for name, _ in RISK_BANDS]
    shadow = ("shadow_deny", "shadow_hold", "shadow_allow")
    with snapshot():
        sums = _decision_sums(period, scope, ("department_id",), ("decisions", "risk_total", *bands, *shadow))
    queryset = Department.objects.all() if scope is None else Department.objects.filter(pk__in=scope)
    result = []
    for department in queryset.order_by("name"):
        values = sums.get((department.pk,), dict.fromkeys(("decisions", "risk_total", *bands, *shadow), 0))
        result.append(
            DepartmentRisk(
                department=department.name,
                appetite=department.risk_appetite,
                decisions=values["decisions"],
                average_risk=round(values["risk_total"] / values["decisions"], 1) if values["decisions"] else None,
                bands={name: values[name] for name in bands},
                shadow={name: values[name] for name in shadow},
            )
        )
    return result


@dataclass(frozen=True)
class PolicyHits:
    policy: str
    enforced: int
    shadow: int


def policy_hits(
    viewer, period: Period, departments: Iterable[int] | None = None, limit: int = 10, agent_id: int | None = None
) -> list[PolicyHits]:
    """The policies that fired most in the period, enforced and in shadow (for one agent, when given)."""
    scope = departments_in_scope(viewer, departments)
    folded = PolicyRollup.objects.filter(grain=period.grain, start__gte=period.start, start__lt=period.end)
    waiting = RollupChange.objects.filter(
        policy__isnull=False, **{f"{period.grain}__gte": period.start, f"{period.grain}__lt": period.end}
    )
    if agent_id is not None:  # the buckets' (agent, grain, start) index serves this
        folded, waiting = folded.filter(agent_id=agent_id), waiting.filter(agent_id=agent_id)
    with snapshot():
        sums = merge((folded, waiting), scope, ("policy_id", "policy_mode"), ("hits",))
    per_policy: dict[int, dict[str, int]] = defaultdict(lambda: {"enforce": 0, "shadow": 0})
    for (policy_id, mode), values in sums.items():
        per_policy[policy_id][mode if mode == "shadow" else "enforce"] += values["hits"]
    names = dict(Policy.objects.filter(pk__in=per_policy).values_list("pk", "name"))
    rows = [PolicyHits(names.get(pk, f"Policy {pk}"), v["enforce"], v["shadow"]) for pk, v in per_policy.items()]
    rows.sort(key=lambda p: (-(p.enforced + p.shadow), p.policy))
    return rows[:limit]
