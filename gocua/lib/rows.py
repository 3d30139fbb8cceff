"""Model instances and values from hand-written SQL, where the ORM is not used: the rollups
(`Columns`) and the visit sync's batch reads (`db_value`).

`Columns` lists a model's columns once and turns a slice of a result row back into an instance
exactly as the ORM would: the same backend converters (SQLite's text datetimes, UUIDs and
booleans) and `Model.from_db`, so the instance is indistinguishable from one a queryset
returned. `db_value` does the same for one value.

    state = Columns(RollupState, "s")
    cursor.execute(f"SELECT {state.sql} FROM {state.table} WHERE ...")
    row = cursor.fetchone()
    instance = state.build(row)
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Field, Model
from django.db.models.expressions import Col

# A backend's or a field's converter: (value, expression, connection) -> value.
Converter = Callable[..., Any]

_M = TypeVar("_M", bound=Model)


class Columns(Generic[_M]):
    """The concrete columns of `model` under the table alias `alias`."""

    def __init__(self, model: type[_M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self.table = f'"{model._meta.db_table}" {alias}'
        self._converters: dict[str, list[tuple[int, list[Converter], Col]]] = {}

    def _converters_for_vendor(self) -> list[tuple[int, list[Converter], Col]]:
        vendor = connection.vendor
        if vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                if converters := _converters(column):
                    found.append((index, converters, column))
            self._converters[vendor] = found
        return self._converters[vendor]

    def build(self, values: Sequence[Any]) -> _M | None:
        """An instance from exactly this model's columns, or None when the primary key is NULL
        (the right side of a LEFT JOIN that found nothing)."""
        if values[self.pk_index] is None:
            return None
        values = list(values)
        for index, converters, column in self._converters_for_vendor():
            value = values[index]
            for converter in converters:
                value = converter(value, column, connection)
            values[index] = value
        return self.model.from_db(DEFAULT_DB_ALIAS, self.names, values)

    def take(self, row: Sequence[Any]) -> tuple[_M | None, Sequence[Any]]:
        """The instance built from the first columns of `row`, and the columns left."""
        width = len(self.fields)
        return self.build(row[:width]), row[width:]


def _converters(column: Col) -> list[Converter]:
    # As SQLCompiler.get_converters: the backend's converters, then the field's own.
    converters: list[Converter] = connection.ops.get_db_converters(
        column
    ) + column.get_db_converters(connection)
    return converters


def db_value(field: "Field[Any, Any]", value: object) -> object:
    """One value of `field` read by hand-written SQL, converted as the ORM would (SQLite keeps
    datetimes as text). Called per row: the converters are found once per field and backend."""
    column, converters = _field_converters(field, connection.vendor)
    for converter in converters:
        value = converter(value, column, connection)
    return value


@functools.cache
def _field_converters(field: "Field[Any, Any]", vendor: str) -> tuple[Col, list[Converter]]:
    column = field.get_col(field.model._meta.db_table)
    return column, _converters(column)
