"""INSERT and UPDATE statements written without the ORM's SQL compiler, for the rows every decision writes.

A decision writes a `Decision` and an `AuditEvent`. Compiling those two INSERTs through the ORM cost about
1.5 ms of CPU each time on this class of machine, most of what the database work itself costs. The
values still go through each field's own `pre_save` and `get_db_prep_save`, so what is stored is what
`Model.objects.create` would store, on SQLite and PostgreSQL alike. Model signals are not sent: no code in
Regent listens for saves of these rows (their events go out through `governance.events` after commit).
A workflow step's own writes (its outcome, its state) go the same way, for the same reason.
"""

from functools import cache, lru_cache

from django.db import connection
from django.db.models import Model


def insert(objs: list[Model]) -> None:
    """Insert unsaved instances of one model; an auto primary key is read back onto each instance."""
    if not objs:
        return
    model = type(objs[0])
    pk = model._meta.pk
    fields = _fields(model)
    returning = pk.db_returning and pk not in fields
    batch_size = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params = [
                field.get_db_prep_save(field.pre_save(obj, add=True), connection) for obj in batch for field in fields
            ]
            cursor.execute(_sql(model, len(batch), returning), params)
            if returning:
                for obj, (value,) in zip(batch, cursor.fetchall(), strict=True):
                    setattr(obj, pk.attname, value)
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def insert_if_absent(obj: Model) -> bool:
    """Insert one unsaved instance unless a row already holds one of its unique values; whether it did.

    One statement where `get_or_create` takes four (a read, then an insert inside a savepoint).
    """
    model, pk = type(obj), type(obj)._meta.pk
    params = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in _fields(model)]
    returning = connection.ops.quote_name(pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{_sql(model, 1, False)} ON CONFLICT DO NOTHING RETURNING {returning}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    setattr(obj, pk.attname, row[0])
    obj._state.adding, obj._state.db = False, connection.alias
    return True


def update(obj: Model, field_names: list[str]) -> None:
    """Write the named fields of a saved instance, as `save(update_fields=...)` would (`auto_now` included)."""
    model = type(obj)
    fields = [model._meta.get_field(name) for name in field_names]
    params = [field.get_db_prep_save(field.pre_save(obj, add=False), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, tuple(field_names)), [*params, obj.pk])


@cache
def _fields(model: type[Model]) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning))


@lru_cache(maxsize=64)
def _sql(model: type[Model], rows: int, returning: bool) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Names come from model metadata; values are parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)}"
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql


@lru_cache(maxsize=64)
def _update_sql(model: type[Model], field_names: tuple[str, ...]) -> str:
    quote, meta = connection.ops.quote_name, model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in field_names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
