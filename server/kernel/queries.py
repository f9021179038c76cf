"""Reads of one column, typed as Tortoise returns them.

Tortoise annotates ``values_list(field, flat=True)`` as giving tuples, but with one field
and ``flat=True`` it gives the bare values: a list of them, or, after ``.first()``, one
value (``None`` without a row). These helpers say so once, for the type checker.
"""

from __future__ import annotations

from typing import Any

from tortoise.queryset import QuerySet


async def column_values(query: QuerySet[Any], field: str) -> list[Any]:
    """``field`` of every row ``query`` selects, in its order."""
    values: list[Any] = await query.values_list(field, flat=True)
    return values


async def first_column_value(query: QuerySet[Any], field: str) -> Any:
    """``field`` of the first row ``query`` selects, or ``None`` when it selects none."""
    value: Any = await query.first().values_list(field, flat=True)
    return value
