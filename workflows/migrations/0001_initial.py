import django.core.validators
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
    """Workflows and strategy move here from orchestration: their tables, indexes and rows stay as they are."""

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
                name='WorkflowTemplate',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=120, unique=True)),
                    ('slug', models.SlugField(max_length=80, unique=True)),
                    ('description', models.TextField(blank=True)),
                    ('sample_input', models.JSONField(blank=True, default=dict, help_text='Input for runs started from the admin or the demo, e.g. {"amount": 1200}.')),
                    ('enabled', models.BooleanField(default=True)),
                ],
                options={
                    'db_table': 'orchestration_workflowtemplate',
                    'ordering': ['name'],
                },
            ),
            migrations.CreateModel(
                name='StepTemplate',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('key', models.SlugField(help_text='Unique within the workflow; other steps name it to depend on it.', max_length=40)),
                    ('action', models.CharField(max_length=80, validators=[django.core.validators.RegexValidator('^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$', 'Use dotted lower-case words, such as invoice.approve.')])),
                    ('amount_field', models.CharField(blank=True, help_text="The key of the run's input that holds this step's amount, if any.", max_length=40)),
                    ('data_classes', models.JSONField(blank=True, default=list)),
                    ('depends_on', models.CharField(blank=True, help_text='Comma-separated keys of the steps that must succeed first.', max_length=200)),
                    ('position', models.PositiveSmallIntegerField(default=0)),
                    ('capability', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='step_templates', to='orchestration.capability')),
                    ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='workflows.workflowtemplate')),
                ],
                options={
                    'db_table': 'orchestration_steptemplate',
                    'ordering': ['workflow', 'position', 'key'],
                },
            ),
            migrations.CreateModel(
                name='StepRun',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('status', models.CharField(choices=[('pending', 'Pending'), ('routed', 'Routed'), ('awaiting_approval', 'Awaiting approval'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=20)),
                    ('routing', models.JSONField(blank=True, default=list, help_text="Every candidate's score breakdown.")),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('tried_agents', models.JSONField(blank=True, default=list)),
                    ('error', models.TextField(blank=True)),
                    ('output', models.JSONField(blank=True, default=dict)),
                    ('task_id', models.CharField(blank=True, editable=False, help_text="The Celery task doing the step's work, to revoke it.", max_length=64)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('routed_at', models.DateTimeField(blank=True, null=True)),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('updated_at', models.DateTimeField(auto_now=True)),
                    ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='step_runs', to='orchestration.agent')),
                    ('decision', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='step_run', to='governance.decision')),
                    ('template', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='workflows.steptemplate')),
                ],
                options={
                    'db_table': 'orchestration_steprun',
                    'ordering': ['run', 'template__position', 'pk'],
                },
            ),
            migrations.CreateModel(
                name='WorkflowRun',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('input', models.JSONField(blank=True, default=dict)),
                    ('status', models.CharField(choices=[('running', 'Running'), ('awaiting_approval', 'Awaiting approval'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='running', max_length=20)),
                    ('started_by', models.CharField(help_text='A person, an agent or the simulator.', max_length=200)),
                    ('started_at', models.DateTimeField(auto_now_add=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('parent_step', models.ForeignKey(blank=True, help_text='The step that delegated this work, when it was delegated.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='delegated_runs', to='workflows.steprun')),
                    ('workflow', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='workflows.workflowtemplate')),
                ],
                options={
                    'db_table': 'orchestration_workflowrun',
                    'ordering': ['-started_at'],
                    'permissions': [('start_workflowrun', 'Can start a workflow run')],
                },
            ),
            migrations.AddField(
                model_name='steprun',
                name='run',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='workflows.workflowrun'),
            ),
            migrations.CreateModel(
                name='Strategy',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('cost', models.PositiveSmallIntegerField(default=25, help_text='Prefer cheaper agents.', validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)])),
                    ('risk', models.PositiveSmallIntegerField(default=25, help_text='Prefer safer agents.', validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)])),
                    ('customer_satisfaction', models.PositiveSmallIntegerField(default=25, help_text='Prefer agents whose work customers rate higher.', validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)])),
                    ('resilience', models.PositiveSmallIntegerField(default=25, help_text='Prefer agents that succeed and stay available.', validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)])),
                    ('note', models.CharField(blank=True, help_text='Why the priorities changed.', max_length=200)),
                    ('is_active', models.BooleanField(default=False, editable=False)),
                    ('created_at', models.DateTimeField(auto_now_add=True)),
                    ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name_plural': 'strategies',
                    'db_table': 'orchestration_strategy',
                    'ordering': ['-created_at'],
                    'constraints': [models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('is_active',), name='one_active_strategy'), models.CheckConstraint(condition=models.Q(('cost__gt', 0), ('risk__gt', 0), ('customer_satisfaction__gt', 0), ('resilience__gt', 0), _connector='OR'), name='strategy_has_a_priority')],
                },
            ),
            migrations.AddConstraint(
                model_name='steprun',
                constraint=models.UniqueConstraint(fields=('run', 'template'), name='one_step_run_per_template'),
            ),
            migrations.AddIndex(
                model_name='workflowrun',
                index=models.Index(fields=['started_at'], name='workflow_run_started'),
            ),
            migrations.AddConstraint(
                model_name='steptemplate',
                constraint=models.UniqueConstraint(fields=('workflow', 'key'), name='step_key_unique_in_workflow'),
            ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            relabel("orchestration", "workflows", ("workflowtemplate", "steptemplate", "workflowrun", "steprun", "strategy")),
            relabel("workflows", "orchestration", ("workflowtemplate", "steptemplate", "workflowrun", "steprun", "strategy")),
        ),
    ]
