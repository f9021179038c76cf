"""Hand-written SQL for the write every event makes: moving a counter on and reading its
new value back in one statement (``UPDATE ... RETURNING``), where Tortoise needs an update
and then a select, a round trip more inside every event's transaction; and the arguments
of the PostgreSQL functions that do a whole transaction's writes in one call.

Like ``fast_reads``, statements are built once per shape and dialect from the model's
metadata, and values go through the model's fields, as a Tortoise update would send them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from tortoise.models import Model


def jsonb_argument(value: object) -> str:
    """``value`` as the text of a JSONB argument to a PostgreSQL function: orjson writes
    datetimes (RFC 3339), UUIDs and enums (their values) as PostgreSQL reads them into
    the columns' types (``jsonb_populate_record``)."""
    return orjson.dumps(value).decode()


@cache
def _statement(
    model: type[Model], counter: str, where: tuple[str, ...], changed: tuple[str, ...]
) -> str:
    columns = model._meta.fields_db_projection
    count = len(changed) + len(where)
    if model._meta.db.capabilities.dialect == "postgres":
        marks = [f"${number}" for number in range(1, count + 1)]
    else:
        marks = ["?"] * count
    column = f'"{columns[counter]}"'
    assignments = [f"{column} = {column} + 1"]
    assignments += [
        f'"{columns[name]}" = {mark}' for name, mark in zip(changed, marks, strict=False)
    ]
    conditions = [
        f'"{columns[name]}" = {mark}'
        for name, mark in zip(where, marks[len(changed) :], strict=True)
    ]
    # Names from the model's metadata only; every value is a bound parameter.
    return (
        f'UPDATE "{model._meta.db_table}" SET {", ".join(assignments)} '  # noqa: S608
        f"WHERE {' AND '.join(conditions)} RETURNING {column}"
    )


async def increment(
    model: type[Model], counter: str, where: dict[str, Any], changes: dict[str, Any]
) -> int | None:
    """Add one to ``counter`` and apply ``changes`` in the rows ``where`` (equalities)
    selects; the counter's new value, or None when no row matched."""
    sql = _statement(model, counter, tuple(where), tuple(changes))
    fields = model._meta.fields_map
    values = [fields[name].to_db_value(value, model) for name, value in changes.items()]
    values += [fields[name].to_db_value(value, model) for name, value in where.items()]
    rows = await model._meta.db.execute_query_dict(sql, values)
    return int(rows[0][model._meta.fields_db_projection[counter]]) if rows else None
