from django.db import migrations


class Migration(migrations.Migration):
    """The audit log's models now belong to the audit app (state only: the tables stay)."""

    dependencies = [
        ("governance", "0010_audit_events_notify"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="AuditChainHead",
                ),
                migrations.DeleteModel(
                    name="AuditEvent",
                ),
            ],
            database_operations=[],
        ),
    ]
