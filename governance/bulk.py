"""Set-based inserts for batches: the bulk ingest's decisions and their audit links.

On PostgreSQL a large batch goes in with COPY (Django's multi-row INSERT quotes every value in Python,
which was 2-4 s for 1,000 decisions here); ids come from the table's sequence first, one query for the
whole batch. Small batches (a decision and its audit link), and other databases, use governance.inserts.
"""

from django.db import connection, connections
from django.db.models import AutoField, BigAutoField, Model

from governance import inserts

COPY_FROM = 100  # rows: below this a plain INSERT is as fast and one round trip shorter


def insert(objects: list[Model]) -> list[Model]:
    """Insert unsaved instances of one model, setting their ids; call inside a transaction."""
    if not objects:
        return objects
    model = type(objects[0])
    if connection.vendor != "postgresql" or len(objects) < COPY_FROM:
        inserts.insert(objects)
        return objects
    wrapper = connections[connection.alias]  # the connection itself: the proxy costs a lookup per value
    meta, quote = model._meta, wrapper.ops.quote_name
    if isinstance(meta.pk, AutoField | BigAutoField):
        _draw_ids(meta.db_table, meta.pk.column, objects)
    fields = meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    with wrapper.cursor() as cursor, cursor.cursor.copy(
        f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for instance in objects:
            copy.write_row([field.get_db_prep_save(field.pre_save(instance, True), wrapper) for field in fields])
    for instance in objects:
        instance._state.adding, instance._state.db = False, wrapper.alias
    return objects


def _draw_ids(table: str, column: str, objects: list[Model]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, len(objects)],
        )
        for instance, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            instance.pk = pk
