"""Deleting a province's population in bulk (`gocua generate --replace`).

Django's `QuerySet.delete()` loads every primary key into memory and deletes in batches of a
few hundred, which takes minutes for a million residents and their history. This follows the
same `on_delete` rules with one `DELETE ... WHERE fk IN (subquery)` per table instead, walking
the relations Django itself would walk (so a model added later by another app is honoured).
"""

from django.db import connection
from django.db.models import CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET_NULL, Model
from django.db.models.deletion import get_candidate_relations_to_delete


class PurgeError(RuntimeError):
    pass


class Selection:
    """`SELECT pk FROM table WHERE ...` with its parameters."""

    def __init__(self, model: type[Model], where: str, params: list) -> None:
        self.model = model
        self.where = where
        self.params = params

    @property
    def sql(self) -> str:
        return f"SELECT {_q(self.model._meta.pk.column)} FROM {_q(self.model._meta.db_table)} WHERE {self.where}"

    def related(self, model: type[Model], column: str) -> "Selection":
        return Selection(model, f"{_q(column)} IN ({self.sql})", list(self.params))


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _exists(selection: Selection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(selection.sql + " LIMIT 1", selection.params)
        return cursor.fetchone() is not None


def keep_protected(selection: Selection) -> Selection:
    """The same rows minus those a PROTECT/RESTRICT relation still points at (e.g. a hamlet
    that is a user's unit): those are kept rather than stopping the purge."""
    where, params = selection.where, list(selection.params)
    pk = _q(selection.model._meta.pk.column)
    for rel in get_candidate_relations_to_delete(selection.model._meta):
        if rel.on_delete in (PROTECT, RESTRICT):
            table, column = _q(rel.related_model._meta.db_table), _q(rel.field.column)
            where = f"({where}) AND {pk} NOT IN (SELECT {column} FROM {table} WHERE {column} IS NOT NULL)"
    return Selection(selection.model, where, params)


def purge(selection: Selection) -> int:
    """Delete the selected rows and, following `on_delete`, what points at them. Raises
    PurgeError when a PROTECT relation still has rows. Returns the rows deleted at this level."""
    for rel in get_candidate_relations_to_delete(selection.model._meta):
        child = selection.related(rel.related_model, rel.field.column)
        if rel.on_delete is CASCADE:
            purge(child)
        elif rel.on_delete is SET_NULL:
            _execute(
                f"UPDATE {_q(rel.related_model._meta.db_table)} SET {_q(rel.field.column)} = NULL "
                f"WHERE {child.where}",
                child.params,
            )
        elif rel.on_delete in (PROTECT, RESTRICT):
            if _exists(child):
                raise PurgeError(
                    f"{rel.related_model._meta.verbose_name_plural} still refer to "
                    f"{selection.model._meta.verbose_name_plural} of this province"
                )
        elif rel.on_delete is not DO_NOTHING:
            raise PurgeError(f"cannot purge through {rel.related_model.__name__}.{rel.field.name}")
    return _execute(
        f"DELETE FROM {_q(selection.model._meta.db_table)} WHERE {selection.where}",
        selection.params,
    )
