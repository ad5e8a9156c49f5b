"""What each kind of rule finds now: one `Finding` per subject (agent, department, organisation) whose condition
holds. Read from the rollups, the registry's month-to-date spend counters, the pending approvals and the audit
log's verification runs: each costs the same whatever the number of decisions history holds.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Min

from alerting.models import Alert, AlertRule
from audit.models import VerificationRun
from dashboard.headline import wait_words
from dashboard.kpis.snapshot import _decision_sums, rate, snapshot
from dashboard.models import DAY, HOUR
from dashboard.money import format_money
from dashboard.periods import Period
from governance.budgets import month_start, spent_this_month
from governance.models import Approval, Verdict
from orchestration.models import Agent, Department, Status

Kind = AlertRule.Kind
Subject = tuple[str, int]  # (Alert.SubjectType, id; 0 for the organisation)


@dataclass(frozen=True)
class Finding:
    subject_type: str
    subject_id: int
    subject_name: str
    department_id: int | None
    summary: str
    figures: dict = field(default_factory=dict)

    @property
    def subject(self) -> Subject:
        return (self.subject_type, self.subject_id)


def findings(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> dict[Subject, Finding]:
    """The subjects in `scope` (department ids; None: the whole organisation) for which the rule holds now."""
    found = CHECKS[rule.kind](rule, scope, now)
    return {finding.subject: finding for finding in found}


BUDGET_FIELDS = ("name", "monthly_budget", "month_spent", "spend_month")


def _budget(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    month = month_start(now)
    month_begins = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
    next_month = (month + dt.timedelta(days=32)).replace(day=1)
    share = (now - month_begins) / (dt.datetime.combine(next_month, dt.time(), tzinfo=dt.UTC) - month_begins)
    percent = rule.threshold * (Decimal(str(share)) if rule.pro_rata else 1)
    if rule.level == AlertRule.Level.AGENT:
        holders = Agent.objects.only(*BUDGET_FIELDS, "department_id")
        if scope is not None:
            holders = holders.filter(department_id__in=scope)
    else:
        holders = Department.objects.only(*BUDGET_FIELDS)
        if scope is not None:
            holders = holders.filter(pk__in=scope)
    found = []
    for holder in holders.filter(monthly_budget__gt=0):
        spent, budget = spent_this_month(holder, now), holder.monthly_budget
        used = 100 * spent / budget
        if spent <= 0 or used < percent:
            continue
        allowed = (
            f"{percent:.1f}% allowed by {now:%-d %B} (pro rata)" if rule.pro_rata else f"{_number(rule.threshold)}%"
        )
        is_agent = isinstance(holder, Agent)
        summary = (
            f"{holder.name} has spent {format_money(spent)} of its {format_money(budget, whole=True)} monthly budget "
            f"({used:.1f}%), at or above {allowed}."
        )
        figures = {"spent": str(spent), "budget": str(budget), "used_percent": round(float(used), 1)}
        figures["threshold_percent"] = round(float(percent), 1)
        found.append(
            Finding(
                Alert.SubjectType.AGENT if is_agent else Alert.SubjectType.DEPARTMENT,
                holder.pk,
                holder.name,
                holder.department_id if is_agent else holder.pk,
                summary,
                figures,
            )
        )
    return found


def _number(value: Decimal) -> str:
    """80.00 → "80", 2.50 → "2.5": a threshold as the person wrote it."""
    return f"{Decimal(value).normalize():f}"


def _window(rule: AlertRule, now: dt.datetime) -> Period:
    """The rule's last `window_hours` UTC hours, the current (partial) one included."""
    end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    return Period("window", end - dt.timedelta(hours=rule.window_hours), end, HOUR)


def _hours(count: int) -> str:
    return "the current hour" if count == 1 else f"the last {count} hours"


def _department_names(ids) -> dict[int, str]:
    return dict(Department.objects.filter(pk__in=list(ids)).values_list("pk", "name"))


def _rate_above_baseline(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    verdicts = (Verdict.DENY, Verdict.FLAG) if rule.kind == Kind.VIOLATION_RATE else (Verdict.REQUIRE_APPROVAL,)
    word = "violation rate" if rule.kind == Kind.VIOLATION_RATE else "escalation rate"
    window = _window(rule, now)
    # Whole UTC days before the window's first day, from the day buckets: 24 times fewer rows than hours.
    baseline_end = window.start.replace(hour=0)
    baseline = Period("baseline", baseline_end - dt.timedelta(days=rule.baseline_days), baseline_end, DAY)
    with snapshot():
        recent = _decision_sums(window, scope, ("department_id", "verdict"), ("decisions",))
        before = _decision_sums(baseline, scope, ("department_id", "verdict"), ("decisions",))

    def per_department(sums: dict) -> dict[int, list[int]]:
        counts: dict[int, list[int]] = {}
        for (department_id, verdict), values in sums.items():
            row = counts.setdefault(department_id, [0, 0])
            row[0] += values["decisions"] * (verdict in verdicts)
            row[1] += values["decisions"]
        return counts

    recent_counts, baseline_counts = per_department(recent), per_department(before)
    names = _department_names(recent_counts)
    found = []
    for department_id, (hits, total) in recent_counts.items():
        if total < rule.minimum_volume or department_id not in names:
            continue
        base_hits, base_total = baseline_counts.get(department_id, (0, 0))
        now_rate, base_rate = rate(hits, total), rate(base_hits, base_total) or 0.0
        if now_rate <= float(rule.threshold) * base_rate or not hits:
            continue
        times = f"{now_rate / base_rate:.1f} times" if base_rate else "above"
        summary = (
            f"{names[department_id]}: {word} {now_rate:.1f}% in {_hours(rule.window_hours)} ({hits} of {total} "
            f"decisions), {times} its {rule.baseline_days}-day baseline of {base_rate:.1f}% "
            f"(fires at {_number(rule.threshold)} times)."
        )
        figures = {"rate_percent": now_rate, "baseline_percent": base_rate, "count": hits, "decisions": total}
        found.append(
            Finding(Alert.SubjectType.DEPARTMENT, department_id, names[department_id], department_id, summary, figures)
        )
    return found


def _risk_appetite(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    with snapshot():
        sums = _decision_sums(_window(rule, now), scope, ("department_id",), ("decisions", "risk_total"))
    appetites = dict(Department.objects.filter(pk__in=[k[0] for k in sums]).values_list("pk", "risk_appetite"))
    names = _department_names(appetites)
    found = []
    for (department_id,), values in sums.items():
        decisions = values["decisions"]
        if department_id not in appetites or decisions < rule.minimum_volume:
            continue
        average = round(values["risk_total"] / decisions, 1)
        if average <= appetites[department_id]:
            continue
        summary = (
            f"{names[department_id]}: average risk score {average:.1f} in {_hours(rule.window_hours)} "
            f"({decisions} decisions), above its risk appetite of {appetites[department_id]}."
        )
        figures = {"average_risk": average, "appetite": appetites[department_id], "decisions": decisions}
        found.append(
            Finding(Alert.SubjectType.DEPARTMENT, department_id, names[department_id], department_id, summary, figures)
        )
    return found


def _approvals_waiting(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    pending = Approval.objects.filter(status=Approval.Status.PENDING)
    if scope is not None:
        pending = pending.filter(department_id__in=scope)
    rows = pending.values_list("department_id").annotate(n=Count("pk"), oldest=Min("requested_at")).order_by()
    names = _department_names(row[0] for row in rows)
    found = []
    for department_id, waiting, oldest in rows:
        wait = now - oldest
        too_many = rule.threshold is not None and waiting >= rule.threshold
        too_old = rule.minutes is not None and wait > dt.timedelta(minutes=rule.minutes)
        if not (too_many or too_old) or department_id not in names:
            continue
        reasons = []
        if too_many:
            reasons.append(f"{waiting} approvals waiting (fires at {_number(rule.threshold)})")
        if too_old:
            reasons.append(f"the oldest has waited {wait_words(wait)} (fires after {rule.minutes} min)")
        summary = f"{names[department_id]}: " + "; ".join(reasons) + "."
        figures = {"waiting": waiting, "oldest_wait_minutes": int(wait.total_seconds() // 60)}
        found.append(
            Finding(Alert.SubjectType.DEPARTMENT, department_id, names[department_id], department_id, summary, figures)
        )
    return found


def _failure_rate(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    with snapshot():
        sums = _decision_sums(_window(rule, now), scope, ("agent_id",), ("outcomes", "successes"))
    candidates = {k[0]: v for k, v in sums.items() if v["outcomes"] >= rule.minimum_volume}
    agents = Agent.objects.only("name", "department_id").in_bulk(candidates)
    found = []
    for agent_id, values in candidates.items():
        failed = values["outcomes"] - values["successes"]
        failure_rate = rate(failed, values["outcomes"])
        if agent_id not in agents or failure_rate <= float(rule.threshold):
            continue
        agent = agents[agent_id]
        summary = (
            f"{agent.name}: {failure_rate:.1f}% of outcomes failed in {_hours(rule.window_hours)} "
            f"({failed} of {values['outcomes']}), above {_number(rule.threshold)}%."
        )
        figures = {"failure_percent": failure_rate, "failed": failed, "outcomes": values["outcomes"]}
        found.append(Finding(Alert.SubjectType.AGENT, agent_id, agent.name, agent.department_id, summary, figures))
    return found


def _kill_switch(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    agents = Agent.objects.filter(status=Status.KILLED).select_related("department")
    departments = Department.objects.filter(status=Status.KILLED)
    if scope is not None:
        agents, departments = agents.filter(department_id__in=scope), departments.filter(pk__in=scope)
    found = [
        Finding(
            Alert.SubjectType.DEPARTMENT,
            department.pk,
            department.name,
            department.pk,
            f"The {department.name} department was stopped with the kill switch: none of its agents may act.",
        )
        for department in departments
    ]
    found += [
        Finding(
            Alert.SubjectType.AGENT,
            agent.pk,
            agent.name,
            agent.department_id,
            f"{agent.name} ({agent.department.name}) was stopped with the kill switch.",
        )
        for agent in agents
    ]
    return found


def _audit_chain(rule: AlertRule, scope: list[int] | None, now: dt.datetime) -> list[Finding]:
    done = (VerificationRun.Status.INTACT, VerificationRun.Status.BROKEN)
    latest = VerificationRun.objects.filter(status__in=done).order_by("-finished_at", "-pk").first()
    if latest is None or latest.status != VerificationRun.Status.BROKEN:
        return []
    what = latest.findings[0] if latest.findings else f"event {latest.broken_seq} does not hold"
    summary = f"The audit log failed verification on {latest.finished_at:%-d %B %Y at %H:%M} UTC: {what}"
    figures = {"verification": latest.pk, "broken_event": latest.broken_seq}
    return [Finding(Alert.SubjectType.ORGANISATION, 0, "The organisation", None, summary[:300], figures)]


CHECKS: dict[str, Callable[[AlertRule, list[int] | None, dt.datetime], list[Finding]]] = {
    Kind.BUDGET: _budget,
    Kind.VIOLATION_RATE: _rate_above_baseline,
    Kind.ESCALATION_RATE: _rate_above_baseline,
    Kind.RISK_APPETITE: _risk_appetite,
    Kind.APPROVALS_WAITING: _approvals_waiting,
    Kind.FAILURE_RATE: _failure_rate,
    Kind.KILL_SWITCH: _kill_switch,
    Kind.AUDIT_CHAIN: _audit_chain,
}
