"""One evaluation pass: every rule's findings against its open alerts, then fire, resolve or hold back.

Beat runs `evaluate_rules` every ALERT_EVALUATION_SECONDS (alerting.tasks). Per rule: an open alert whose subject
no longer holds is resolved; a finding without an open alert opens one, unless the rule's throttle holds it back
(an alert for the same subject opened less than `throttle_minutes` ago). A rule with nothing to change costs its
reads alone: no lock, no write. One with changes is planned again in one transaction holding the rule's row, so
evaluators running at once never open the same alert twice (nor could they: a partial unique constraint keeps one
open alert per rule and subject). Each opening and resolution is delivered (alerting.delivery) in that transaction.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from alerting.checks import Finding, findings
from alerting.delivery import deliver
from alerting.models import Alert, AlertRule


@dataclass
class Pass:
    """What one pass did, for the task's log and the benchmark."""

    rules: int = 0
    fired: int = 0
    resolved: int = 0
    throttled: int = 0


@dataclass
class _Plan:
    to_resolve: list[Alert] = field(default_factory=list)
    to_fire: list[Finding] = field(default_factory=list)
    throttled: int = 0
    why_cleared: str = "The condition no longer holds."


def evaluate_rules(now: dt.datetime | None = None) -> Pass:
    now = now or timezone.now()
    result = Pass()
    enabled = AlertRule.objects.filter(enabled=True)
    off_with_open = AlertRule.objects.filter(enabled=False, alerts__status=Alert.Status.OPEN).distinct()
    for rule in [*enabled.order_by("pk"), *off_with_open.order_by("pk")]:
        result.rules += rule.enabled
        plan = _plan(rule, now)
        if plan.to_resolve or plan.to_fire:
            with transaction.atomic(durable=True):
                locked = AlertRule.objects.select_for_update().filter(pk=rule.pk).first()
                plan = _plan(locked, now) if locked is not None else _Plan()
                _apply(locked, plan, now, result)
        result.throttled += plan.throttled
    return result


def _plan(rule: AlertRule, now: dt.datetime) -> _Plan:
    plan = _Plan()
    if rule.enabled:
        scope = sorted(rule.departments.values_list("pk", flat=True)) or None
        found = findings(rule, scope, now)
    else:
        found, plan.why_cleared = {}, "The rule was turned off."
    open_alerts = {(a.subject_type, a.subject_id): a for a in rule.alerts.filter(status=Alert.Status.OPEN)}
    plan.to_resolve = [alert for subject, alert in open_alerts.items() if subject not in found]
    new = [finding for subject, finding in found.items() if subject not in open_alerts]
    if new and rule.throttle_minutes:
        since = now - dt.timedelta(minutes=rule.throttle_minutes)
        recently = set(rule.alerts.filter(opened_at__gt=since).values_list("subject_type", "subject_id"))
        plan.throttled = sum(finding.subject in recently for finding in new)
        new = [finding for finding in new if finding.subject not in recently]
    plan.to_fire = new
    return plan


def _apply(rule: AlertRule, plan: _Plan, now: dt.datetime, result: Pass) -> None:
    for alert in plan.to_resolve:
        alert.status, alert.resolved_at, alert.resolution = Alert.Status.RESOLVED, now, plan.why_cleared
        alert.save(update_fields=["status", "resolved_at", "resolution"])
        deliver(alert)
        result.resolved += 1
    for finding in plan.to_fire:
        alert = Alert.objects.create(
            rule=rule,
            subject_type=finding.subject_type,
            subject_id=finding.subject_id,
            subject_name=finding.subject_name,
            department_id=finding.department_id,
            summary=finding.summary[:300],
            figures=finding.figures,
            opened_at=now,
        )
        deliver(alert)
        result.fired += 1
