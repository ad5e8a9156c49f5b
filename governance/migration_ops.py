"""Migration operations that keep decisions flowing while a large table changes.

A plain CREATE INDEX blocks writes to its table until it is built (over a minute for 10 million
decisions), and every agent's decision is such a write. On PostgreSQL these build the index
CONCURRENTLY (the migration must say `atomic = False`); elsewhere (SQLite, the zero-config default)
they are the plain operations, or nothing where SQLite has no such index.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex, RunSQL


class AddIndexWithoutLocking(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RunSQLOnPostgreSQL(RunSQL):
    """SQL only PostgreSQL runs (an index SQLite has no method for); elsewhere nothing, both ways.

    Kept out of the models' state: SQLite rebuilds a table with every index its model declares.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
