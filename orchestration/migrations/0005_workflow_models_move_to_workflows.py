from django.db import migrations


class Migration(migrations.Migration):
    """Workflows and strategy now belong to the workflows app (state only: the tables stay)."""

    dependencies = [
        ("orchestration", "0004_workflow_run_started_index"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="workflowrun",
                    name="parent_step",
                ),
                migrations.RemoveField(
                    model_name="steptemplate",
                    name="capability",
                ),
                migrations.RemoveField(
                    model_name="steptemplate",
                    name="workflow",
                ),
                migrations.RemoveField(
                    model_name="strategy",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="workflowrun",
                    name="workflow",
                ),
                migrations.DeleteModel(
                    name="StepRun",
                ),
                migrations.DeleteModel(
                    name="StepTemplate",
                ),
                migrations.DeleteModel(
                    name="Strategy",
                ),
                migrations.DeleteModel(
                    name="WorkflowRun",
                ),
                migrations.DeleteModel(
                    name="WorkflowTemplate",
                ),
            ],
            database_operations=[],
        ),
    ]
