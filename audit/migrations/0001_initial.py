import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def relabel(old: str, new: str, models: tuple[str, ...]):
    """Content types (and so permissions, and groups holding them) follow the models to their new app."""

    def run(apps, schema_editor):
        apps.get_model("contenttypes", "ContentType").objects.filter(app_label=old, model__in=models).update(
            app_label=new
        )

    return run



class Migration(migrations.Migration):
    """The audit log's models move here from governance: their tables, triggers and rows stay as they are."""

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('governance', '0010_audit_events_notify'),
        ('orchestration', '0004_workflow_run_started_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='AuditChainHead',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('seq', models.BigIntegerField(default=0)),
                    ('hash', models.CharField(max_length=64)),
                ],
                options={
                    'db_table': 'governance_auditchainhead',
                },
            ),
            migrations.CreateModel(
                name='AuditEvent',
                fields=[
                    ('seq', models.BigIntegerField(primary_key=True, serialize=False)),
                    ('occurred_at', models.DateTimeField(db_index=True)),
                    ('actor_label', models.CharField(help_text='Who acted: a person, an agent or the system.', max_length=200)),
                    ('kind', models.CharField(max_length=60)),
                    ('subject_type', models.CharField(max_length=60)),
                    ('subject_id', models.CharField(max_length=64)),
                    ('before', models.JSONField(blank=True, null=True)),
                    ('after', models.JSONField(blank=True, null=True)),
                    ('prev_hash', models.CharField(max_length=64)),
                    ('hash', models.CharField(max_length=64)),
                    ('actor', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('department', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='orchestration.department')),
                ],
                options={
                    'db_table': 'governance_auditevent',
                    'ordering': ['seq'],
                    'permissions': [('export_evidence', 'Can export signed evidence packs')],
                    'indexes': [models.Index(fields=['subject_type', 'subject_id'], name='governance__subject_df6a69_idx'), models.Index(fields=['kind', 'occurred_at'], name='auditevent_kind_occurred')],
                },
            ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            relabel("governance", "audit", ("auditevent", "auditchainhead")),
            relabel("audit", "governance", ("auditevent", "auditchainhead")),
        ),
    ]
