"""Types of the facts rules may read: the incident's fields and the outputs of earlier tables."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from rollback_decision.decision import Action
from rollback_decision.facts import Change, Component, Incident, Symptom

__all__ = ["PARAMETER_ITEM_TYPES", "FactType", "input_fact_types", "parameter_type"]


@dataclass(frozen=True)
class FactType:
    """``kind`` is boolean, number, integer, string, enum, list or ref.

    ``values`` holds the allowed values of an enum (or of a list's items); ``ref`` names the
    catalogue a ref points into (``authorities``).
    """

    kind: str
    values: frozenset[Any] | None = None
    nullable: bool = False
    ref: str | None = None

    def describe(self) -> str:
        if self.kind == "list" and self.ref is not None:
            text = f"a list of ids from {self.ref}"
        elif self.kind == "enum" and self.values is not None:
            text = "one of " + ", ".join(sorted(map(str, self.values)))
        elif self.kind == "list" and self.values is not None:
            text = "a list of " + ", ".join(sorted(map(str, self.values)))
        elif self.kind == "ref":
            text = f"an id from {self.ref}"
        else:
            text = f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind}"
        return text + (" or null" if self.nullable else "")

    def accepts(self, value: Any) -> bool:
        """Whether a literal ``value`` from a rule file fits this type."""
        if value is None:
            return self.nullable
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return ok and (self.values is None or value in self.values)
        if self.kind == "string":
            return isinstance(value, str)
        if self.kind in ("enum", "ref"):
            return isinstance(value, str) and (self.values is None or value in self.values)
        if self.kind == "list":
            return isinstance(value, list) and all(
                isinstance(item, str) and (self.values is None or item in self.values)
                for item in value
            )
        return False


def _enum_values(enum: type[Enum]) -> frozenset[Any]:
    return frozenset(member.value for member in enum)


def _from_annotation(annotation: Any) -> FactType:
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return FactType("enum", frozenset(typing.get_args(annotation)), nullable)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return FactType("list", _enum_values(item), nullable)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FactType("enum", _enum_values(annotation), nullable)
    if annotation is bool:
        return FactType("boolean", None, nullable)
    if annotation in (int, float):
        return FactType("number", None, nullable)
    raise TypeError(f"no fact type for {annotation!r}")  # pragma: no cover - model invariant


def _model_facts(model: type[BaseModel], skip: set[str]) -> dict[str, FactType]:
    return {
        name: _from_annotation(field.annotation)
        for name, field in model.model_fields.items()
        if name not in skip
    }


def input_fact_types() -> dict[str, FactType]:
    """The incident's fields as rules see them: ``change.*`` flattened beside the rest."""
    facts = _model_facts(Incident, {"change"})
    facts.update(_model_facts(Change, set()))
    return facts


PARAMETER_ITEM_TYPES: dict[str, frozenset[Any] | None] = {
    "symptom": _enum_values(Symptom),
    "component": _enum_values(Component),
    "action": _enum_values(Action),
    "string": None,
}


def parameter_type(spec: str, roles: frozenset[str]) -> FactType | None:
    """The type a parameter declaration names, or None when the name is not a type."""
    scalar = {"number": "number", "integer": "integer", "boolean": "boolean", "string": "string"}
    if spec in scalar:
        return FactType(scalar[spec])
    if spec == "role":
        return FactType("ref", roles, ref="roles")
    if spec.startswith("list[") and spec.endswith("]"):
        item = spec[5:-1]
        if item == "role":
            return FactType("list", roles)
        if item in PARAMETER_ITEM_TYPES:
            return FactType("list", PARAMETER_ITEM_TYPES[item])
    return None
