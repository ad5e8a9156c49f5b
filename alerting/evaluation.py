"""One evaluation pass: every rule's findings against its open alerts, then fire, resolve or hold back.

Beat runs `evaluate_rules` every ALERT_EVALUATION_SECONDS (alerting.tasks). Per rule, in one transaction that
holds the rule's row: an open alert whose subject no longer holds is resolved; a finding without an open alert
opens one, unless the rule's throttle holds it back (an alert for the same subject opened less than
`throttle_minutes` ago). The partial unique constraint keeps one open alert per rule and subject whatever runs
at once. Each opening and resolution is delivered (alerting.delivery) in the same transaction.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from alerting.checks import Finding, Subject, findings
from alerting.delivery import deliver
from alerting.models import Alert, AlertRule


@dataclass
class Pass:
    """What one pass did, for the task's log and the benchmark."""

    rules: int = 0
    fired: int = 0
    resolved: int = 0
    throttled: int = 0


def evaluate_rules(now: dt.datetime | None = None) -> Pass:
    now = now or timezone.now()
    result = Pass()
    rule_ids = AlertRule.objects.filter(enabled=True).values_list("pk", flat=True)
    off_with_open = AlertRule.objects.filter(enabled=False, alerts__status=Alert.Status.OPEN).values_list("pk")
    for rule_id in sorted({*rule_ids, *(pk for (pk,) in off_with_open)}):
        with transaction.atomic(durable=True):
            rule = AlertRule.objects.select_for_update().filter(pk=rule_id).first()
            if rule is None:
                continue
            result.rules += rule.enabled
            _reconcile(rule, now, result)
    return result


def _reconcile(rule: AlertRule, now: dt.datetime, result: Pass) -> None:
    if rule.enabled:
        scope = sorted(rule.departments.values_list("pk", flat=True)) or None
        found, why_cleared = findings(rule, scope, now), "The condition no longer holds."
    else:
        found, why_cleared = {}, "The rule was turned off."
    open_alerts = {(a.subject_type, a.subject_id): a for a in rule.alerts.filter(status=Alert.Status.OPEN)}
    for subject, alert in open_alerts.items():
        if subject not in found:
            _resolve(alert, now, why_cleared)
            result.resolved += 1
    new = [finding for subject, finding in found.items() if subject not in open_alerts]
    recently: set[Subject] = set()
    if new and rule.throttle_minutes:
        since = now - dt.timedelta(minutes=rule.throttle_minutes)
        recently = set(rule.alerts.filter(opened_at__gt=since).values_list("subject_type", "subject_id"))
    for finding in new:
        if finding.subject in recently:
            result.throttled += 1
            continue
        _fire(rule, finding, now)
        result.fired += 1


def _fire(rule: AlertRule, finding: Finding, now: dt.datetime) -> Alert:
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
    return alert


def _resolve(alert: Alert, now: dt.datetime, why: str) -> None:
    alert.status, alert.resolved_at, alert.resolution = Alert.Status.RESOLVED, now, why
    alert.save(update_fields=["status", "resolved_at", "resolution"])
    deliver(alert)
