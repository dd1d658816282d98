"""Bulk UPDATE of many rows with different values, in one statement.

Django's QuerySet.bulk_update builds a CASE WHEN per field and row, which costs far more
in Python than the database spends applying it (a batch of 500 cases took ~1 s). Here
PostgreSQL gets one `UPDATE ... FROM unnest(...)` with one typed array per column; other
databases (SQLite, in-process) get an executemany of a plain UPDATE by primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connections, router
from django.db.models import Field, Model


def bulk_update_rows(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write `fields` of every object in `objs` (all of one model) to its row by primary key.

    Values go through each field's get_db_prep_save, exactly as Model.save would write
    them. No signals, no auto_now: callers set such fields themselves."""
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    db = router.db_for_write(model)
    connection = connections[db]
    concrete = [cast("Field[Any, Any]", meta.get_field(name)) for name in fields]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [(f, quote(str(f.column))) for f in concrete]

    def prep(field: Any, obj: Model) -> Any:
        return field.get_db_prep_save(getattr(obj, field.attname), connection=connection)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = [[prep(pk, o) for o in objs]]
            casts = [f"%s::{pk.db_type(connection)}[]"]
            for field, _col in columns:
                arrays.append([prep(field, o) for o in objs])
                casts.append(f"%s::{field.db_type(connection)}[]")
            names = ", ".join(["_pk", *(f"_{i}" for i in range(len(columns)))])
            sets = ", ".join(f"{col} = v._{i}" for i, (_f, col) in enumerate(columns))
            sql = (
                f"UPDATE {table} SET {sets} FROM unnest({', '.join(casts)}) "  # noqa: S608
                f"AS v({names}) WHERE {table}.{quote(pk.column)} = v._pk"
            )
            cursor.execute(sql, arrays)
            return len(objs)
        sets = ", ".join(f"{col} = %s" for _f, col in columns)
        sql = f"UPDATE {table} SET {sets} WHERE {quote(pk.column)} = %s"  # noqa: S608
        cursor.executemany(sql, [[*(prep(f, o) for f, _c in columns), prep(pk, o)] for o in objs])
        return len(objs)


def bulk_insert_rows(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> int:
    """INSERT every object of `objs` (one model, primary keys from the database) in one
    statement per 5,000 rows; primary keys are not read back (use bulk_create where they
    are needed). On PostgreSQL the values travel as one typed array per column
    (`INSERT ... SELECT FROM unnest`), which is several times cheaper in Python than a
    multi-row VALUES list; elsewhere Django's bulk_create does the work."""
    if not objs:
        return 0
    model = type(objs[0])
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts, batch_size=1000)
        return len(objs)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    for obj in objs:
        # The same preparation save() does: FK ids from related objects, defaults, auto_now.
        obj._prepare_related_fields_for_save(operation_name="bulk_insert_rows")  # type: ignore[attr-defined]
        for f in fields:
            setattr(obj, f.attname, f.pre_save(obj, add=True))
    casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    columns = ", ".join(quote(f.column) for f in fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({casts}){conflict}"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(objs), 5000):
            chunk = objs[start : start + 5000]
            cursor.execute(
                sql,
                [
                    [
                        f.get_db_prep_save(getattr(o, f.attname), connection=connection)
                        for o in chunk
                    ]
                    for f in fields
                ],
            )
    return len(objs)
