"""Upgrading a database laid out by the two-app layout (audit log in governance, workflows in orchestration)
to the layered one: every row stays where it was, and roles keep the permissions they held.

The models moved apps without their tables moving (state-only migrations, tables pinned), and the content
types were relabelled in place, so the permissions a group holds are the same rows under the new labels.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import AuditEvent
from workflows.models import StepRun, Strategy, WorkflowRun

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the upgrade is tested on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

OLD_LEAVES = [("governance", "0010_audit_events_notify"), ("orchestration", "0004_workflow_run_started_index")]
MOVED_TO = ("audit", "workflows")


def migrate_to_old_layout():
    """Unapply the move (and what depends on it); the historical models of the old layout."""
    executor = MigrationExecutor(connection)
    executor.migrate([(app, None) for app in MOVED_TO])
    # What is applied now is the old layout: the move and every migration that depends on it were unapplied
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert set(OLD_LEAVES) <= set(applied)
    return executor.loader.project_state(list(applied)).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def seed_old_layout(apps) -> dict:
    """Rows as today's main would hold them, written through the old layout's historical models."""
    department = apps.get_model("orchestration", "Department").objects.create(
        name="Finance", slug="finance", monthly_budget=1000
    )
    capability = apps.get_model("orchestration", "Capability").objects.create(code="invoice.read")
    provider = apps.get_model("orchestration", "ModelProvider").objects.create(name="Acme", signing_secret="s" * 32)
    agent = apps.get_model("orchestration", "Agent").objects.create(
        name="Ledger", slug="ledger", department=department, provider=provider, monthly_budget=100
    )
    workflow = apps.get_model("orchestration", "WorkflowTemplate").objects.create(name="Invoices", slug="invoices")
    step = apps.get_model("orchestration", "StepTemplate").objects.create(
        workflow=workflow, key="read", capability=capability, action="invoice.read", position=1
    )
    run = apps.get_model("orchestration", "WorkflowRun").objects.create(workflow=workflow, input={"amount": 120})
    step_run = apps.get_model("orchestration", "StepRun").objects.create(run=run, template=step, agent=agent)
    strategy = apps.get_model("orchestration", "Strategy").objects.create(
        cost=40, risk=30, customer_satisfaction=20, resilience=10, is_active=True
    )
    event = apps.get_model("governance", "AuditEvent").objects.create(
        seq=10_001,
        occurred_at=timezone.now(),
        actor_label="system",
        kind="agent.status_changed",
        subject_type="agent",
        subject_id=str(agent.pk),
        department=department,
        hash="f" * 64,
        prev_hash="e" * 64,
    )
    content_types = apps.get_model("contenttypes", "ContentType").objects
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type=content_types.get(app_label="orchestration", model="workflowrun"), codename="view_workflowrun"
    )
    auditing = apps.get_model("auth", "Permission").objects.get(
        content_type=content_types.get(app_label="governance", model="auditevent"), codename="view_auditevent"
    )
    group = apps.get_model("auth", "Group").objects.create(name="Run readers")
    group.permissions.add(permission, auditing)
    return {"run": run.pk, "step_run": step_run.pk, "strategy": strategy.pk, "event": event.pk, "group": group.pk}


def test_a_database_of_the_old_layout_upgrades_with_its_rows_and_permissions():
    # Given a database at the old layout, holding workflows, a strategy, an audit event and a group's permissions
    old_apps = migrate_to_old_layout()
    assert ContentType.objects.filter(app_label="orchestration", model="workflowrun").exists()
    ids = seed_old_layout(old_apps)

    # When it is migrated to the new layout
    migrate_to_latest()

    # Then every row is read through the moved models, from the same tables
    run = WorkflowRun.objects.get(pk=ids["run"])
    assert run.input == {"amount": 120}
    assert StepRun.objects.get(pk=ids["step_run"]).run_id == run.pk
    assert Strategy.objects.get(pk=ids["strategy"]).cost == 40
    assert AuditEvent.objects.get(pk=ids["event"]).kind == "agent.status_changed"
    # and the content types followed the models, so the group holds the same permissions under the new labels
    assert not ContentType.objects.filter(app_label="orchestration", model="workflowrun").exists()
    assert not ContentType.objects.filter(app_label="governance", model="auditevent").exists()
    reader = User.objects.create_user("rita")
    reader.groups.add(Group.objects.get(pk=ids["group"]))
    assert reader.has_perm("workflows.view_workflowrun")
    assert reader.has_perm("audit.view_auditevent")
