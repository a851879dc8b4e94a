"""The discretised fact space of one or more policies.

Every input fact gets a small set of representative values, derived from the compiled policy
(nothing here knows the shipped rules, nor the operators: each operator of the registry says
what it adds, see :attr:`rollback_decision.policy.operators.Operator.note`):

* booleans, enums and nullable facts: every value, null included;
* list facts (``symptoms``, ``components``, ...): values are grouped into classes of values
  that every condition treats alike (they appear in exactly the same literal or parameter
  sets); a list is a choice of how many members of each class it holds (0 or 1, or more when a
  ``min_size`` or ``all_of`` test needs more);
* numbers: every threshold the conditions compare the fact with (literals, parameters), the
  thresholds of the facts it is compared with or copied into, and - when the fact enters the
  walk - the current values of the facts it is compared with (so that ties are in the space);
  each threshold itself, the midpoint between neighbours, 0 and one above the largest, and null;
* facts that no condition reads stay at their default value.

Several policies can share one space (``diff``): their rules' thresholds and sets are merged.
"""

from __future__ import annotations

import itertools
import math
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from rollback_decision.engine.core import incident_facts
from rollback_decision.facts import Change, Incident
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.conditions import condition_tests
from rollback_decision.policy.operators import OPERATORS
from rollback_decision.policy.types import FactType, input_fact_types

__all__ = [
    "FactDomain",
    "FactSpace",
    "is_number",
    "outside_cuts",
    "table_needs",
    "value_classes",
]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class _Notes:
    """The :class:`~rollback_decision.policy.operators.DomainNotes` a space collects."""

    thresholds: dict[str, set[float]] = field(default_factory=dict)
    sets: dict[str, list[frozenset[Any]]] = field(default_factory=dict)
    #: sets a list fact must be able to hold whole (``all_of``)
    whole: dict[str, list[frozenset[Any]]] = field(default_factory=dict)
    sizes: dict[str, set[int]] = field(default_factory=dict)

    def threshold(self, fact: str, value: float) -> None:
        self.thresholds.setdefault(fact, set()).add(value)

    def value_set(self, fact: str, values: frozenset[Any], *, whole: bool) -> None:
        self.sets.setdefault(fact, []).append(values)
        if whole:
            self.whole.setdefault(fact, []).append(values)

    def size(self, fact: str, size: int) -> None:
        self.sizes.setdefault(fact, set()).add(size)


def table_needs(table: CompiledTable) -> tuple[str, ...]:
    """The facts a table's rules read or copy, in a fixed order."""
    names: set[str] = set()
    for rule in table.rules:
        names |= rule.reads
        names.update(source for _, _, source in rule.sets if source is not None)
    return tuple(sorted(names))


def outside_cuts(tables: Sequence[CompiledTable], facts: Iterable[str]) -> dict[str, set[float]]:
    """The numbers ``tables`` compare ``facts`` with (literals and parameters): a walk that
    hands those facts to these tables must have values on both sides of each."""
    wanted = set(facts)
    notes = _Notes()
    for table in tables:
        for rule in table.rules:
            for test in condition_tests(rule.condition):
                if test.fact in wanted and test.operand.fact is None:
                    OPERATORS[test.op].note(notes, test.fact, test.operand.value)
    return notes.thresholds


@dataclass(frozen=True)
class FactDomain:
    """How one input fact is discretised (for the report)."""

    name: str
    kind: str
    #: the values walked; None for numbers, whose points depend on the class (see ``thresholds``)
    values: tuple[Any, ...] | None
    thresholds: tuple[float, ...] = ()
    classes: tuple[tuple[str, ...], ...] = ()
    read: bool = True
    #: False when the fact's values cannot be enumerated: only its default value is walked
    enumerable: bool = True

    def describe(self) -> str:
        if not self.enumerable:
            return (
                f"{self.name}: {self.kind} values cannot be enumerated; only "
                f"{self.values[0] if self.values else None!r} is walked (incomplete)"
            )
        if not self.read:
            return (
                f"{self.name}: not read by any rule; fixed at {self.values[0]!r}"
                if self.values
                else self.name
            )
        if self.kind == "number":
            ts = ", ".join(f"{t:g}" for t in self.thresholds) or "none"
            return (
                f"{self.name}: number split at {ts} (and at the values it is compared with), null"
            )
        if self.kind == "list":
            cls = " | ".join("{" + ", ".join(c) + "}" for c in self.classes)
            return f"{self.name}: {len(self.values or ())} sets over the classes {cls}"
        shown = ", ".join("null" if v is None else str(v) for v in self.values or ())
        return f"{self.name}: {shown}"


class FactSpace:
    """The discretised input facts of one or more policies (shared, so they can be compared).

    ``cuts`` adds thresholds of facts that tables outside ``tables`` compare (see
    :func:`outside_cuts`)."""

    def __init__(
        self,
        policies: Sequence[Policy],
        tables: Sequence[Sequence[CompiledTable]] | None = None,
        cuts: Mapping[str, Iterable[float]] | None = None,
    ) -> None:
        self.policies = tuple(policies)
        #: the tables of each policy this space is built from (default: all)
        self.tables = tuple(
            tuple(t) for t in (tables if tables is not None else [p.tables for p in policies])
        )
        self.types: dict[str, FactType] = input_fact_types()
        self.defaults: dict[str, Any] = incident_facts(Incident())
        self._valid: dict[tuple[str, Any], bool] = {}
        notes = _Notes()
        partners: dict[str, set[str]] = {}
        copies: dict[str, set[str]] = {}
        read: set[str] = set()
        for policy_tables in self.tables:
            for table in policy_tables:
                read.update(table_needs(table))
                for rule in table.rules:
                    for name, _, source in rule.sets:
                        if source is not None:
                            copies.setdefault(source, set()).add(name)
                    for test in condition_tests(rule.condition):
                        other = test.operand.fact
                        if other is None:
                            OPERATORS[test.op].note(notes, test.fact, test.operand.value)
                        else:
                            partners.setdefault(test.fact, set()).add(other)
                            partners.setdefault(other, set()).add(test.fact)
        for fact, values in (cuts or {}).items():
            for value in values:
                notes.threshold(fact, value)
        self.read = frozenset(n for n in read if n in self.types)
        self._sets = {k: tuple(v) for k, v in notes.sets.items()}
        self.thresholds = {k: frozenset(v) for k, v in notes.thresholds.items()}
        self.partners = {k: frozenset(v) for k, v in partners.items()}
        self.copies = {k: frozenset(v) for k, v in copies.items()}
        #: facts some rule reads whose values cannot be enumerated (a free string or integer):
        #: only their default value is walked, and the check says it is incomplete
        self.unenumerable: list[str] = []
        self.domains: dict[str, FactDomain] = {}
        for name, ftype in self.types.items():
            self.domains[name] = self._domain(name, ftype, notes.sets, notes.whole, notes.sizes)

    def _domain(
        self,
        name: str,
        ftype: FactType,
        sets: Mapping[str, list[frozenset[Any]]],
        needs_all: Mapping[str, list[frozenset[Any]]],
        sizes: Mapping[str, set[int]],
    ) -> FactDomain:
        default = self.defaults[name]
        if name not in self.read:
            return FactDomain(name, ftype.kind, (default,), read=False)
        if ftype.kind == "number":
            return FactDomain(name, "number", None, tuple(sorted(self.number_thresholds(name))))
        if ftype.kind == "list":
            order = list(_model_field_values(name))
            if not order:
                return self._unenumerable(name, ftype)
            classes = value_classes(order, sets.get(name, []))
            limit = max(sizes.get(name, {1}) | {1})
            options: list[list[tuple[Any, ...]]] = []
            for members in classes:
                counts = {0, 1, min(len(members), limit)}
                if any(set(members) <= s for s in needs_all.get(name, [])):
                    counts.add(len(members))
                options.append([tuple(members[:k]) for k in sorted(counts)])
            values = [
                tuple(itertools.chain.from_iterable(choice))
                for choice in itertools.product(*options)
            ]
            values = [v for v in values if self.valid(name, v)]
            values.sort(key=lambda v: (v != default, len(v)))
            return FactDomain(
                name,
                "list",
                tuple(values),
                classes=tuple(tuple(str(m) for m in c) for c in classes),
            )
        if ftype.kind == "boolean":
            candidates: list[Any] = [False, True]
        else:
            candidates = _model_field_values(name)
            if not candidates:
                return self._unenumerable(name, ftype)
        if ftype.nullable:
            candidates.append(None)
        candidates.sort(key=lambda v: v != default)
        return FactDomain(name, ftype.kind, tuple(v for v in candidates if self.valid(name, v)))

    def _unenumerable(self, name: str, ftype: FactType) -> FactDomain:
        self.unenumerable.append(name)
        return FactDomain(name, ftype.kind, (self.defaults[name],), enumerable=False)

    def list_sets(self, name: str) -> tuple[frozenset[Any], ...]:
        """The literal and parameter sets the conditions test the list fact ``name`` against."""
        return self._sets.get(name, ())

    def _copied_into(self, name: str) -> set[str]:
        """``name`` and every fact its value is copied into, transitively."""
        reach = {name}
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for target in self.copies.get(current, ()):
                if target not in reach:
                    reach.add(target)
                    frontier.append(target)
        return reach

    def number_thresholds(self, name: str) -> set[float]:
        """Literal and parameter thresholds of ``name``, of what it is copied into, and of the
        facts those are compared with (one step)."""
        reach = self._copied_into(name)
        out: set[float] = set()
        for fact in reach:
            out |= self.thresholds.get(fact, frozenset())
            for partner in self.partners.get(fact, ()):
                out |= self.thresholds.get(partner, frozenset())
        return out

    def number_partners(self, name: str) -> frozenset[str]:
        reach = self._copied_into(name)
        out: set[str] = set()
        for fact in reach:
            out |= self.partners.get(fact, frozenset())
        return frozenset(out - reach)

    def number_points(self, name: str, extra: Iterable[float] = ()) -> tuple[Any, ...]:
        """The values a number takes: null, 0, each threshold, midpoints, one above the top."""
        cuts = sorted({0.0, *self.number_thresholds(name), *(float(x) for x in extra)})
        points: list[Any] = []
        if self.types[name].nullable:
            points.append(None)
        for low, high in itertools.pairwise(cuts):
            points += [low, (low + high) / 2]
        points += [cuts[-1], cuts[-1] + 1]
        default = self.defaults[name]
        points.sort(key=lambda v: v != default)
        return tuple(p for p in points if self.valid(name, p))

    def valid(self, name: str, value: Any) -> bool:
        """Whether the models accept ``value`` for the flattened fact ``name``."""
        key = (name, value)
        cached = self._valid.get(key)
        if cached is None:
            model: type[BaseModel] = Incident if name in Incident.model_fields else Change
            data = list(value) if isinstance(value, tuple) else value
            try:
                model.model_validate({name: data})
                cached = True
            except ValidationError:
                cached = False
            self._valid[key] = cached
        return cached

    def size(self) -> int:
        """How many incidents the product of the non-numeric domains holds (for the report)."""
        return math.prod(len(d.values or ()) for d in self.domains.values() if d.values)


def _model_field_values(name: str) -> list[Any]:
    """The values of an enum, literal or list-of-enum field, as the models hold them."""
    model: type[BaseModel] = Incident if name in Incident.model_fields else Change
    annotation: Any = model.model_fields[name].annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = args[0]
        args = list(typing.get_args(annotation))
    if typing.get_origin(annotation) is list:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return list(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return sorted(input_fact_types()[name].values or (), key=str)


def value_classes(order: Sequence[Any], sets: Sequence[frozenset[Any]]) -> list[list[Any]]:
    """Values grouped by the sets they appear in: a class's members are indistinguishable."""
    groups: dict[tuple[bool, ...], list[Any]] = {}
    for value in order:
        signature = tuple(value in s for s in sets)
        groups.setdefault(signature, []).append(value)
    return list(groups.values())
