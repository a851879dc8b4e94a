"""Incidents of the discretised space: built from a class's assignment, and shown minimally."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from rollback_decision._models import built, every_field
from rollback_decision.facts import Change, Incident
from rollback_decision.policy.types import input_fact_types

__all__ = ["Assignment", "incident_from_assignment", "minimal_mapping"]

#: The non-default input facts of an incident, as (name, value) pairs.
Assignment = tuple[tuple[str, Any], ...]

_BASE_TOP = MappingProxyType({k: v for k, v in Incident().__dict__.items() if k != "change"})
_BASE_CHANGE = MappingProxyType(dict(Change().__dict__))
_LISTS = tuple(name for name, value in _BASE_TOP.items() if isinstance(value, list))
_EVERY_INCIDENT_FIELD = every_field(Incident)
_EVERY_CHANGE_FIELD = every_field(Change)


def incident_from_assignment(
    assignment: Mapping[str, Any] | Assignment, changes: dict[Assignment, Change] | None = None
) -> Incident:
    """The incident with these (flattened) facts, defaults elsewhere. Values are trusted.

    ``changes`` remembers the :class:`Change` built for each distinct assignment of change
    facts (the caller owns it: a walk builds many incidents that share a change)."""
    pairs = assignment.items() if isinstance(assignment, Mapping) else assignment
    top = dict(_BASE_TOP)
    for name in _LISTS:
        top[name] = []  # each incident its own list
    change: list[tuple[str, Any]] = []
    for name, value in pairs:
        if name in _BASE_CHANGE:
            change.append((name, value))
        else:
            top[name] = list(value) if isinstance(value, tuple) else value
    key = tuple(sorted(change))
    made = changes.get(key) if changes is not None else None
    if made is None:
        made = _change(key)
        if changes is not None:
            changes[key] = made
    top["change"] = made
    return built(Incident, top, _EVERY_INCIDENT_FIELD)


def _change(pairs: Assignment) -> Change:
    fields: dict[str, Any] = {
        k: list(v) if isinstance(v, list) else v for k, v in _BASE_CHANGE.items()
    }
    for name, value in pairs:
        fields[name] = list(value) if isinstance(value, tuple) else value
    return built(Change, fields, _EVERY_CHANGE_FIELD)


def minimal_mapping(assignment: Mapping[str, Any] | Assignment) -> dict[str, Any]:
    """The non-default facts of an assignment as an incident mapping (JSON/YAML-ready)."""
    assignment = dict(assignment)
    out: dict[str, Any] = {}
    change: dict[str, Any] = {}
    for name in input_fact_types():
        if name not in assignment:
            continue
        value = assignment[name]
        plain: Any = [str(v) for v in value] if isinstance(value, tuple) else value
        if isinstance(plain, str):
            plain = str(plain)
        if isinstance(plain, float) and plain.is_integer():
            plain = int(plain)
        if name in Incident.model_fields:
            out[name] = plain
        else:
            change[name] = plain
    if change:
        out["change"] = change
    return out
