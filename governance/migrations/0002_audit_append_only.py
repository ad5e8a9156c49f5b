"""On PostgreSQL the audit log refuses UPDATE and DELETE at the database, whoever asks.

TRUNCATE is left to privileges (revoke it from the application's role in production): test
databases are reset with it. SQLite, the zero-configuration default, gets no trigger.
"""

from django.db import migrations

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION regent_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'governance_auditevent is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER governance_auditevent_append_only
    BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION regent_audit_append_only();
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent;",
    "DROP FUNCTION IF EXISTS regent_audit_append_only();",
]
def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


def create_chain_head(apps, schema_editor):
    apps.get_model("governance", "AuditChainHead").objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES}),
            _run({"postgresql": POSTGRES_REVERSE}),
        ),
        migrations.RunPython(create_chain_head, migrations.RunPython.noop),
    ]
