"""Read models made from stored rows: one copy, field by field, for every read model.

A read model (a frozen dataclass the services hand out) mostly repeats a row's columns
under the same names; writing ``name=row.name`` for each, in each view, says nothing
and drifts. :func:`copy_row` fills every field of the dataclass from the row's attribute
of that name, except those given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def copy_row(cls: type[T], row: object, **given: Any) -> T:
    """An instance of the dataclass ``cls``: the ``given`` fields, and every other field
    read from ``row``'s attribute of the same name (a missing one is an AttributeError)."""
    copied = {f.name: getattr(row, f.name) for f in fields(cls) if f.name not in given}
    return cls(**copied, **given)


def shared_columns(source: DataclassInstance, model: type[Any]) -> dict[str, Any]:
    """The fields of the dataclass ``source`` that are columns of ``model``'s table (under
    the same name), as keyword arguments for a new row: the other way from :func:`copy_row`,
    so a field added to both is stored without another line here."""
    key = (type(source), model)
    names = _SHARED.get(key)
    if names is None:
        columns = set(model.__table__.columns.keys())
        names = _SHARED[key] = tuple(f.name for f in fields(source) if f.name in columns)
    return {name: getattr(source, name) for name in names}


#: shared_columns' names by (dataclass, model): an import asks for every line it reads.
_SHARED: dict[tuple[type[Any], type[Any]], tuple[str, ...]] = {}


#: How a new row is made from its model and column values: :func:`orm_row` everywhere,
#: except the bulk import, which builds plain rows by the same builders (see
#: :class:`tracker.store.bulk_insert.PlainRow`).
Build = Callable[..., Any]


def orm_row(model: type[Any], values: dict[str, Any]) -> Any:
    """A new ORM row of ``model`` with these column values."""
    return model(**values)
