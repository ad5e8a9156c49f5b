"""On PostgreSQL every insert into the audit log notifies the live stream, as part of its transaction.

PostgreSQL delivers a transaction's notifications when it commits, and those of different transactions in
the order they committed. Appends hold the chain head until commit, so the stream servers hear events in
`seq` order, with nothing to wait for: publishing from Python after commit raced between processes (about
5% of events arrived out of order at 100/s, and the events after each one waited for it).

The payload carries the rows' columns that make a stream event (`governance.events.from_notification`)
when they fit in a notification (under 8,000 bytes); otherwise it names the range of `seq`, and the servers
read those rows back. SQLite, the zero-configuration default, publishes in process instead.
"""

from django.db import migrations

CHANNEL = "regent_events"  # governance.events.NOTIFY_CHANNEL; a migration keeps its own copy
CARRIED_ROWS = 20  # more rows than this would not fit in a notification anyway

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION regent_audit_notify() RETURNS trigger AS $$
    DECLARE
        payload text;
        appended_rows bigint;
        first_seq bigint;
        last_seq bigint;
    BEGIN
        SELECT count(*), min(seq), max(seq) INTO appended_rows, first_seq, last_seq FROM appended;
        IF appended_rows = 0 THEN
            RETURN NULL;
        END IF;
        IF appended_rows <= {CARRIED_ROWS} THEN
            SELECT json_agg(e ORDER BY e.seq)::text INTO payload FROM (
                SELECT seq, kind, occurred_at, department_id, subject_type, subject_id, "after" FROM appended
            ) e;
        END IF;
        IF payload IS NULL OR octet_length(payload) >= 8000 THEN
            payload := json_build_object('from', first_seq, 'to', last_seq)::text;
        END IF;
        PERFORM pg_notify('{CHANNEL}', payload);
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER governance_auditevent_notify
    AFTER INSERT ON governance_auditevent
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION regent_audit_notify();
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS governance_auditevent_notify ON governance_auditevent;",
    "DROP FUNCTION IF EXISTS regent_audit_notify();",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("governance", "0009_outcome_reported_by")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
