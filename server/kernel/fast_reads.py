"""Hand-written SQL for the hottest reads (a snapshot, a plan's version), through
Tortoise's own connection and field converters.

Tortoise builds every query anew through pypika: about 2 ms of Python per query on the
benchmark machine, where the database answers in a tenth of that. The statements here are
built once per shape and dialect and reused; values come back through the model's fields,
exactly as a Tortoise query would return them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tortoise.models import Model

_OPERATORS = {"": "=", "gt": ">"}


@cache
def _statement(
    model: type[Model],
    fields: tuple[str, ...],
    where: tuple[str, ...],
    order_by: str | None,
    limit: int,
) -> str:
    columns = model._meta.fields_db_projection
    dialect = model._meta.db.capabilities.dialect
    if dialect == "postgres":
        marks = [f"${number}" for number in range(1, len(where) + 1)]
    else:
        marks = ["?"] * len(where)
    conditions = []
    for condition, mark in zip(where, marks, strict=True):
        name, _, operator = condition.partition("__")
        conditions.append(f'"{columns[name]}" {_OPERATORS[operator]} {mark}')
    selected = ", ".join(f'"{columns[name]}"' for name in fields)
    order = ""
    if order_by is not None:
        descending = order_by.startswith("-")
        order = f' ORDER BY "{columns[order_by.lstrip("-")]}"' + (" DESC" if descending else "")
    # Names from the model's metadata only; every value is a bound parameter.
    table = model._meta.db_table
    where_sql = " AND ".join(conditions)
    return f'SELECT {selected} FROM "{table}" WHERE {where_sql}{order} LIMIT {int(limit)}'  # noqa: S608


async def select_rows(
    model: type[Model],
    fields: tuple[str, ...],
    where: dict[str, Any],
    order_by: str | None = None,
    limit: int = 1,
) -> list[dict[str, Any]]:
    """``model.filter(**where).order_by(order_by).limit(limit).values(*fields)``, faster.
    Conditions are equalities, or ``name__gt``."""
    sql = _statement(model, fields, tuple(where), order_by, limit)
    _, rows = await model._meta.db.execute_query(sql, list(where.values()))
    converters = [model._meta.fields_map[name].to_python_value for name in fields]
    return [
        {
            name: convert(row[index])
            for index, (name, convert) in enumerate(zip(fields, converters, strict=True))
        }
        for row in rows
    ]


async def first_row(
    model: type[Model],
    fields: tuple[str, ...],
    where: dict[str, Any],
    order_by: str | None = None,
) -> dict[str, Any] | None:
    """``model.filter(**where).order_by(order_by).first().values(*fields)``, faster."""
    rows = await select_rows(model, fields, where, order_by)
    return rows[0] if rows else None


@dataclass(frozen=True)
class Newest:
    """The newest row of ``model`` (by ``newest_by``) whose ``link`` column names the
    selected row and whose ``where`` columns hold these values; ``fields`` must include
    the primary key (a missing row reads as NULLs)."""

    model: type[Model]
    fields: tuple[str, ...]
    link: str
    where: tuple[tuple[str, Any], ...]
    newest_by: str


@dataclass(frozen=True)
class JoinedRow:
    """A row and its ``Newest`` row as the database returned them: ``values`` is hashable,
    so it can key a cache of what is rendered from it, and is converted only when needed."""

    values: tuple[Any, ...]
    model: type[Model]
    fields: tuple[str, ...]
    newest: Newest

    def converted(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The row's fields and the newest row's (None when there is none), as Python values."""
        own = _converted(self.model, self.fields, self.values[: len(self.fields)])
        joined = _converted(self.newest.model, self.newest.fields, self.values[len(self.fields) :])
        return own, joined if joined[self.newest.model._meta.pk_attr] is not None else None


def _converted(model: type[Model], fields: tuple[str, ...], values: Any) -> dict[str, Any]:
    fields_map = model._meta.fields_map
    return {
        name: fields_map[name].to_python_value(value)
        for name, value in zip(fields, values, strict=True)
    }


@cache
def _joined_statement(
    model: type[Model], fields: tuple[str, ...], where: tuple[str, ...], newest: Newest
) -> str:
    own = model._meta
    other = newest.model._meta
    postgres = own.db.capabilities.dialect == "postgres"
    count = len(where) + len(newest.where)
    # In the order they appear: the newest row's conditions, then the row's.
    marks = iter([f"${number}" for number in range(1, count + 1)] if postgres else ["?"] * count)
    columns = [f'o."{own.fields_db_projection[name]}"' for name in fields]
    columns += [f'n."{other.fields_db_projection[name]}"' for name in newest.fields]
    newest_conditions = [f'p."{other.fields_db_projection[newest.link]}" = o."{own.db_pk_column}"']
    newest_conditions += [
        f'p."{other.fields_db_projection[name]}" = {next(marks)}' for name, _ in newest.where
    ]
    conditions = [f'o."{own.fields_db_projection[name]}" = {next(marks)}' for name in where]
    pick_newest = (
        f'SELECT p."{other.db_pk_column}" FROM "{other.db_table}" AS p '  # noqa: S608
        f"WHERE {' AND '.join(newest_conditions)} "
        f'ORDER BY p."{other.fields_db_projection[newest.newest_by]}" DESC LIMIT 1'
    )
    # Names from the models' metadata only; every value is a bound parameter.
    return (
        f'SELECT {", ".join(columns)} FROM "{own.db_table}" AS o '  # noqa: S608
        f'LEFT JOIN "{other.db_table}" AS n ON n."{other.db_pk_column}" = ({pick_newest}) '
        f"WHERE {' AND '.join(conditions)} LIMIT 1"
    )


async def first_row_with_newest(
    model: type[Model], fields: tuple[str, ...], where: dict[str, Any], newest: Newest
) -> JoinedRow | None:
    """The row of ``model`` matching ``where`` (equalities) with its ``newest`` row, in one
    statement."""
    sql = _joined_statement(model, fields, tuple(where), newest)
    values = [*(value for _, value in newest.where), *where.values()]
    _, rows = await model._meta.db.execute_query(sql, values)
    return JoinedRow(tuple(rows[0]), model, fields, newest) if rows else None
