"""Set-based writes for batches: the bulk ingest's decisions, outcomes and audit links.

On PostgreSQL a large batch goes in with COPY (Django's multi-row INSERT quotes every value in Python,
which was 2-4 s for 1,000 decisions here); ids come from the table's sequence first, one query for the
whole batch. Rows can be given as plain dicts of field values: building a model instance and preparing
each value through its field cost more than the COPY itself for 1,000 decisions. Small batches, and
other databases, go through governance.inserts with the fields' own preparation.
"""

import json
from collections.abc import Callable, Iterable

from django.db import connection, connections, models
from django.db.models import AutoField, BigAutoField, Field, JSONField, Model

from governance import inserts

COPY_FROM = 100  # rows: below this a plain INSERT is as fast and one round trip shorter


def insert(objects: list[Model]) -> list[Model]:
    """Insert unsaved instances of one model, setting their ids; call inside a transaction."""
    if not objects:
        return objects
    if not _copies(len(objects)):
        inserts.insert(objects)
        return objects
    model, wrapper = type(objects[0]), _connection()
    fields = model._meta.concrete_fields
    if _auto_pk(model):
        for instance, pk in zip(objects, _draw_ids(model, len(objects)), strict=True):
            instance.pk = pk
    _copy(model, fields, ([f.get_db_prep_save(f.pre_save(o, True), wrapper) for f in fields] for o in objects))
    for instance in objects:
        instance._state.adding, instance._state.db = False, wrapper.alias
    return objects


def insert_rows(model: type[Model], rows: list[dict]) -> list[dict]:
    """Insert rows of one model given as {field attname: value}; an auto primary key is set on each row.

    Values are what the model's attributes would hold (JSON fields as Python objects, aware datetimes);
    a field missing from a row gets its default. Call inside a transaction.
    """
    if not rows:
        return rows
    meta = model._meta
    if not _copies(len(rows)):
        objects = [model(**row) for row in rows]
        inserts.insert(objects)
        for row, instance in zip(rows, objects, strict=True):
            row[meta.pk.attname] = instance.pk
        return rows
    if _auto_pk(model):
        for row, pk in zip(rows, _draw_ids(model, len(rows)), strict=True):
            row[meta.pk.attname] = pk
    fields = meta.concrete_fields
    prepare = [(field.attname, field.get_default, _preparer(field)) for field in fields]
    _copy(model, fields, ([prep(row[name] if name in row else default()) for name, default, prep in prepare]
                          for row in rows))  # fmt: skip
    return rows


def ids_by(model: type[Model], column: str, values: list[str], **equal: int) -> dict[str, int]:
    """{value: primary key} of the rows whose `column` is among `values` and that match `equal`.

    On PostgreSQL one `= ANY(array)` parameter: compiling an `IN` of 1,000 parameters through the ORM
    cost 30 ms.
    """
    if not values:
        return {}
    if connection.vendor != "postgresql":
        return dict(model.objects.filter(**equal, **{f"{column}__in": values}).values_list(column, "pk"))
    quote, meta = connection.ops.quote_name, model._meta
    conditions = [f"{quote(meta.get_field(name).column)} = %s" for name in equal]
    # Names come from model metadata; values are parameters.
    sql = (
        f"SELECT {quote(meta.get_field(column).column)}, {quote(meta.pk.column)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {' AND '.join([*conditions, f'{quote(meta.get_field(column).column)} = ANY(%s)'])}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*equal.values(), list(values)])
        return dict(cursor.fetchall())


def _copies(count: int) -> bool:
    return connection.vendor == "postgresql" and count >= COPY_FROM


def _connection():
    return connections[connection.alias]  # the connection itself: the proxy costs a lookup per value


def _auto_pk(model: type[Model]) -> bool:
    return isinstance(model._meta.pk, AutoField | BigAutoField)


def _preparer(field: Field) -> Callable:
    """How a plain value is written by COPY: JSON as text; what psycopg adapts natively as is."""
    if type(field) is JSONField:
        dumps = json.JSONEncoder().encode if field.encoder is None else field.encoder().encode
        return lambda value: None if value is None else ("[]" if value == [] else "{}" if value == {} else dumps(value))
    if type(field) in _NATIVE:
        return lambda value: value
    wrapper = _connection()
    return lambda value: field.get_db_prep_save(value, wrapper)


# Field classes whose plain values psycopg writes exactly as Django would store them (subclasses may not).
_NATIVE = {
    models.AutoField, models.BigAutoField, models.BigIntegerField, models.CharField, models.DateTimeField,
    models.DecimalField, models.ForeignKey, models.IntegerField, models.PositiveIntegerField,
    models.PositiveSmallIntegerField, models.SmallIntegerField, models.TextField,
}  # fmt: skip


def _copy(model: type[Model], fields: list[Field], rows: Iterable[list]) -> None:
    wrapper = _connection()
    quote = wrapper.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with wrapper.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _draw_ids(model: type[Model], count: int) -> list[int]:
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(nextval(pg_get_serial_sequence(%s, %s))) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return cursor.fetchone()[0]
