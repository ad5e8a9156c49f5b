"""Who may do what: every endpoint and method, for every role, an agent and nobody.

One row per endpoint and method with the status each allowed caller gets (people call with a personal
token, the agent with its key). Every other caller is refused: 401 for nobody, 403 for a person whose role
does not allow it and for an agent on a people's endpoint. Where scope decides, a row names an object on
each side of it (a Supervisor's 404 outside their departments); the finer cases are in test_scope.py.
Every operation the API serves must have a row: `test_every_api_operation_has_a_row` fails otherwise.
"""

import datetime as dt
from typing import NamedTuple

import pytest
from django.db import transaction
from drf_spectacular.generators import EndpointEnumerator

from alerting.models import Alert, AlertRule
from audit.models import AuditEvent
from governance.models import Approval, ReplayRun, Verdict
from governance.models.policy import ApproverRole
from integrations import tokens, webhooks
from orchestration import keys
from orchestration.models import Capability
from tests.factories import (
    CapabilityFactory,
    DecisionFactory,
    ModelProviderFactory,
    StepTemplateFactory,
    WorkflowTemplateFactory,
)
from tests.support.api import CALLERS
from workflows.models import StepRun, WorkflowRun

pytestmark = pytest.mark.django_db

VIEWERS = ("alice", "bob", "carol", "dave")
ORGANISATION = ("alice", "carol", "dave")  # the viewers who see every department; bob supervises Finance only
OTHER_PEOPLE = ("bob", "carol", "dave", "erin")  # everyone but alice
INGESTED = {"type": "decision", "idempotency_key": "k1", "action": "invoice.approve", "verdict": "allow"}
NEXT_MONTH = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
WORKFLOW = {
    "name": "Refund",
    "slug": "refund",
    "steps": [
        {"key": "check", "capability": "invoice.approve", "action": "invoice.approve"},
        {"key": "pay", "capability": "invoice.approve", "action": "payment.send", "dependencies": ["check"]},
    ],
}
DELEGATED = {"capability": "invoice.approve", "action": "report.compile"}  # no policy of the world denies it
HOOK = {"url": "https://hooks.example.com/regent", "event_types": ["decision.created"]}


class Row(NamedTuple):
    method: str
    path: str
    allowed: dict[str, int]
    body: dict | None = None


def ok(callers, status: int = 200) -> dict[str, int]:
    return dict.fromkeys(callers, status)


ROWS = {
    # The API's description is public: it names operations and fields, never data.
    "schema": Row("get", "/api/v1/schema", ok(CALLERS)),
    "departments-list": Row("get", "/api/v1/departments", ok(VIEWERS)),
    "department-detail": Row("get", "/api/v1/departments/{finance}", ok(VIEWERS)),
    # Out of a Supervisor's departments is out of sight: a 404, as if it did not exist.
    "department-detail-other": Row("get", "/api/v1/departments/{support}", {**ok(ORGANISATION), "bob": 404}),
    "capabilities-list": Row("get", "/api/v1/capabilities", ok(VIEWERS)),
    "providers-list": Row("get", "/api/v1/providers", ok(VIEWERS)),
    "agents-list": Row("get", "/api/v1/agents", ok(VIEWERS)),
    "agent-detail": Row("get", "/api/v1/agents/{finance_agent}", ok(VIEWERS)),
    "agent-detail-other": Row("get", "/api/v1/agents/{support_agent}", {**ok(ORGANISATION), "bob": 404}),
    "agent-keys": Row("get", "/api/v1/agents/{finance_agent}/keys", ok(["carol"])),
    "agent-key-issue": Row("post", "/api/v1/agents/{finance_agent}/keys/issue", ok(["carol"], 201)),
    "agent-key-rotate": Row("post", "/api/v1/agents/{finance_agent}/keys/rotate", ok(["carol"], 201)),
    "agent-keys-revoke": Row("post", "/api/v1/agents/{finance_agent}/keys/revoke", ok(["carol"])),
    # Pausing and killing are leaders' controls: Executives and Policy Admins; Supervisors pause in their departments.
    "agent-pause": Row(
        "post",
        "/api/v1/agents/{finance_agent}/status",
        ok(["alice", "bob", "carol"]),
        {"status": "paused", "reason": "r"},
    ),
    "agent-kill": Row(
        "post", "/api/v1/agents/{finance_agent}/status", ok(["alice", "carol"]), {"status": "killed", "reason": "r"}
    ),
    "agent-pause-other": Row(
        "post",
        "/api/v1/agents/{support_agent}/status",
        {**ok(["alice", "carol"]), "bob": 404},
        {"status": "paused", "reason": "r"},
    ),
    "kpis": Row("get", "/api/v1/kpis", ok(VIEWERS)),
    "league": Row("get", "/api/v1/league", ok(VIEWERS)),
    "interactions": Row("get", "/api/v1/interactions", ok(VIEWERS)),
    # Controls and evidence: Auditors, Executives and Supervisors (their departments' evidence); not Policy Admins.
    "controls": Row("get", "/api/v1/controls/eu-ai-act", ok(["alice", "bob", "dave"])),
    "decisions-list": Row("get", "/api/v1/decisions", ok(VIEWERS)),
    "decision-detail": Row("get", "/api/v1/decisions/{decision}", ok(VIEWERS)),
    "decision-detail-other": Row("get", "/api/v1/decisions/{support_decision}", {**ok(ORGANISATION), "bob": 404}),
    # Overriding is the Supervisor's, in their departments (governance.overrides.may_override).
    "decision-override": Row(
        "post",
        "/api/v1/decisions/{denied}/override",
        {**ok(["bob"], 201), "erin": 404},
        {"reason": "The customer agreed by phone."},
    ),
    "evaluate": Row("post", "/api/v1/decisions/evaluate", ok(["agent"]), {"action": "invoice.approve"}),
    "outcome": Row("post", "/api/v1/outcomes", ok(["agent", "bob"]), {"decision": "{decision}", "result": "success"}),
    "ingest": Row("post", "/api/v1/events", ok(["agent"]), {"items": [INGESTED]}),
    "approvals-list": Row("get", "/api/v1/approvals", ok(VIEWERS)),
    "approvals-mine": Row("get", "/api/v1/approvals/mine", ok(VIEWERS)),
    "approval-detail": Row("get", "/api/v1/approvals/{approval}", ok(VIEWERS)),
    "approval-detail-other": Row("get", "/api/v1/approvals/{support_approval}", {**ok(ORGANISATION), "bob": 404}),
    # Who may decide is the approval's rule (governance.approvals.may_decide); erin cannot even see it.
    "approval-approve": Row("post", "/api/v1/approvals/{approval}/approve", {**ok(["alice", "bob"]), "erin": 404}),
    "approval-reject": Row(
        "post",
        "/api/v1/approvals/{approval}/reject",
        {**ok(["alice", "bob"]), "erin": 404},
        {"comment": "Not this month."},
    ),
    "approval-approve-other": Row(
        "post", "/api/v1/approvals/{support_approval}/approve", {**ok(["alice"]), **ok(["bob", "erin"], 404)}
    ),
    "policies-list": Row("get", "/api/v1/policies", ok(VIEWERS)),
    "policy-create": Row(
        "post",
        "/api/v1/policies",
        ok(["carol"], 201),
        {"name": "No weekend payments", "rationale": "Fraud.", "effect": "deny"},
    ),
    "policy-detail": Row("get", "/api/v1/policies/{policy}", ok(VIEWERS)),
    "policy-update": Row("patch", "/api/v1/policies/{policy}", ok(["carol"]), {"priority": 200}),
    "policy-replace": Row(
        "put",
        "/api/v1/policies/{policy}",
        ok(["carol"]),
        {"name": "Watch invoices", "rationale": "Fraud.", "effect": "flag", "actions": "invoice.*"},
    ),
    "policy-versions": Row("get", "/api/v1/policies/{policy}/versions", ok(VIEWERS)),
    "policy-tests": Row("get", "/api/v1/policies/{policy}/tests", ok(VIEWERS)),
    "policy-mode": Row("post", "/api/v1/policies/{policy}/mode", ok(["carol"]), {"mode": "shadow"}),
    "replays-list": Row("get", "/api/v1/replays", ok(["carol"])),
    "replay-detail": Row("get", "/api/v1/replays/{replay}", ok(["carol"])),
    "replay-start": Row("post", "/api/v1/replays", ok(["carol"], 201), {"policy_ids": ["{policy}"], "days": 7}),
    "strategy": Row("get", "/api/v1/strategy", ok(VIEWERS)),
    "strategy-set": Row(
        "post",
        "/api/v1/strategy",
        ok(["alice"], 201),
        {"cost": 40, "risk": 30, "customer_satisfaction": 20, "resilience": 10},
    ),
    "capability-detail": Row("get", "/api/v1/capabilities/{capability}", ok(VIEWERS)),
    "capability-create": Row("post", "/api/v1/capabilities", ok(["carol"], 201), {"code": "refund.issue"}),
    "capability-update": Row(
        "patch", "/api/v1/capabilities/{spare_capability}", ok(["carol"]), {"description": "Spare work"}
    ),
    "capability-replace": Row(
        "put",
        "/api/v1/capabilities/{spare_capability}",
        ok(["carol"]),
        {"code": "spare.task", "description": "Spare work"},
    ),
    "capability-delete": Row("delete", "/api/v1/capabilities/{spare_capability}", ok(["carol"], 204)),
    # Agents hold it and a workflow step needs it: deleting it would break them.
    "capability-delete-in-use": Row("delete", "/api/v1/capabilities/{capability}", ok(["carol"], 409)),
    "provider-detail": Row("get", "/api/v1/providers/{spare_provider}", ok(VIEWERS)),
    "provider-create": Row("post", "/api/v1/providers", ok(["carol"], 201), {"name": "Acme AI", "kind": "simulated"}),
    "provider-update": Row(
        "put",
        "/api/v1/providers/{spare_provider}",
        ok(["carol"]),
        {"name": "Spare AI", "kind": "simulated", "region": "eu-west", "cost_per_unit": "0.01"},
    ),
    "provider-update-partly": Row("patch", "/api/v1/providers/{spare_provider}", ok(["carol"]), {"region": "eu"}),
    "provider-delete": Row("delete", "/api/v1/providers/{spare_provider}", ok(["carol"], 204)),
    "workflows-list": Row("get", "/api/v1/workflows", ok(VIEWERS)),
    "workflow-detail": Row("get", "/api/v1/workflows/invoice", ok(VIEWERS)),
    "workflow-create": Row("post", "/api/v1/workflows", ok(["carol"], 201), WORKFLOW),
    "workflow-update": Row("put", "/api/v1/workflows/spare", ok(["carol"]), {**WORKFLOW, "slug": "spare"}),
    "workflow-update-partly": Row("patch", "/api/v1/workflows/spare", ok(["carol"]), {"enabled": False}),
    "workflow-delete": Row("delete", "/api/v1/workflows/spare", ok(["carol"], 204)),
    # The invoice workflow has a run on record.
    "workflow-delete-in-use": Row("delete", "/api/v1/workflows/invoice", ok(["carol"], 409)),
    # Only the agent running a step delegates from it; another agent's step is out of its sight.
    "step-delegate": Row("post", "/api/v1/steps/{step}/delegate", ok(["agent"], 201), DELEGATED),
    "step-delegate-other": Row("post", "/api/v1/steps/{support_step}/delegate", {"agent": 404}, DELEGATED),
    "runs-list": Row("get", "/api/v1/workflow-runs", ok(VIEWERS)),
    "run-detail": Row("get", "/api/v1/workflow-runs/{run}", ok(VIEWERS)),
    "run-detail-other": Row("get", "/api/v1/workflow-runs/{support_run}", {**ok(ORGANISATION), "bob": 404}),
    "run-steps": Row("get", "/api/v1/workflow-runs/{run}/steps", ok(VIEWERS)),
    "run-start": Row("post", "/api/v1/workflows/invoice/runs", ok(["alice", "bob", "carol", "agent"], 201)),
    "run-cancel": Row("post", "/api/v1/workflow-runs/{run}/cancel", ok(["alice", "bob", "carol"])),
    "run-cancel-other": Row(
        "post", "/api/v1/workflow-runs/{support_run}/cancel", {**ok(["alice", "carol"]), "bob": 404}
    ),
    "audit-list": Row("get", "/api/v1/audit-events", ok(["bob", "dave"])),
    "audit-event-detail": Row("get", "/api/v1/audit-events/{finance_event}", ok(["bob", "dave"])),
    "audit-event-detail-other": Row("get", "/api/v1/audit-events/{support_event}", {"bob": 404, "dave": 200}),
    "audit-verify": Row("get", "/api/v1/audit-events/verify", ok(["bob", "dave"])),
    "tokens-list": Row("get", "/api/v1/tokens", ok(["alice", "bob", "carol", "dave", "erin"])),
    "token-create": Row(
        "post",
        "/api/v1/tokens",
        ok(["alice", "bob", "carol", "dave", "erin"], 201),
        {"name": "BI export", "expires_at": NEXT_MONTH},
    ),
    # A person's tokens are theirs alone: anybody else's is a 404.
    "token-detail": Row("get", "/api/v1/tokens/{alice_token}", {**ok(["alice"]), **ok(OTHER_PEOPLE, 404)}),
    "token-revoke": Row("post", "/api/v1/tokens/{alice_token}/revoke", {**ok(["alice"]), **ok(OTHER_PEOPLE, 404)}),
    "webhooks-list": Row("get", "/api/v1/webhooks", ok(["bob", "carol"])),
    # Organisation-wide subscriptions are for organisation-wide roles; a Supervisor is told to name departments.
    "webhook-create": Row("post", "/api/v1/webhooks", {**ok(["carol"], 201), "bob": 400}, HOOK),
    "webhook-create-finance": Row(
        "post", "/api/v1/webhooks", ok(["bob", "carol"], 201), {**HOOK, "departments": ["{finance}"]}
    ),
    "webhook-detail": Row("get", "/api/v1/webhooks/{finance_webhook}", ok(["bob", "carol"])),
    "webhook-update": Row("patch", "/api/v1/webhooks/{finance_webhook}", ok(["bob", "carol"]), {"event_types": ["*"]}),
    "webhook-replace": Row(
        "put",
        "/api/v1/webhooks/{finance_webhook}",
        ok(["bob", "carol"]),
        {**HOOK, "departments": ["{finance}"], "active": False},
    ),
    # A change is held to the rule of a new subscription: a Supervisor may not reach past Finance.
    "webhook-update-widen": Row(
        "patch",
        "/api/v1/webhooks/{finance_webhook}",
        {**ok(["carol"]), "bob": 400},
        {"departments": ["{finance}", "{support}"]},
    ),
    "webhook-update-organisation-wide": Row(
        "patch", "/api/v1/webhooks/{finance_webhook}", {**ok(["carol"]), "bob": 400}, {"departments": []}
    ),
    "webhook-update-organisation": Row(
        "patch", "/api/v1/webhooks/{webhook}", {**ok(["carol"]), "bob": 404}, {"active": False}
    ),
    "webhook-deliveries": Row("get", "/api/v1/webhooks/{finance_webhook}/deliveries", ok(["bob", "carol"])),
    "webhook-delete": Row("delete", "/api/v1/webhooks/{finance_webhook}", ok(["bob", "carol"], 204)),
    "webhook-detail-organisation": Row("get", "/api/v1/webhooks/{webhook}", {**ok(["carol"]), "bob": 404}),
    "webhook-delete-organisation": Row("delete", "/api/v1/webhooks/{webhook}", {**ok(["carol"], 204), "bob": 404}),
    # Alert rules: Policy Admins write them; a Supervisor reads those on their departments alone.
    "alert-rules-list": Row("get", "/api/v1/alert-rules", ok(VIEWERS)),
    "alert-rule-create": Row("post", "/api/v1/alert-rules", ok(["carol"], 201), {"name": "K", "kind": "kill_switch"}),
    "alert-rule-detail": Row("get", "/api/v1/alert-rules/{finance_rule}", ok(VIEWERS)),
    "alert-rule-detail-organisation": Row("get", "/api/v1/alert-rules/{rule}", {**ok(ORGANISATION), "bob": 404}),
    "alert-rule-update": Row("patch", "/api/v1/alert-rules/{finance_rule}", ok(["carol"]), {"throttle_minutes": 5}),
    "alert-rule-replace": Row(
        "put", "/api/v1/alert-rules/{finance_rule}", ok(["carol"]), {"name": "Kills", "kind": "kill_switch"}
    ),
    "alert-rule-delete": Row("delete", "/api/v1/alert-rules/{finance_rule}", ok(["carol"], 204)),
    "alerts-list": Row("get", "/api/v1/alerts", ok(VIEWERS)),
    "alert-detail": Row("get", "/api/v1/alerts/{finance_alert}", ok(VIEWERS)),
    "alert-detail-other": Row("get", "/api/v1/alerts/{support_alert}", {**ok(ORGANISATION), "bob": 404}),
}


def fill(value, world):
    """Put the world's ids into a path or body template."""
    names = (
        "finance_agent",
        "decision",
        "approval",
        "run",
        "policy",
        "denied",
        "finance",
        "webhook",
        "finance_webhook",
        "capability",
        "spare_capability",
        "spare_provider",
        "support",
        "support_agent",
        "support_decision",
        "support_approval",
        "support_run",
        "finance_event",
        "support_event",
        "replay",
        "alice_token",
        "step",
        "support_step",
        "rule",
        "finance_rule",
        "finance_alert",
        "support_alert",
    )
    ids = {name: getattr(world, name).pk for name in names}
    if isinstance(value, str):
        formatted = value.format(**ids)
        return int(formatted) if value.startswith("{") and formatted.isdigit() else formatted
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


def call_undone(client, row: Row, world) -> int:
    """Make the call and roll back what it changed, so the next caller meets the same world."""
    undone = transaction.atomic()
    undone._from_testcase = True  # as Django's TestCase marks its own blocks: durable services may run inside
    with undone:
        response = getattr(client, row.method)(fill(row.path, world), fill(row.body, world), format="json")
        transaction.set_rollback(True)
    if response.status_code >= 400:
        assert set(response.json()) >= {"status", "code", "detail"}, response.content
    return response.status_code


@pytest.fixture
def world_and_a_denial(world, alice, carol):
    """The API's world, a denied Finance decision, which only a Supervisor of Finance may override, and
    webhook subscriptions to the whole organisation's events and to Finance's, and registry entries nothing
    depends on, to change and delete. Besides, what each scope rule needs a case of on both sides: an
    approval, an audit event and a run with a running step in Support as well as in Finance, a replay, alice's
    token."""
    world.denied = DecisionFactory(agent=world.finance_agent, verdict=Verdict.DENY)
    world.finance = world.finance_agent.department
    world.support = world.support_agent.department
    world.support_approval = Approval.objects.create(
        decision=world.support_decision,
        department=world.support,
        approver_role=ApproverRole.SUPERVISOR,
        deadline=world.approval.deadline,
    )
    keys.issue_agent_key(world.finance_agent, by=carol)
    keys.issue_agent_key(world.support_agent, by=carol)
    world.finance_event, world.support_event = (
        AuditEvent.objects.get(kind="agent.key_issued", department=department)
        for department in (world.finance, world.support)
    )
    world.replay = ReplayRun.objects.create(policy_ids=[world.policy.pk], days=7, requested_by=carol)
    world.alice_token, _ = tokens.issue_token(alice, "BI export", expires_at=dt.datetime.fromisoformat(NEXT_MONTH))
    world.step = world.run.steps.get()
    world.support_run = WorkflowRun.objects.create(workflow=world.workflow, started_by="test")
    world.support_step = StepRun.objects.create(
        run=world.support_run, template=world.step.template, agent=world.support_agent, status=StepRun.Status.RUNNING
    )
    world.webhook = webhooks.subscribe(HOOK["url"], HOOK["event_types"], by=carol)
    world.finance_webhook = webhooks.subscribe(HOOK["url"], HOOK["event_types"], by=carol, departments=[world.finance])
    world.capability = Capability.objects.get(code="invoice.approve")
    world.spare_capability = CapabilityFactory(code="spare.work")
    world.spare_provider = ModelProviderFactory(name="Spare AI")
    StepTemplateFactory(workflow=WorkflowTemplateFactory(slug="spare"), capability=world.capability)
    world.rule = AlertRule.objects.create(name="Every kill", kind=AlertRule.Kind.KILL_SWITCH)
    world.finance_rule = AlertRule.objects.create(name="Finance kills", kind=AlertRule.Kind.KILL_SWITCH)
    world.finance_rule.departments.set([world.finance])
    world.finance_alert, world.support_alert = (
        Alert.objects.create(
            rule=world.rule,
            subject_type="agent",
            subject_id=agent.pk,
            subject_name=agent.name,
            department=agent.department,
            summary=f"{agent.name} was stopped with the kill switch.",
            opened_at=dt.datetime.now(dt.UTC),
        )
        for agent in (world.finance_agent, world.support_agent)
    )
    return world


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_each_caller_gets_what_their_role_allows(row: Row, client_for, world_and_a_denial):
    world = world_and_a_denial
    # Given every kind of caller, authenticated as they would be
    clients = {caller: client_for(caller) for caller in CALLERS}

    # When each calls the endpoint
    got = {caller: call_undone(client, row, world) for caller, client in clients.items()}

    # Then each gets what their role allows: the listed status, else 401 for nobody and 403 for anyone else
    expected = {caller: row.allowed.get(caller, 401 if caller == "anonymous" else 403) for caller in CALLERS}
    assert got == expected


def api_operations() -> set[tuple[str, str]]:
    """Every method of every route under /api/v1/, as drf-spectacular finds them to build the schema
    (operations kept out of the schema included: leaving an endpoint undocumented keeps it in the matrix)."""
    endpoints = EndpointEnumerator().get_api_endpoints()
    return {(method, path) for path, _, method, _ in endpoints if path.startswith("/api/v1/")}


def operation_of(row: Row, operations: set[tuple[str, str]]) -> tuple[str, str] | None:
    """The operation a row calls: of the path templates its path fits, the one with the fewest parameters, as
    a literal route (approvals/mine) is served before a parameter (approvals/{pk})."""

    def fits(template: str) -> bool:
        parts, wanted = row.path.split("/"), template.split("/")
        if len(parts) != len(wanted):
            return False
        return all(w == p or w.startswith("{") for w, p in zip(wanted, parts, strict=True))

    method = row.method.upper()
    fitting = [template for verb, template in operations if verb == method and fits(template)]
    return (method, min(fitting, key=lambda template: template.count("{"))) if fitting else None


def test_every_api_operation_has_a_row():
    # Given every operation the API serves
    operations = api_operations()

    # When each row is matched to the operation it calls
    called = {name: operation_of(row, operations) for name, row in ROWS.items()}

    # Then every operation has a row, and every row calls an operation the API serves
    assert sorted(operations - set(called.values())) == []
    assert [name for name, operation in called.items() if operation is None] == []
