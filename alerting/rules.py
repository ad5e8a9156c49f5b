"""What each kind of alert rule reads, and the checks that give a person a message per field they can act on.

The admin's form (through `AlertRule.clean`) and the API's serializer call `rule_errors`, so both refuse the same
rules with the same words.
"""

from decimal import Decimal

from alerting.models import EDITABLE_FIELDS, AlertRule
from audit import chain

Kind = AlertRule.Kind

# The fields each kind needs (required) and may take (optional); any other parameter is refused as unused.
KIND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Kind.BUDGET: (("level", "threshold"), ("pro_rata",)),
    Kind.VIOLATION_RATE: (("threshold", "minimum_volume", "window_hours", "baseline_days"), ()),
    Kind.ESCALATION_RATE: (("threshold", "minimum_volume", "window_hours", "baseline_days"), ()),
    Kind.RISK_APPETITE: (("minimum_volume", "window_hours"), ()),
    Kind.APPROVALS_WAITING: ((), ("threshold", "minutes")),
    Kind.FAILURE_RATE: (("threshold", "minimum_volume", "window_hours"), ()),
    Kind.KILL_SWITCH: ((), ()),
    Kind.AUDIT_CHAIN: ((), ()),
}
PARAMETERS = ("level", "threshold", "pro_rata", "minimum_volume", "window_hours", "baseline_days", "minutes")

REQUIRED = {
    "level": "Say whether to watch each agent's budget or each department's.",
    "threshold": {
        Kind.BUDGET: "Give the percent of the monthly budget that fires the alert, such as 80 or 100.",
        Kind.VIOLATION_RATE: "Give how many times the baseline fires the alert, such as 2.",
        Kind.ESCALATION_RATE: "Give how many times the baseline fires the alert, such as 2.",
        Kind.FAILURE_RATE: "Give the percent of failed outcomes that fires the alert, such as 20.",
    },
    "minimum_volume": "Give the fewest decisions (failure rate: outcomes) worth judging, such as 20.",
    "window_hours": "Give the hours to look at, from 1 to 168.",
    "baseline_days": "Give the days before the window that make the baseline, from 1 to 30.",
}


def rule_errors(fields: dict, departments: list | None = None) -> dict[str, str]:
    """Field → what to change, for a rule's kind and parameters (and its departments, when given)."""
    kind = fields.get("kind")
    if kind not in KIND_FIELDS:
        return {"kind": f"Choose one of: {', '.join(label for _, label in Kind.choices)}."}
    required, optional = KIND_FIELDS[kind]
    label = Kind(kind).label.lower()
    errors: dict[str, str] = {}
    for name in PARAMETERS:
        value = fields.get(name)
        given = bool(value) if name == "pro_rata" else value not in (None, "")
        if name in required and not given:
            message = REQUIRED[name]
            errors[name] = message[kind] if isinstance(message, dict) else message
        elif given and name not in required + optional:
            errors[name] = f"A rule for {label} does not use this: leave it empty."
    if kind == Kind.APPROVALS_WAITING and fields.get("threshold") is None and fields.get("minutes") is None:
        errors["threshold"] = "Give how many waiting approvals fire the alert, or the minutes the oldest may wait."
    errors.update(_range_errors(kind, fields, errors))
    if kind == Kind.AUDIT_CHAIN and departments:
        errors["departments"] = "The audit log is the organisation's: leave the departments empty."
    return errors


def _range_errors(kind: str, fields: dict, found: dict) -> dict[str, str]:
    errors = {}
    threshold = fields.get("threshold")
    if threshold is not None and "threshold" not in found:
        threshold = Decimal(threshold)
        if kind == Kind.BUDGET and not 0 < threshold <= 1000:
            errors["threshold"] = "Give a percent of the monthly budget above 0 and at most 1000."
        elif kind in (Kind.VIOLATION_RATE, Kind.ESCALATION_RATE) and threshold <= 1:
            errors["threshold"] = "Give a factor above 1: the rate must be this many times its baseline."
        elif kind == Kind.FAILURE_RATE and not 0 <= threshold < 100:
            errors["threshold"] = "Give a percent of failed outcomes from 0 to under 100."
        elif kind == Kind.APPROVALS_WAITING and (threshold < 1 or threshold != threshold.to_integral_value()):
            errors["threshold"] = "Give a whole number of waiting approvals, 1 or more."
    window = fields.get("window_hours")
    if window is not None and "window_hours" not in found and not 1 <= window <= 168:
        errors["window_hours"] = "Give the hours to look at, from 1 to 168."
    baseline = fields.get("baseline_days")
    if baseline is not None and "baseline_days" not in found and not 1 <= baseline <= 30:
        errors["baseline_days"] = "Give the days before the window that make the baseline, from 1 to 30."
    for name in ("minimum_volume", "minutes"):
        if fields.get(name) == 0 and name not in found:
            errors[name] = "Give 1 or more."
    return errors


def record_rule_change(rule: AlertRule, *, by, action: str) -> None:
    """Audit a rule written, changed or deleted (admin or API), with what it holds after (before, when deleted)."""
    state = {name: getattr(rule, name) for name in ("name", "enabled", *EDITABLE_FIELDS)}
    state["threshold"] = None if rule.threshold is None else str(rule.threshold)
    state["departments"] = sorted(rule.departments.values_list("pk", flat=True)) if rule.pk else []
    chain.record(
        f"alert_rule.{action}",
        subject_type="alert_rule",
        subject_id=rule.pk,
        actor=by,
        before=state if action == "deleted" else None,
        after=None if action == "deleted" else state,
    )
