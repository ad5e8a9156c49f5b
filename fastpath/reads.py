"""Model instances from rows read with plain SQL, for the hot paths where the ORM's compiler costs most.

Compiling a `select_related` query costs a millisecond or more of CPU on this class of machine, several
times what the database takes to answer it. Statements written once per process read the same columns;
each value goes through the ORM's own converters, so callers get ordinary model instances.
"""

from functools import cache

from django.db import connection
from django.db.models import Model


def columns(model: type[Model], alias: str) -> str:
    """The model's concrete columns, qualified by `alias`, in the order `instances` expects."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def instances(row: tuple, models: tuple[type[Model], ...]) -> tuple[list[Model], tuple]:
    """One instance per model from consecutive runs of `row`'s values, and the values left over."""
    built, offset = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        built.append(_instance(model, fields, row[offset : offset + len(fields)]))
        offset += len(fields)
    return built, row[offset:]


def _instance(model: type[Model], fields, values) -> Model:
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in _converters(field):
            value = converter(value, field.get_col(model._meta.db_table), connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


@cache
def _converters(field) -> tuple:
    column = field.get_col(field.model._meta.db_table)
    return tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection))


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
