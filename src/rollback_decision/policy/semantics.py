"""What a decision table means: how its matches combine and how collected outputs aggregate.

This is the one definition every consumer calls: the engines (through
:func:`rollback_decision.engine.core.run`), the generated code of the native engine, the
fact-space walk and the verifier. A table declares its hit policy (``combine``) and, for a
collect table, how each output aggregates; the names are data, each member carries its
behaviour (as pycasbin's effectors do).

Derived facts are kept hashable: a collected ``union`` is a tuple, so a table's outcome can be
remembered and compared wherever it is computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.policy.compiler import CompiledTable

__all__ = ["Aggregate", "Combine", "Outcome", "collected", "constant_collector", "outcome"]

Problem = Literal["gap", "overlap"]


class Combine(StrEnum):
    """A table's hit policy: which of its matching rules fire."""

    #: the first matching rule in table order; no match is a gap
    FIRST = "first"
    #: exactly one rule may match; none is a gap, several an overlap
    UNIQUE = "unique"
    #: every matching rule fires, its outputs aggregated; no match is fine
    COLLECT = "collect"

    def select(self, matches: Sequence[int]) -> tuple[tuple[int, ...], Problem | None]:
        """The rules that fire among ``matches`` (in table order), and the problem if any.

        ``matches`` of a first-match table may stop at the first (engines may stop early).
        """
        if self is Combine.COLLECT:
            return tuple(matches), None
        if not matches:
            return (), "gap"
        if self is Combine.UNIQUE and len(matches) > 1:
            return tuple(matches), "overlap"
        return (matches[0],), None

    @property
    def stops_at_first(self) -> bool:
        """Whether an engine may stop evaluating at the first matching rule."""
        return self is Combine.FIRST


class Aggregate(StrEnum):
    """How a collect table turns the values its fired rules set into one output value."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"
    ANY = "any"
    ALL = "all"
    UNION = "union"

    @property
    def kinds(self) -> tuple[str, ...]:
        """The output types (``FactType.kind``) this aggregate applies to."""
        return _KINDS[self]

    @property
    def empty(self) -> Any:
        """The value when no rule contributes (a nullable output is null instead)."""
        return _EMPTY[self]

    def reduce(self, values: Sequence[Any]) -> Any:
        """The aggregate of ``values`` (at least one), in the order the rules fired."""
        return _REDUCE[self](values)

    def of(self, values: Sequence[Any], nullable: bool) -> Any:
        """The output value: the aggregate, or the empty value when nothing contributed."""
        if not values:
            return self.nothing(nullable)
        return self.reduce(values)

    def nothing(self, nullable: bool) -> Any:
        """The output value when no rule contributes: null for a nullable output, else
        :attr:`empty`."""
        return None if nullable else _EMPTY[self]


_KINDS: dict[Aggregate, tuple[str, ...]] = {
    Aggregate.SUM: ("number", "integer"),
    Aggregate.MAX: ("number", "integer"),
    Aggregate.MIN: ("number", "integer"),
    Aggregate.ANY: ("boolean",),
    Aggregate.ALL: ("boolean",),
    Aggregate.UNION: ("list",),
}


def _union(values: Sequence[Any]) -> tuple[Any, ...]:
    """Every item of the lists ``values``, once, in order."""
    return tuple(dict.fromkeys(chain.from_iterable(values)))


#: Each aggregate's function (one lookup, where comparing with each member costs an
#: attribute lookup on the enum class apiece).
_REDUCE: Mapping[Aggregate, Callable[[Sequence[Any]], Any]] = MappingProxyType(
    {
        Aggregate.SUM: sum,
        Aggregate.MAX: max,
        Aggregate.MIN: min,
        Aggregate.ANY: any,
        Aggregate.ALL: all,
        Aggregate.UNION: _union,
    }
)
_EMPTY: dict[Aggregate, Any] = {
    Aggregate.SUM: 0,
    Aggregate.MAX: None,
    Aggregate.MIN: None,
    Aggregate.ANY: False,
    Aggregate.ALL: True,
    Aggregate.UNION: (),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one table did: the rules that fired and the values of its outputs."""

    #: every matching rule the engine reported, in table order
    matches: tuple[int, ...]
    #: the rules that fired (first: one; unique: one; collect: all that matched)
    fired: tuple[int, ...]
    #: output values in ``table.outputs`` order; None when the table could not decide
    values: tuple[Any, ...] | None
    problem: Problem | None = None

    def message(self, table: CompiledTable) -> str:
        """What went wrong, for an error (only when ``problem`` is set)."""
        if self.problem == "overlap":
            ids = ", ".join(table.rules[i].id for i in self.fired)
            return f"several rules matched a unique table: {ids}"
        return "no rule matched the incident (a gap in the policy)"


def outcome(table: CompiledTable, matches: Sequence[int], facts: Mapping[str, Any]) -> Outcome:
    """Combine ``matches`` (rule indexes in table order) by the table's hit policy and compute
    its outputs from ``facts`` (for the values rules copy from other facts)."""
    found = tuple(matches)
    fired, problem = table.combine.select(found)
    if problem is not None:
        return Outcome(found, fired, None, problem)
    if table.combine is not Combine.COLLECT:
        chosen = dict.fromkeys(table.outputs)
        for name, value, source in table.rules[fired[0]].sets:
            chosen[name] = facts[source] if source is not None else value
        return Outcome(found, fired, tuple(chosen.values()))
    return Outcome(found, fired, collected(table, fired, facts))


def collected(
    table: CompiledTable, fired: Sequence[int], facts: Mapping[str, Any]
) -> tuple[Any, ...]:
    """The output values of a collect table whose rules ``fired`` (what :func:`outcome`
    gives a collect table as its values; every match of a collect table fires)."""
    gathered: dict[str, list[Any]] = {name: [] for name in table.outputs}
    for index in fired:
        for name, value, source in table.rules[index].sets:
            gathered[name].append(facts[source] if source is not None else value)
    aggregates = table.aggregates
    return tuple(
        [
            aggregates[name].of(gathered[name], ftype.nullable)
            for name, ftype in table.outputs.items()
        ]
    )


#: What a rule that does not set an output contributes to it (nothing).
_UNSET: Any = object()


def constant_collector(
    table: CompiledTable,
) -> Callable[[Sequence[int]], tuple[Any, ...]] | None:
    """:func:`collected` for a collect table whose rules set constants only (None for a
    table with a rule that copies a fact or sets an output twice), from the fired indexes:
    per output, the value each rule sets is looked up by its index rather than found among
    the rule's assignments. Same values, same order."""
    per_output = []
    for name, ftype in table.outputs.items():
        by_rule = []
        for rule in table.rules:
            sets = [(value, source) for output, value, source in rule.sets if output == name]
            if len(sets) > 1 or any(source is not None for _, source in sets):
                return None
            by_rule.append(sets[0][0] if sets else _UNSET)
        aggregate = table.aggregates[name]
        empty = aggregate.nothing(ftype.nullable)
        per_output.append((tuple(by_rule).__getitem__, _REDUCE[aggregate], empty))

    def collect(fired: Sequence[int]) -> tuple[Any, ...]:
        out = []
        for value, reduce, empty in per_output:  # as Aggregate.of
            values = [v for v in map(value, fired) if v is not _UNSET]
            out.append(reduce(values) if values else empty)
        return tuple(out)

    return collect


# -- the same semantics as generated source (the native engine's compiled pipeline) -----------


@dataclass(frozen=True)
class RuleSource:
    """One rule of a table as generated source: its condition and its output assignments."""

    index: int
    condition: str
    #: (output local, expression of the value it sets)
    sets: tuple[tuple[str, str], ...]


def table_source(
    combine: Combine,
    position: int,
    rules: Sequence[RuleSource],
    collect: str,
    mask_lines: Sequence[str] | None = None,
) -> list[str]:
    """Lines (indented for a function body) that evaluate one table as :func:`outcome` does.

    ``position`` numbers the table in the pipeline. The lines bind ``F{position}`` to the
    fired rule indexes. A first-match or unique table sets its outputs' locals from the rule
    that fired and raises ``Undecided(position, matches)`` on a gap or an overlap. A collect
    table computes which rules match as a bit mask and leaves the outputs to
    ``G[position](mask)`` (what is remembered) or else ``{collect}(position, mask, f)``,
    which applies :func:`outcome`; ``o`` is bound to the output values. ``mask_lines`` (if
    given) are the lines that set a collect or unique table's mask ``m`` from 0, in place of
    one test per rule.
    """
    fired = f"F{position}"
    out: list[str] = []
    if combine is Combine.FIRST:
        keyword = "if"
        for rule in rules:
            out.append(f"    {keyword} {rule.condition}:")
            out.append(f"        {fired} = ({rule.index},)")
            out += [f"        {name} = {value}" for name, value in rule.sets]
            keyword = "elif"
        out.append("    else:")
        out.append(f"        raise Undecided({position}, ())")
        return out
    out.append("    m = 0")
    if mask_lines is not None:
        out += mask_lines
    else:
        for rule in rules:
            out.append(f"    if {rule.condition}:")
            out.append(f"        m |= {1 << rule.index}")
    if combine is Combine.COLLECT:
        out.append(f"    r = G[{position}](m)")
        out.append("    if r is None:")
        out.append(f"        r = {collect}({position}, m, f)")
        out.append(f"    {fired}, o = r")
        return out
    # unique: exactly one match
    out.append("    if m & (m - 1) or not m:")
    out.append(f"        raise Undecided({position}, mask_indexes(m))")
    keyword = "if"
    for rule in rules:
        out.append(f"    {keyword} m == {1 << rule.index}:")
        out.append(f"        {fired} = ({rule.index},)")
        out += [f"        {name} = {value}" for name, value in rule.sets] or ["        pass"]
        keyword = "elif"
    return out


def mask_indexes(mask: int) -> tuple[int, ...]:
    """The rule indexes whose bits are set in ``mask``, in table order."""
    out = []
    while mask:
        low = mask & -mask  # the lowest bit set
        out.append(low.bit_length() - 1)
        mask ^= low
    return tuple(out)
