"""Retention archives, and the one exception to the audit log's append-only trigger.

On PostgreSQL the row trigger now lets a DELETE through only inside a transaction that set `regent.retention` to
'on' (SET LOCAL, as audit.retention's delete does), and a statement trigger then refuses the whole statement if it
removed an event after the cut of every archive recorded as written and verified but not yet deleted. Every UPDATE,
and every other DELETE, is still refused, whoever asks. The cut is read once per statement, from the transition
table: read for each row, it tripled the delete's time (bench/retention.py).
"""

import django.db.models.deletion
from django.db import migrations, models


POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION regent_audit_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('regent.retention', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'governance_auditevent is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE OR REPLACE FUNCTION regent_audit_retention_cut() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM removed WHERE seq > (
                SELECT coalesce(max(seq), 0) FROM audit_retentionarchive WHERE deleted_at IS NULL
            )
        ) THEN
            RAISE EXCEPTION 'governance_auditevent is append-only: DELETE refused after the recorded retention cut'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER governance_auditevent_retention_cut
    AFTER DELETE ON governance_auditevent
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION regent_audit_retention_cut();
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS governance_auditevent_retention_cut ON governance_auditevent;",
    "DROP FUNCTION IF EXISTS regent_audit_retention_cut();",
    """
    CREATE OR REPLACE FUNCTION regent_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'governance_auditevent is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_checkpoints_and_verification_runs'),
        ('governance', '0011_audit_models_move_to_audit'),
    ]

    operations = [
        migrations.CreateModel(
            name='RetentionArchive',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_seq', models.BigIntegerField(help_text="The first event archived (the previous cut's seq + 1).")),
                ('seq', models.BigIntegerField(help_text='The cut: the last event archived. The chain continues after it.')),
                ('prev_hash', models.CharField(help_text='The hash the first archived event links to.', max_length=64)),
                ('hash', models.CharField(help_text="The cut event's hash: the next event links to it.", max_length=64)),
                ('location', models.CharField(help_text='Where the archive is, e.g. file:///srv/archive/….gz.', max_length=500)),
                ('sha256', models.CharField(help_text="Of the archive's bytes as written and verified.", max_length=64)),
                ('records', models.JSONField(default=dict, help_text='How many rows of each table the archive holds.')),
                ('verified_at', models.DateTimeField(help_text='When the archive was read back and found to verify.')),
                ('deleted_at', models.DateTimeField(blank=True, help_text='When its records were deleted.', null=True)),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='audit.checkpoint')),
            ],
            options={
                'ordering': ['-seq', '-id'],
            },
        ),
        migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE)),
    ]
