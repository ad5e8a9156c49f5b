"""The named queries the control library refers to: each finds the records that prove a control, for a period and
what the viewer may see, and answers how many there are and which is the newest.

A query is a plain function registered under its name; the library (library.toml) names it, and loading the
library refuses a name that is not here. Counts of decisions, of their outcomes and of the approvals people gave
come from the rollups (exact, never a scan), read once per page, and the audit log's count from its events per
hour (audit.counts); the newest decision is an index walk on time; the rest read the audit log by its
(kind, occurred_at) index or small tables. A query marked `organisation_wide` reads records that belong to no
department: only people who see the whole organisation get them. `needs` names a permission the viewer must also
hold (the audit log's, for example).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet
from django.urls import reverse

from audit import counts
from audit.models import AuditEvent, Checkpoint, VerificationRun
from dashboard.board import CRITICAL_RISK, VERDICT_WORDS
from dashboard.kpis.concentration import provider_concentration
from dashboard.kpis.risk import policy_hits
from dashboard.kpis.snapshot import _decision_sums, departments_in_scope, snapshot
from dashboard.periods import Period
from governance.models import Decision, Override, PolicyVersion, Verdict
from orchestration.models import Agent
from orchestration.roles import sees_whole_organisation

INTERVENTIONS = (Verdict.DENY, Verdict.REQUIRE_APPROVAL)
ROLLUP_MEASURES = ("decisions", "risk_critical", "outcomes", "approvals_approved", "approvals_rejected")
STATUS_CHANGE_KINDS = ("agent.status_changed", "department.status_changed")
REGISTRY_KINDS = tuple(
    f"{model}.{change}" for model in ("modelprovider", "capability") for change in ("created", "changed", "deleted")
)
REGISTRY_WORDS = {"modelprovider": "Model provider", "capability": "Capability"}
STATUS_WORDS = {"active": "resumed", "paused": "paused", "killed": "killed"}


@dataclass(frozen=True)
class Scope:
    """Whose evidence: the viewer, the period and the departments asked for (None: all the viewer may see)."""

    viewer: object
    period: Period
    departments: list[int] | None = None

    @cached_property
    def department_ids(self) -> list[int] | None:
        """The departments to read: None means the whole organisation (no filter needed)."""
        return departments_in_scope(self.viewer, self.departments)

    @cached_property
    def by_verdict(self) -> dict[str, dict[str, int]]:
        """The rollups' decision counts per verdict, read once for every query that counts decisions."""
        with snapshot():
            sums = _decision_sums(self.period, self.department_ids, ("verdict",), ROLLUP_MEASURES)
        return {verdict: values for (verdict,), values in sums.items()}

    def decisions(self, measure: str = "decisions", verdicts: tuple[str, ...] | None = None) -> int:
        return sum(
            values[measure] for verdict, values in self.by_verdict.items() if verdicts is None or verdict in verdicts
        )


@dataclass(frozen=True)
class Record:
    label: str
    at: dt.datetime | None
    url: str = ""  # empty when the viewer may not open it


@dataclass(frozen=True)
class Evidence:
    count: int | None  # None: withheld from this viewer, `withheld` says why
    newest: Record | None = None
    withheld: str = ""

    @property
    def found(self) -> bool:
        return bool(self.count)


@dataclass(frozen=True)
class Query:
    name: str
    run: Callable[[Scope], Evidence]
    organisation_wide: bool = False
    needs: str | None = None
    readers: str = ""  # who holds `needs`, in words, for those who do not

    def __call__(self, scope: Scope) -> Evidence:
        viewer = scope.viewer
        if self.organisation_wide and not sees_whole_organisation(viewer):
            return Evidence(None, withheld="These records belong to no department: people who see every one read them.")
        if self.needs and not viewer.has_perm(self.needs):
            return Evidence(None, withheld=f"{self.readers} read these records.")
        return self.run(scope)


QUERIES: dict[str, Query] = {}
AUDIT_LOG = ("audit.view_auditevent", "Auditors and Supervisors (people who read the audit log)")


def query(name: str, *, organisation_wide: bool = False, needs: tuple[str, str] | None = None):
    """Register a query under `name`; `needs` is (permission, who holds it in words)."""

    def register(run: Callable[[Scope], Evidence]) -> Callable[[Scope], Evidence]:
        permission, readers = needs or (None, "")
        QUERIES[name] = Query(name, run, organisation_wide, permission, readers)
        return run

    return register


def _in_period(queryset: QuerySet, field: str, period: Period) -> QuerySet:
    return queryset.filter(**{f"{field}__gte": period.start, f"{field}__lt": period.end})


def _in_departments(queryset: QuerySet, scope: Scope, field: str = "department_id") -> QuerySet:
    ids = scope.department_ids
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def _decision_record(decision: Decision | None) -> Record | None:
    if decision is None:
        return None
    verdict = VERDICT_WORDS.get(decision.verdict, decision.verdict)
    label = f"{decision.agent.name}: {decision.action}, {verdict.lower()} (risk {decision.risk_score})"
    return Record(label, decision.created_at, reverse("dashboard:decision", args=[decision.pk]))


def _newest_decision(scope: Scope, condition: Q | None = None) -> Record | None:
    rows = _in_departments(_in_period(Decision.objects.filter(condition or Q()), "created_at", scope.period), scope)
    return _decision_record(rows.select_related("agent").order_by("-created_at", "-id").first())


def _events(scope: Scope, *kinds: str) -> QuerySet[AuditEvent]:
    return _in_departments(_in_period(AuditEvent.objects.filter(kind__in=kinds), "occurred_at", scope.period), scope)


def _audit_log_url(viewer, event: AuditEvent) -> str:
    if viewer.is_staff and viewer.has_perm("audit.view_auditevent"):
        return reverse("admin:audit_auditevent_change", args=[event.seq])
    return ""


def _who(event: AuditEvent) -> str:
    label = event.actor_label
    return label.split(":", 1)[1] if ":" in label else label


@query("decisions_recorded")
def decisions_recorded(scope: Scope) -> Evidence:
    count = scope.decisions()
    return Evidence(count, _newest_decision(scope) if count else None)


@query("policy_interventions")
def policy_interventions(scope: Scope) -> Evidence:
    count = scope.decisions(verdicts=INTERVENTIONS)
    return Evidence(count, _newest_decision(scope, Q(verdict__in=INTERVENTIONS)) if count else None)


@query("critical_risk_decisions")
def critical_risk_decisions(scope: Scope) -> Evidence:
    count = scope.decisions("risk_critical")
    return Evidence(count, _newest_decision(scope, Q(risk_score__gte=CRITICAL_RISK)) if count else None)


@query("incidents")
def incident_decisions(scope: Scope) -> Evidence:
    """Denied or critical-risk decisions, as the board report counts incidents (dashboard.board.incidents)."""
    others = tuple(verdict for verdict in scope.by_verdict if verdict != Verdict.DENY)
    count = scope.decisions(verdicts=(Verdict.DENY,)) + scope.decisions("risk_critical", others)
    condition = Q(verdict=Verdict.DENY) | Q(risk_score__gte=CRITICAL_RISK)
    return Evidence(count, _newest_decision(scope, condition) if count else None)


@query("shadow_hits")
def shadow_hits(scope: Scope) -> Evidence:
    rows = [row for row in policy_hits(scope.viewer, scope.period, scope.departments, limit=10_000) if row.shadow]
    if not rows:
        return Evidence(0)
    top = max(rows, key=lambda row: (row.shadow, row.policy))
    label = f"{top.policy}: would have hit {top.shadow} request{'s' if top.shadow != 1 else ''} (shadow)"
    return Evidence(sum(row.shadow for row in rows), Record(label, None, reverse("dashboard:policies")))


@query("provider_shares")
def provider_shares(scope: Scope) -> Evidence:
    shares = provider_concentration(scope.viewer, scope.period, scope.departments)
    if not shares:
        return Evidence(0)
    top = shares[0]
    warning = ", above the concentration warning" if top.over_threshold else ""
    label = f"{top.provider} did {top.share:g}% of the work{warning}"
    return Evidence(len(shares), Record(label, None, reverse("dashboard:strategy")))


@query("policy_changes")
def policy_changes(scope: Scope) -> Evidence:
    versions = _in_period(PolicyVersion.objects.all(), "created_at", scope.period)
    ids = scope.department_ids
    if ids is not None:  # the policies that can apply to these departments, as the Policies page lists them
        versions = versions.filter(Q(policy__departments__isnull=True) | Q(policy__departments__in=ids)).distinct()
    newest = versions.select_related("created_by").order_by("-created_at", "-id").first()
    if newest is None:
        return Evidence(0)
    by = f" by {newest.created_by.get_username()}" if newest.created_by else ""
    label = f"{newest.snapshot.get('name', 'A policy')}, version {newest.number}{by}"
    return Evidence(versions.count(), Record(label, newest.created_at, reverse("dashboard:policies")))


@query("approvals_decided")
def approvals_decided(scope: Scope) -> Evidence:
    """Requests a person approved or rejected, of the period's decisions (the rollups count them once decided;
    expired ones are not a person's); the newest is the newest such decision, an index walk back in time."""
    count = scope.decisions("approvals_approved") + scope.decisions("approvals_rejected")
    if not count:
        return Evidence(0)
    decided = Decision.objects.filter(approval__decided_by__isnull=False)
    rows = _in_departments(_in_period(decided, "created_at", scope.period), scope)
    decision = rows.select_related("agent", "approval__decided_by").order_by("-created_at", "-id").first()
    if decision is None:
        return Evidence(count)
    approval = decision.approval
    label = (
        f"{decision.agent.name}: {decision.action}, {approval.get_status_display().lower()} "
        f"by {approval.decided_by.get_username()}"
    )
    return Evidence(count, Record(label, approval.decided_at, reverse("dashboard:decision", args=[decision.pk])))


@query("overrides")
def overrides(scope: Scope) -> Evidence:
    rows = _in_departments(_in_period(Override.objects.all(), "at", scope.period), scope, "decision__department_id")
    newest = rows.select_related("by", "decision__agent").order_by("-at", "-id").first()
    if newest is None:
        return Evidence(0)
    label = f"{newest.by.get_username()} overrode “{newest.verdict_overridden}” for {newest.decision.agent.name}"
    return Evidence(rows.count(), Record(label, newest.at, reverse("dashboard:decision", args=[newest.decision_id])))


@query("status_changes")
def status_changes(scope: Scope) -> Evidence:
    events = _events(scope, *STATUS_CHANGE_KINDS)
    newest = events.order_by("-occurred_at", "-seq").first()
    if newest is None:
        return Evidence(0)
    status = (newest.after or {}).get("status", "")
    page = "dashboard:agent" if newest.subject_type == "agent" else "dashboard:department"
    url = reverse(page, args=[int(newest.subject_id)])
    label = f"{newest.subject_type.capitalize()} {STATUS_WORDS.get(status, status)} by {_who(newest)}"
    return Evidence(events.count(), Record(label, newest.occurred_at, url))


@query("outcomes_reported")
def outcomes_reported(scope: Scope) -> Evidence:
    """Outcomes of the period's decisions (whenever reported), as the rollups count them; the newest is the
    newest decision with an outcome, an index walk back in time."""
    count = scope.decisions("outcomes")
    if not count:
        return Evidence(0)
    rows = _in_departments(
        _in_period(Decision.objects.filter(outcome__isnull=False), "created_at", scope.period), scope
    )
    decision = rows.select_related("agent", "outcome").order_by("-created_at", "-id").first()
    if decision is None:
        return Evidence(count)
    outcome = decision.outcome
    result = outcome.get_result_display().lower()
    label = f"{decision.agent.name}: {result}, reported by {outcome.reported_by or 'a system'}"
    return Evidence(count, Record(label, outcome.reported_at, reverse("dashboard:decision", args=[decision.pk])))


@query("audit_events", needs=AUDIT_LOG)
def audit_events(scope: Scope) -> Evidence:
    """Counted from the events per hour and department (audit.counts) and the few not folded yet, in one snapshot:
    the cost follows the period's hours, not its events (a count one by one took seconds at a million). By time,
    not the chain's order: an event can be chained long after its time, as bulk ingest does. The newest is the later
    of the newest event not folded and the newest in the last hour folded."""
    period, departments = scope.period, scope.department_ids
    latest = ("-occurred_at", "-seq")
    with snapshot():
        total = counts.count(period.start, period.end, departments)
        candidates = [counts.after_mark(period.start, period.end, departments).order_by(*latest).first()]
        hour = counts.newest_hour(period.start, period.end, departments)
        if hour is not None:
            in_hour = AuditEvent.objects.filter(occurred_at__gte=hour, occurred_at__lt=hour + dt.timedelta(hours=1))
            candidates.append(_in_departments(in_hour, scope).order_by(*latest).first())
    found = [event for event in candidates if event is not None]
    newest = max(found, key=lambda event: (event.occurred_at, event.seq)) if found else None
    if not total:
        return Evidence(0)
    if newest is None:  # its hour's events have left with retention; the counts keep them
        return Evidence(total)
    label = f"Event {newest.seq}: {newest.kind} by {_who(newest)}"
    return Evidence(total, Record(label, newest.occurred_at, _audit_log_url(scope.viewer, newest)))


@query("checkpoints", needs=AUDIT_LOG)
def checkpoints(scope: Scope) -> Evidence:
    rows = _in_period(Checkpoint.objects.all(), "signed_at", scope.period)
    newest = rows.order_by("-signed_at", "-id").first()
    if newest is None:
        return Evidence(0)
    held = ", ".join(newest.witnessed_by) or "Regent's database only"
    label = f"Checkpoint signed, held by {held}"
    return Evidence(rows.count(), Record(label, newest.signed_at, reverse("dashboard:integrity")))


@query("verifications", needs=AUDIT_LOG)
def verifications(scope: Scope) -> Evidence:
    finished = (VerificationRun.Status.INTACT, VerificationRun.Status.BROKEN)
    rows = _in_period(VerificationRun.objects.filter(status__in=finished), "finished_at", scope.period)
    newest = rows.order_by("-finished_at", "-id").first()
    if newest is None:
        return Evidence(0)
    label = f"{newest.get_mode_display()}: {newest.get_status_display().lower()}"
    return Evidence(rows.count(), Record(label, newest.finished_at, reverse("dashboard:integrity")))


@query("role_changes", organisation_wide=True, needs=("auth.view_user", "Auditors"))
def role_changes(scope: Scope) -> Evidence:
    events = _in_period(AuditEvent.objects.filter(kind="role.changed"), "occurred_at", scope.period)
    newest = events.order_by("-occurred_at", "-seq").first()
    if newest is None:
        return Evidence(0)
    after = newest.after or {}
    change = "added" if "added" in after else "removed"
    roles = ", ".join(after.get("added") or after.get("removed") or [])
    label = f"{after.get('user', 'Someone')}: {roles} {change} by {_who(newest)}"
    return Evidence(events.count(), Record(label, newest.occurred_at, _audit_log_url(scope.viewer, newest)))


@query("agents_registered")
def agents_registered(scope: Scope) -> Evidence:
    agents = _in_departments(_in_period(Agent.objects.all(), "created_at", scope.period), scope)
    newest = agents.select_related("department", "provider").order_by("-created_at", "-id").first()
    if newest is None:
        return Evidence(0)
    label = f"{newest.name} ({newest.department.name}), working with {newest.provider.name}"
    return Evidence(agents.count(), Record(label, newest.created_at, reverse("dashboard:agent", args=[newest.pk])))


@query("registry_changes", organisation_wide=True)
def registry_changes(scope: Scope) -> Evidence:
    events = _in_period(AuditEvent.objects.filter(kind__in=REGISTRY_KINDS), "occurred_at", scope.period)
    newest = events.order_by("-occurred_at", "-seq").first()
    if newest is None:
        return Evidence(0)
    entry = newest.after or newest.before or {}
    name = entry.get("name") or entry.get("code") or newest.subject_id
    what = REGISTRY_WORDS.get(newest.subject_type, newest.subject_type)
    label = f"{what} {name} {newest.kind.split('.', 1)[1]} by {_who(newest)}"
    return Evidence(events.count(), Record(label, newest.occurred_at, _audit_log_url(scope.viewer, newest)))
