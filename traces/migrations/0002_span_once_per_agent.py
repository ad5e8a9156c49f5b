# A span is stored once per agent: duplicates an exporter's retries left are removed (the first kept), then the
# unique constraint replaces the (trace_id, started_at) index, serving a trace's spans in its place.

from django.db import migrations, models

REMOVE_DUPLICATES = """
DELETE FROM traces_span WHERE id NOT IN (
    SELECT MIN(id) FROM traces_span GROUP BY trace_id, agent_id, span_id
)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('orchestration', '0005_workflow_models_move_to_workflows'),
        ('traces', '0001_initial'),
    ]

    operations = [
        migrations.RunSQL(REMOVE_DUPLICATES, migrations.RunSQL.noop, elidable=True),
        migrations.RemoveIndex(
            model_name='span',
            name='span_trace_started',
        ),
        migrations.AddConstraint(
            model_name='span',
            constraint=models.UniqueConstraint(fields=('trace_id', 'agent', 'span_id'), name='span_once_per_agent'),
        ),
    ]
