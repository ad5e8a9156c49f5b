"""A trigram index of the text that decision search reads, on PostgreSQL (governance.filtersets).

The searched columns joined by newlines, in one GIN index of pg_trgm's trigrams: an ILIKE '%term%' on exactly
this expression is answered from the index, so a search costs its matches rather than the decisions of its
window. One index, not one per column: each is paid again on every decision written. Built CONCURRENTLY, so
decisions keep flowing while it is built (5 minutes for 2 million decisions on a loaded 2-core machine).

pg_trgm must be installed in the database: `CREATE EXTENSION` needs a superuser, or on PostgreSQL 13 and later
a role that may create objects in the database, as pg_trgm is a trusted extension (docs/deployment.md). Where
it is installed already, nothing more is asked. SQLite, the zero-configuration default, searches without it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from governance.migration_ops import RunSQLOnPostgreSQL

# governance.filtersets spells the same expression in its queries; a migration keeps its own copy
SEARCHED_TEXT = "(action || E'\\n' || resource || E'\\n' || explanation)"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("governance", "0013_approval_pending_indexes"),
    ]

    operations = [
        TrigramExtension(),
        RunSQLOnPostgreSQL(
            [
                # A build that failed half-way (interrupted, or a deadlock) leaves an invalid index behind: replace it
                "DROP INDEX CONCURRENTLY IF EXISTS decision_searched_text_trgm",
                "CREATE INDEX CONCURRENTLY decision_searched_text_trgm ON governance_decision "
                f"USING gin ({SEARCHED_TEXT} gin_trgm_ops)",
            ],
            "DROP INDEX CONCURRENTLY IF EXISTS decision_searched_text_trgm",
        ),
    ]
