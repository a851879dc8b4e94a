"""The discretised fact space of a policy, and an exhaustive walk over it.

Every input fact gets a small set of representative values, derived from the compiled policy
(nothing here knows the shipped rules):

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

The walk does not build the product of all domains (hundreds of millions of incidents for the
shipped policy). It runs the tables in pipeline order over *classes* of incidents: an input
fact joins the walk just before the first table that reads it, and after each table every fact
no later table (and no caller) needs is dropped, merging classes that can no longer be told
apart. Each class carries how many incidents of the discretised space it stands for and its
smallest member (fewest non-default fields), which serves as the counterexample.

Several policies can be walked together over the same space (``diff``): inputs are shared,
each policy's derived facts are kept apart.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from rollback_decision.engine.core import DECISION_OUTPUTS, Matcher
from rollback_decision.facts import Change, Incident
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.conditions import ORDERING, AllOf, AnyOf, Condition, Not, Test
from rollback_decision.policy.semantics import Combine, Outcome, outcome
from rollback_decision.policy.types import FactType, input_fact_types

__all__ = [
    "FactDomain",
    "FactSpace",
    "TableEval",
    "Walk",
    "WalkClass",
    "incident_from_assignment",
    "minimal_mapping",
    "split_tables",
]

INPUT = "in"
#: Column of a walk state: ("in", fact) for an input, (policy index, fact) for a derived fact.
Column = tuple[Any, str]

_SET_TESTS = ("any_of", "all_of", "none_of", "subset_of")


def _tests(condition: Condition) -> Iterator[Test]:
    if isinstance(condition, Test):
        yield condition
    elif isinstance(condition, Not):
        yield from _tests(condition.item)
    elif isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from _tests(item)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def table_needs(table: CompiledTable) -> tuple[str, ...]:
    """The facts a table's rules read or copy, in a fixed order."""
    names: set[str] = set()
    for rule in table.rules:
        names |= rule.reads
        names.update(source for _, _, source in rule.sets if source is not None)
    return tuple(sorted(names))


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

    def describe(self) -> str:
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
    """The discretised input facts of one or more policies (shared, so they can be compared)."""

    def __init__(
        self,
        policies: Sequence[Policy],
        tables: Sequence[Sequence[CompiledTable]] | None = None,
    ) -> None:
        self.policies = tuple(policies)
        #: the tables of each policy this space is built from (default: all)
        self.tables = tuple(
            tuple(t) for t in (tables if tables is not None else [p.tables for p in policies])
        )
        self.types: dict[str, FactType] = input_fact_types()
        base = Incident()
        self.defaults: dict[str, Any] = {
            **{k: _hashable(v) for k, v in base.__dict__.items() if k != "change"},
            **{k: _hashable(v) for k, v in base.change.__dict__.items()},
        }
        self._valid: dict[tuple[str, Any], bool] = {}
        thresholds: dict[str, set[float]] = {}
        partners: dict[str, set[str]] = {}
        copies: dict[str, set[str]] = {}
        sets: dict[str, list[frozenset[Any]]] = {}
        needs_all: dict[str, list[frozenset[Any]]] = {}
        sizes: dict[str, set[int]] = {}
        read: set[str] = set()
        for policy_tables in self.tables:
            for table in policy_tables:
                read.update(table_needs(table))
                for rule in table.rules:
                    for name, _, source in rule.sets:
                        if source is not None:
                            copies.setdefault(source, set()).add(name)
                    for test in _tests(rule.condition):
                        self._note(test, thresholds, partners, sets, needs_all, sizes)
        self.read = frozenset(n for n in read if n in self.types)
        self._sets = {k: tuple(v) for k, v in sets.items()}
        self.thresholds = {k: frozenset(v) for k, v in thresholds.items()}
        self.partners = {k: frozenset(v) for k, v in partners.items()}
        self.copies = {k: frozenset(v) for k, v in copies.items()}
        self.domains: dict[str, FactDomain] = {}
        for name, ftype in self.types.items():
            self.domains[name] = self._domain(name, ftype, sets, needs_all, sizes)

    # -- collecting what the rules distinguish ------------------------------------------------

    @staticmethod
    def _note(
        test: Test,
        thresholds: dict[str, set[float]],
        partners: dict[str, set[str]],
        sets: dict[str, list[frozenset[Any]]],
        needs_all: dict[str, list[frozenset[Any]]],
        sizes: dict[str, set[int]],
    ) -> None:
        name, op, operand = test.fact, test.op, test.operand
        if operand.fact is not None:
            partners.setdefault(name, set()).add(operand.fact)
            partners.setdefault(operand.fact, set()).add(name)
            return
        value = operand.value
        if op in ORDERING or op in ("eq", "ne"):
            if _is_number(value):
                thresholds.setdefault(name, set()).add(float(value))
        elif op in ("in", "not_in"):
            numbers = [float(v) for v in value or () if _is_number(v)]
            thresholds.setdefault(name, set()).update(numbers)
        if op in _SET_TESTS or op in ("in", "not_in"):
            if isinstance(value, (list, tuple, frozenset)):
                sets.setdefault(name, []).append(frozenset(value))
                if op == "all_of":
                    needs_all.setdefault(name, []).append(frozenset(value))
        elif op == "min_size":
            sizes.setdefault(name, set()).add(int(value))
        elif op == "empty":
            sizes.setdefault(name, set()).add(1)

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
            classes = _classes(order, sets.get(name, []))
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
        if ftype.nullable:
            candidates.append(None)
        candidates.sort(key=lambda v: v != default)
        return FactDomain(name, ftype.kind, tuple(v for v in candidates if self.valid(name, v)))

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


def _classes(order: Sequence[Any], sets: Sequence[frozenset[Any]]) -> list[list[Any]]:
    """Values grouped by the sets they appear in: a class's members are indistinguishable."""
    groups: dict[tuple[bool, ...], list[Any]] = {}
    for value in order:
        signature = tuple(value in s for s in sets)
        groups.setdefault(signature, []).append(value)
    return list(groups.values())


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def incident_from_assignment(assignment: Mapping[str, Any] | Assignment) -> Incident:
    """The incident with these (flattened) facts, defaults elsewhere. Values are trusted."""
    pairs = assignment.items() if isinstance(assignment, Mapping) else assignment
    top: dict[str, Any] = {}
    change: list[tuple[str, Any]] = []
    for name, value in pairs:
        if name in _BASE_CHANGE:
            change.append((name, value))
        else:
            top[name] = list(value) if isinstance(value, tuple) else value
    for name, value in _BASE_TOP.items():
        if name not in top:
            top[name] = list(value) if isinstance(value, list) else value
    return Incident.model_construct(**top, change=_change(tuple(sorted(change))))


@functools.lru_cache(maxsize=4096)
def _change(pairs: Assignment) -> Change:
    fields: dict[str, Any] = {
        k: list(v) if isinstance(v, list) else v for k, v in _BASE_CHANGE.items()
    }
    for name, value in pairs:
        fields[name] = list(value) if isinstance(value, tuple) else value
    return Change.model_construct(**fields)


_BASE_TOP = {k: v for k, v in Incident().__dict__.items() if k != "change"}
_BASE_CHANGE = dict(Change().__dict__)


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


# -- evaluating one table -----------------------------------------------------------------------


class TableEval:
    """One table of one policy, evaluated with a memo keyed by the facts it reads."""

    def __init__(self, table: CompiledTable, matcher: Matcher | None) -> None:
        self.table = table
        self.matcher = matcher
        self.needs = table_needs(table)
        #: ``facts -> the values of needs``, for a mapping of every fact
        self.pick = (
            operator.itemgetter(*self.needs)
            if len(self.needs) > 1
            else (lambda facts: tuple(facts[n] for n in self.needs))
        )
        self.outputs = tuple(table.outputs)
        self.memo: dict[tuple[Any, ...], Outcome] = {}

    def __call__(self, values: tuple[Any, ...]) -> Outcome:
        result = self.memo.get(values)
        if result is None:
            result = self.memo[values] = self._evaluate(dict(zip(self.needs, values, strict=True)))
        return result

    def _evaluate(self, facts: dict[str, Any]) -> Outcome:
        table = self.table
        matches = tuple(rule.index for rule in table.rules if rule.predicate(facts))
        if self.matcher is None:
            return outcome(table, matches, facts)
        # Another engine decides what fires; every match is kept to find shadowed rules.
        result = outcome(table, self.matcher(table, facts), facts)
        return replace(result, matches=matches)


# -- the walk -----------------------------------------------------------------------------------


#: The non-default input facts of an incident, as (name, value) pairs.
Assignment = tuple[tuple[str, Any], ...]


@dataclass
class WalkClass:
    """A class of incidents the walk cannot tell apart: how many incidents of the space it
    stands for, and its smallest member (fewest non-default facts)."""

    weight: int
    assignment: Assignment
    cost: int

    def offer(self, weight: int, assignment: Assignment, cost: int) -> None:
        self.weight += weight
        if cost < self.cost:
            self.assignment, self.cost = assignment, cost


@dataclass
class Finding:
    """Where a table could not decide, or which rules fired and shadowed each other."""

    kind: str
    policy: int
    table: str
    rules: tuple[str, ...]
    example: WalkClass


@dataclass
class Walk:
    """An exhaustive walk of one or more policies over a shared discretised space."""

    space: FactSpace
    matchers: Sequence[Matcher | None]
    keep: frozenset[str] = frozenset()
    outputs: tuple[str, ...] = DECISION_OUTPUTS
    #: final classes: column -> value, with weight and smallest member
    columns: list[Column] = field(default_factory=list)
    final: dict[tuple[Any, ...], WalkClass] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: (policy, table, rule index) -> weight of the incidents where the rule fired
    fired: dict[tuple[int, str, int], int] = field(default_factory=dict)
    #: (policy, table, rule index) -> (earlier rule index that won, example)
    shadowed: dict[tuple[int, str, int], tuple[int, WalkClass]] = field(default_factory=dict)
    evaluated: int = 0
    evals: dict[tuple[int, str], TableEval] = field(default_factory=dict)
    #: where the walk starts (default: one empty class)
    start_columns: Sequence[Column] = ()
    start: Mapping[tuple[Any, ...], WalkClass] = field(default_factory=dict)
    #: the tables to walk, per policy (default: the space's)
    tables: Sequence[Sequence[CompiledTable]] | None = None

    def run(self) -> None:
        space = self.space
        stages = _stages(self.tables if self.tables is not None else space.tables)
        needs = [self._stage_needs(p, t) for p, t in stages]
        columns: list[Column] = list(self.start_columns)
        states: dict[tuple[Any, ...], WalkClass] = dict(self.start) or {(): WalkClass(1, (), 0)}
        introduced: set[str] = {name for ns, name in columns if ns == INPUT}
        for position, (p, table) in enumerate(stages):
            ev = self.evals[(p, table.id)] = TableEval(table, self.matchers[p])
            new_inputs = [
                name
                for name in space.types
                if (INPUT, name) in needs[position] and name not in introduced
            ]
            # Inputs only this table reads are never stored: each class is evaluated for every
            # combination of their values, and they are summed out right away.
            later: set[Column] = set().union(*needs[position + 1 :])
            local = [
                name
                for name in new_inputs
                if (INPUT, name) not in later
                and name not in self.keep
                and not (space.number_partners(name) & set(new_inputs))
            ]
            for name in new_inputs:
                introduced.add(name)
                if name not in local:
                    states = self._introduce(name, columns, states)
                    columns.append((INPUT, name))
            index = {c: i for i, c in enumerate(columns)}
            index.update({(INPUT, name): len(columns) + i for i, name in enumerate(local)})
            pick = _getter([index[(INPUT, n) if n in space.types else (p, n)] for n in ev.needs])
            domains = self._local_domains(local, columns)
            columns = columns + [(p, name) for name in ev.outputs]
            live = set(self.keep_columns(stages, needs, position))
            keep_idx = [
                i
                for i, c in enumerate(columns)
                if c in live or (c[0] == INPUT and c[1] in self.keep)
            ]
            project = _getter(keep_idx)
            out: dict[tuple[Any, ...], WalkClass] = {}
            # per distinct result: the result, and the class of the states that got it
            fired: dict[int, tuple[Outcome, WalkClass]] = {}
            evaluated = 0
            for key, cls in states.items():
                for combo, pairs, extra in domains(key):
                    evaluated += 1
                    result = ev(pick(key + combo) if combo else pick(key))
                    cost = cls.cost + extra
                    seen_result = fired.get(id(result))
                    if seen_result is None:
                        group = WalkClass(cls.weight, (*cls.assignment, *pairs), cost)
                        fired[id(result)] = (result, group)
                    else:
                        group = seen_result[1]
                        group.weight += cls.weight
                        if cost < group.cost:
                            group.assignment, group.cost = (*cls.assignment, *pairs), cost
                    if result.values is None:
                        continue
                    new_key = project(key + result.values)
                    existing = out.get(new_key)
                    if existing is None:
                        out[new_key] = WalkClass(cls.weight, (*cls.assignment, *pairs), cost)
                    else:
                        existing.weight += cls.weight
                        if cost < existing.cost:
                            existing.assignment = (*cls.assignment, *pairs)
                            existing.cost = cost
            self.evaluated += evaluated
            for result, group in fired.values():
                for rule_index in result.fired:
                    k = (p, table.id, rule_index)
                    self.fired[k] = self.fired.get(k, 0) + group.weight
                if table.combine is not Combine.COLLECT and (
                    result.values is None or len(result.matches) > 1
                ):
                    self._record(p, table, result, group)
            states = out
            columns = [columns[i] for i in keep_idx]
        self.columns = columns
        self.final = states

    def _local_domains(
        self, local: Sequence[str], columns: Sequence[Column]
    ) -> Callable[[tuple[Any, ...]], Sequence[tuple[tuple[Any, ...], Assignment, int]]]:
        """For a class key: every combination of the local inputs, with the non-default pairs
        it adds to the class's smallest member and how many."""
        space = self.space
        if not local:
            none: list[tuple[tuple[Any, ...], Assignment, int]] = [((), (), 0)]
            return lambda key: none
        fixed: list[list[tuple[Any, Assignment, int]] | None] = []
        partner_idx: list[list[int]] = []
        for name in local:
            domain = space.domains[name]
            if domain.values is None:
                partners = space.number_partners(name)
                partner_idx.append([i for i, (_, n) in enumerate(columns) if n in partners])
                fixed.append(None)
            else:
                partner_idx.append([])
                fixed.append([self._option(name, v) for v in domain.values])
        cache: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], Assignment, int]]] = {}

        def combos(key: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Assignment, int]]:
            extras = tuple(tuple(key[i] for i in idx if _is_number(key[i])) for idx in partner_idx)
            found = cache.get(extras)
            if found is None:
                options = [
                    given
                    if given is not None
                    else [self._option(name, v) for v in space.number_points(name, extra)]
                    for name, given, extra in zip(local, fixed, extras, strict=True)
                ]
                found = cache[extras] = [
                    (
                        tuple(value for value, _, _ in choice),
                        tuple(pair for _, pairs, _ in choice for pair in pairs),
                        sum(cost for _, _, cost in choice),
                    )
                    for choice in itertools.product(*options)
                ]
            return found

        return combos

    def _option(self, name: str, value: Any) -> tuple[Any, Assignment, int]:
        if value == self.space.defaults[name]:
            return value, (), 0
        return value, ((name, value),), 1

    def _stage_needs(self, p: int, table: CompiledTable) -> set[Column]:
        derived = self.space.policies[p].producers
        return {(p, n) if n in derived else (INPUT, n) for n in table_needs(table)}

    def keep_columns(
        self,
        stages: Sequence[tuple[int, CompiledTable]],
        needs: Sequence[set[Column]],
        position: int,
    ) -> set[Column]:
        live: set[Column] = set()
        for later in needs[position + 1 :]:
            live |= later
        for p in range(len(self.space.policies)):
            live |= {(p, name) for name in self.outputs}
        return live

    def _introduce(
        self, name: str, columns: list[Column], states: dict[tuple[Any, ...], WalkClass]
    ) -> dict[tuple[Any, ...], WalkClass]:
        space = self.space
        domain = space.domains[name]
        default = space.defaults[name]
        partner_idx: list[int] = []
        if domain.kind == "number":
            partners = space.number_partners(name)
            partner_idx = [i for i, (_, n) in enumerate(columns) if n in partners]
        out: dict[tuple[Any, ...], WalkClass] = {}
        cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for key, cls in states.items():
            if domain.values is not None:
                values = domain.values
            else:
                extra = tuple(key[i] for i in partner_idx if _is_number(key[i]))
                values = cache.get(extra) or cache.setdefault(
                    extra, space.number_points(name, extra)
                )
            for value in values:
                if value == default:
                    out[(*key, value)] = WalkClass(cls.weight, cls.assignment, cls.cost)
                else:
                    out[(*key, value)] = WalkClass(
                        cls.weight, (*cls.assignment, (name, value)), cls.cost + 1
                    )
        return out

    def _record(self, p: int, table: CompiledTable, result: Outcome, cls: WalkClass) -> None:
        if result.problem is not None:
            rules = tuple(table.rules[i].id for i in result.fired)
            for finding in self.findings:
                if (finding.kind, finding.policy, finding.table, finding.rules) == (
                    result.problem,
                    p,
                    table.id,
                    rules,
                ):
                    finding.example.offer(cls.weight, cls.assignment, cls.cost)
                    return
            self.findings.append(
                Finding(
                    result.problem,
                    p,
                    table.id,
                    rules,
                    WalkClass(cls.weight, cls.assignment, cls.cost),
                )
            )
            return
        if table.combine is Combine.FIRST and len(result.matches) > 1:
            winner = result.matches[0]
            for loser in result.matches[1:]:
                k = (p, table.id, loser)
                seen = self.shadowed.get(k)
                if seen is None:
                    self.shadowed[k] = (winner, WalkClass(cls.weight, cls.assignment, cls.cost))
                else:
                    seen[1].offer(cls.weight, cls.assignment, cls.cost)

    def total(self) -> int:
        """How many incidents of the discretised space the walk covered."""
        return sum(cls.weight for cls in self.final.values()) + sum(
            f.example.weight for f in self.findings
        )


def _stages(tables: Sequence[Sequence[CompiledTable]]) -> list[tuple[int, CompiledTable]]:
    """The tables of every policy, interleaved by position so that shared inputs meet early."""
    out: list[tuple[int, CompiledTable]] = []
    for position in range(max((len(t) for t in tables), default=0)):
        for p, policy_tables in enumerate(tables):
            if position < len(policy_tables):
                out.append((p, policy_tables[position]))
    return out


def split_tables(
    policy: Policy, outputs: Sequence[str]
) -> tuple[tuple[CompiledTable, ...], tuple[CompiledTable, ...]]:
    """The tables ``outputs`` depend on (in pipeline order), and the rest (the "sinks")."""
    wanted = {name for name in outputs if name in policy.producers}
    core: set[str] = set()
    for table in reversed(policy.tables):
        if wanted & set(table.outputs):
            core.add(table.id)
            wanted |= {n for n in table_needs(table) if n in policy.producers}
    first = tuple(t for t in policy.tables if t.id in core)
    rest = tuple(t for t in policy.tables if t.id not in core)
    return first, rest


def _getter(indexes: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A fast ``lambda key: tuple(key[i] for i in indexes)``."""
    if not indexes:
        return lambda key: ()
    if len(indexes) == 1:
        (only,) = indexes
        return lambda key: (key[only],)
    return operator.itemgetter(*indexes)


Decider = Callable[[Incident], Any]
