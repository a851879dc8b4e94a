"""The incident's fields as flat names: ``severity``, ``change.data_scenario`` ….

Derived from the models (:class:`~rollback_decision.facts.Incident` and
:class:`~rollback_decision.facts.Change`), never listed by hand: a new fact is a new column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollback_decision.errors import IncidentError, did_you_mean
from rollback_decision.facts import Change, Incident

__all__ = ["FIELDS", "column_of", "fact_of", "resolve_field", "set_field"]


def _fields() -> dict[str, str]:
    """Column name → flattened fact name (the name rules read)."""
    out: dict[str, str] = {}
    for name in Incident.model_fields:
        if name == "change":
            continue
        out[name] = name
    for name in Change.model_fields:
        out[f"change.{name}"] = name
    return out


#: Every column an incident has, in the models' order: column name → fact name.
FIELDS: Mapping[str, str] = _fields()
_COLUMNS = {fact: column for column, fact in FIELDS.items()}


def column_of(fact: str) -> str:
    """The column of a flattened fact name (``components`` → ``change.components``)."""
    return _COLUMNS[fact]


def fact_of(column: str) -> str:
    return FIELDS[column]


def resolve_field(name: str) -> str:
    """The column ``name`` stands for: a field of the incident, ``change.FIELD``, or a field of
    the change given without its prefix. Anything else raises :class:`IncidentError` with a
    "did you mean"."""
    if name in FIELDS:
        return name
    if f"change.{name}" in FIELDS and name not in Incident.model_fields:
        return f"change.{name}"
    hint = did_you_mean(name, FIELDS)
    raise IncidentError(source=None, field=name, message="unknown field" + hint)


def set_field(data: dict[str, Any], column: str, value: Any) -> None:
    """Put ``value`` at ``column`` of the nested incident mapping ``data``."""
    head, dot, field = column.partition(".")
    if dot:
        change = dict(data.get("change") or {})
        change[field] = value
        data["change"] = change
    else:
        data[head] = value
