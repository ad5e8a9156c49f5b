"""Policy changes: every change becomes an immutable, numbered version."""

import difflib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from audit import chain
from governance import engine
from governance.models import Mode, Policy, PolicyVersion

SNAPSHOT_FIELDS = [
    "name",
    "rationale",
    "actions",
    "condition",
    "effect",
    "approver_role",
    "approval_deadline_minutes",
    "mode",
    "priority",
    "risk_weight",
    "enabled",
]


def snapshot_of(policy: Policy, *, departments=None, agents=None, capabilities=None) -> dict:
    """The policy as the engine will see it, in plain JSON.

    Scope comes from the database unless given, which lets a form test a change before saving it.
    """
    data = {field: getattr(policy, field) for field in SNAPSHOT_FIELDS}
    data["valid_from"] = policy.valid_from.isoformat() if policy.valid_from else None
    data["valid_until"] = policy.valid_until.isoformat() if policy.valid_until else None
    if departments is None:
        departments, agents, capabilities = policy.departments.all(), policy.agents.all(), policy.capabilities.all()
    data["department_ids"] = sorted(d.pk for d in departments)
    data["agent_ids"] = sorted(a.pk for a in agents)
    data["capability_codes"] = sorted(c.code for c in capabilities)
    return data


@transaction.atomic
def record_policy_version(policy: Policy, *, by=None) -> PolicyVersion | None:
    """Store the policy's current state as its next version, unless nothing changed since the last one."""
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    snapshot = snapshot_of(policy)
    latest = policy.versions.order_by("-number").first()
    if latest is not None and latest.snapshot == snapshot:
        return None
    number = policy.version + 1
    version = PolicyVersion.objects.create(policy=policy, number=number, snapshot=snapshot, created_by=by)
    Policy.objects.filter(pk=policy.pk).update(version=F("version") + 1)
    chain.record(
        "policy.changed",
        subject_type="policy",
        subject_id=policy.pk,
        actor=by,
        before=latest.snapshot if latest else None,
        after={**snapshot, "version": number, "version_id": version.pk},
    )
    return version


def version_diff(version: PolicyVersion) -> str:
    """A unified diff of this version against the one before it, for people reviewing a change."""
    previous = _previous(version)
    before = json.dumps(previous.snapshot, indent=2, sort_keys=True).splitlines() if previous else []
    after = json.dumps(version.snapshot, indent=2, sort_keys=True).splitlines()
    label = f"v{previous.number}" if previous else "(new)"
    return "\n".join(difflib.unified_diff(before, after, label, f"v{version.number}", lineterm=""))


def _previous(version: PolicyVersion) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(policy_id=version.policy_id, number__lt=version.number).order_by("-number").first()
    )


def changed_fields(version: PolicyVersion) -> str:
    previous = _previous(version)
    if previous is None:
        return "created"
    return ", ".join(sorted(k for k in version.snapshot if version.snapshot.get(k) != previous.snapshot.get(k)))


def current_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.filter(number=F("policy__version")))


def proposed_index(changes: dict[int, dict]) -> engine.PolicyIndex:
    """The policy set as it stands, with some policies replaced by proposed snapshots.

    A key of 0 or an unknown id adds a policy that does not exist yet (a draft).
    """
    versions = {v.policy_id: v for v in current_versions()}
    for policy_id, snapshot in changes.items():
        current = versions.get(policy_id)
        versions[policy_id] = PolicyVersion(
            pk=current.pk if current else 0,
            policy_id=policy_id,
            number=(current.number + 1) if current else 1,
            snapshot=snapshot,
        )
    return engine.build_index(versions.values())


def as_enforced(snapshot: dict) -> dict:
    return {**snapshot, "mode": "enforce", "enabled": True}


@transaction.atomic
def save_policy(policy: Policy, *, departments, agents, capabilities, by=None) -> Policy:
    """Create or change a policy with its scope, as the admin does, and record the new version.

    A new policy starts in shadow mode; an enforced policy may not be changed so that its examples fail.
    """
    from governance.policy_examples import PolicyExamplesFailed, run_examples

    if policy.pk is None:
        policy.mode = Mode.SHADOW
    policy.full_clean(exclude=["departments", "agents", "capabilities"])
    if policy.pk is not None and policy.mode == Mode.ENFORCE:
        snapshot = snapshot_of(policy, departments=departments, agents=agents, capabilities=capabilities)
        failures = [r for r in run_examples(policy, snapshot) if not r.passed]
        if failures:
            raise ValidationError(str(PolicyExamplesFailed(policy, failures)))
    policy.save()
    policy.departments.set(departments)
    policy.agents.set(agents)
    policy.capabilities.set(capabilities)
    record_policy_version(policy, by=by)
    policy.refresh_from_db()
    return policy
