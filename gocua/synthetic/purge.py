"""Deleting a province's population in bulk (`gocua generate --replace`).

Django's `QuerySet.delete()` loads every primary key into memory and deletes in batches of a
few hundred, which takes minutes for a million residents and their history. This follows the
same `on_delete` rules with one `DELETE ... WHERE fk IN (subquery)` per table instead, walking
the relations Django itself would walk (so a model added later by another app is honoured).
Every statement is a queryset: the subqueries are the querysets of the rows above.
"""

from collections.abc import Iterable
from typing import cast

from django.db.models import CASCADE, DO_NOTHING, PROTECT, RESTRICT, SET_NULL, Model, QuerySet
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.fields.reverse_related import ForeignObjectRel


class PurgeError(RuntimeError):
    pass


def _relations(rows: QuerySet) -> Iterable[ForeignObjectRel]:
    """The relations pointing at `rows`' model that Django's own delete would walk (the stubs
    call them fields; they are the reverse relations)."""
    return cast(Iterable[ForeignObjectRel], get_candidate_relations_to_delete(rows.model._meta))


def _model_of(rel: ForeignObjectRel) -> type[Model]:
    # A relation to "self" is resolved to its model once the app registry is ready.
    return cast(type[Model], rel.related_model)


def _pointing_at(rows: QuerySet, rel: ForeignObjectRel) -> QuerySet:
    """The rows of `rel`'s model whose foreign key points at one of `rows`."""
    field = rel.field
    return _model_of(rel)._base_manager.filter(
        **{f"{field.attname}__in": rows.values(field.target_field.attname)}
    )


def keep_protected(rows: QuerySet) -> QuerySet:
    """The same rows minus those a PROTECT/RESTRICT relation still points at (e.g. a hamlet
    that is a user's unit): those are kept rather than stopping the purge."""
    for rel in _relations(rows):
        if rel.on_delete in (PROTECT, RESTRICT):
            column = rel.field.attname
            rows = rows.exclude(
                pk__in=_model_of(rel)
                ._base_manager.filter(**{f"{column}__isnull": False})
                .values(column)
            )
    return rows


def purge(rows: QuerySet) -> int:
    """Delete the selected rows and, following `on_delete`, what points at them. Raises
    PurgeError when a PROTECT relation still has rows. Returns the rows deleted at this level."""
    for rel in _relations(rows):
        child = _pointing_at(rows, rel)
        if rel.on_delete is CASCADE:
            purge(child)
        elif rel.on_delete is SET_NULL:
            child.update(**{rel.field.attname: None})
        elif rel.on_delete in (PROTECT, RESTRICT):
            if child.exists():
                raise PurgeError(
                    f"{_model_of(rel)._meta.verbose_name_plural} still refer to "
                    f"{rows.model._meta.verbose_name_plural} of this province"
                )
        elif rel.on_delete is not DO_NOTHING:
            raise PurgeError(f"cannot purge through {_model_of(rel).__name__}.{rel.field.name}")
    # The queryset's own DELETE, without the collector's read of every row (what
    # QuerySet.delete() does for a model nothing points at): the relations are handled above.
    return rows._raw_delete(rows.db)
