"""The one fast path for writing rows without the ORM's SQL compiler: the measured hot rows only.

Every other write goes through the ORM. The rows that take this path, and why:
- a decision and its audit event, on every evaluate: compiling those two INSERTs through the ORM cost about
  1.5 ms of CPU each time on this class of machine, most of what the database work itself costs;
- a workflow step's own writes (its run, steps, state, outcome), for the same reason;
- a decision's budget reservation (`add_within_budget`): the ORM's conditional UPDATE, a second one for a new
  month's first spend and the savepoint around them were half of `evaluate_action`'s CPU (bench/README.md);
- bulk ingest's decisions, outcomes and audit events: on PostgreSQL a batch of COPY_FROM rows or more goes
  in with COPY (Django's multi-row INSERT quotes every value in Python, 2-4 s for 1,000 decisions here),
  ids drawn from the table's sequence first in one query. Rows may be given as plain dicts of field
  values: building instances and preparing each value through its field cost more than the COPY itself.
- an OTLP export's spans (traces.ingest), one INSERT or COPY per export, for the same reason
  (bench/span_ingest.py); given as tuples of values, and a span sent again is skipped (`insert_new`).

Values go through each field's own `pre_save` and `get_db_prep_save` (or, for plain dicts, the adapter psycopg
uses for the same type), so what is stored is what `Model.objects.create` would store, on SQLite and
PostgreSQL alike. Model signals are not sent: nothing in Regent listens for saves of these rows; their live
events are announced by the audit table's trigger at commit (audit.events).
"""

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import cache, lru_cache

from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import AutoField, BigAutoField, Field, JSONField, Model

COPY_FROM = 100  # rows: below this a plain INSERT is as fast and one round trip shorter


def insert(objects: list[Model]) -> list[Model]:
    """Insert unsaved instances of one model, setting their ids; call inside a transaction."""
    if not objects:
        return objects
    if not _copies(len(objects)):
        _insert_statement(objects)
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
        _insert_statement(objects)
        for row, instance in zip(rows, objects, strict=True):
            row[meta.pk.attname] = instance.pk
        return rows
    if _auto_pk(model):
        for row, pk in zip(rows, _draw_ids(model, len(rows)), strict=True):
            row[meta.pk.attname] = pk
    fields = meta.concrete_fields
    prepare = [(field.attname, field.get_default, _preparer(field)) for field in fields]
    _copy(
        model,
        fields,
        ([prep(row[name] if name in row else default()) for name, default, prep in prepare] for row in rows),
    )
    return rows


def insert_new(model: type[Model], columns: tuple[str, ...], rows: Iterable[tuple], count: int) -> bool:
    """Insert `count` rows given as values for `columns` (field attnames; values as the model's attributes hold
    them), skipping any that a unique constraint finds stored already; the primary key is left to the database.

    On PostgreSQL a batch of COPY_FROM rows or more is one COPY, written as the rows come: given a generator, the
    database stores the first rows while the caller makes the next. The usual batch, nothing of it stored yet, pays
    nothing for the check. When the COPY meets a stored row (a resent batch), the batch is copied into a temporary
    table instead and inserted from there with ON CONFLICT DO NOTHING. Each attempt runs in a transaction of its
    own, or a savepoint inside the caller's. Returns True when every row is known to have gone in (the one COPY
    took them all); False when some may have been skipped.
    """
    if not count:
        return True
    if not _copies(count):
        with transaction.atomic():
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in rows], ignore_conflicts=True
            )
        return False
    fields = [model._meta.get_field(name) for name in columns]
    prepared = [(i, _preparer(field)) for i, field in enumerate(fields) if type(field) not in _NATIVE]
    written: list = []
    table = model._meta.db_table
    try:
        with transaction.atomic():
            _copy_into(table, fields, _kept(_prepared(rows, prepared), written))
        return True
    except IntegrityError:
        written += _prepared(rows, prepared)  # what the failed COPY had not reached yet
        quote = connection.ops.quote_name
        names, incoming, target = ", ".join(quote(f.column) for f in fields), f"incoming_{table}", quote(table)
        # Names come from model metadata; there are no values in these statements.
        create = f"CREATE TEMPORARY TABLE {quote(incoming)} AS SELECT {names} FROM {target} WITH NO DATA"  # noqa: S608
        insert = f"INSERT INTO {target} ({names}) SELECT {names} FROM {quote(incoming)} ON CONFLICT DO NOTHING"  # noqa: S608
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(create)
            _copy_into(incoming, fields, written)
            cursor.execute(insert)
            cursor.execute(f"DROP TABLE {quote(incoming)}")
        return False


def _prepared(rows: Iterable[tuple], prepared: list[tuple[int, Callable]]) -> Iterator[Sequence]:
    for row in rows:
        if prepared:
            row = list(row)
            for i, prepare in prepared:
                row[i] = prepare(row[i])
        yield row


def _kept(rows: Iterable, kept: list) -> Iterator:
    """The rows, each appended to `kept` as it passes."""
    for row in rows:
        kept.append(row)
        yield row


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


def add_within_budget(model: type[Model], pk: int, amount: Decimal, month: dt.date) -> bool:
    """Add `amount` to a budget holder's spend for `month` if that stays within its `monthly_budget`; whether it did.

    The holder's `month_spent` counts `spend_month` only, so a new month starts from nothing. One conditional
    UPDATE: atomic on PostgreSQL (the row lock re-checks the condition) and on SQLite (one writer at a time).
    """
    ops = connection.ops
    month_value, amount_value = ops.adapt_datefield_value(month), ops.adapt_decimalfield_value(amount)
    with connection.cursor() as cursor:
        cursor.execute(
            _budget_sql(model._meta.db_table),
            [month_value, amount_value, amount_value, month_value, pk, month_value, amount_value],
        )
        return cursor.rowcount == 1


@lru_cache(maxsize=8)
def _budget_sql(table: str) -> str:
    # The table name comes from model metadata; values are parameters.
    return (
        f"UPDATE {connection.ops.quote_name(table)} "  # noqa: S608
        "SET month_spent = CASE WHEN spend_month = %s THEN month_spent + %s ELSE %s END, spend_month = %s "
        "WHERE id = %s AND (CASE WHEN spend_month = %s THEN month_spent ELSE 0 END) + %s <= monthly_budget"
    )


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
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateTimeField,
    models.DecimalField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
}


def _copy(model: type[Model], fields: list[Field], rows: Iterable[list]) -> None:
    _copy_into(model._meta.db_table, fields, rows)


def _copy_into(table: str, fields: list[Field], rows: Iterable) -> None:
    """COPY the rows into the table; a constraint the rows break raises Django's IntegrityError."""
    wrapper = _connection()
    quote = wrapper.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
    with wrapper.wrap_database_errors, wrapper.cursor() as cursor, cursor.cursor.copy(sql) as copy:
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


def _insert_statement(objs: list[Model]) -> None:
    """Multi-row INSERT of unsaved instances of one model; an auto primary key is read back onto each one."""
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
