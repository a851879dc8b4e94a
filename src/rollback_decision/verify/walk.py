"""An exhaustive walk of one or more policies over their discretised fact space.

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

import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rollback_decision.engine.core import DECISION_OUTPUTS, Matcher
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.semantics import Combine, Outcome, outcome
from rollback_decision.verify.domains import FactSpace, is_number, table_needs
from rollback_decision.verify.incidents import Assignment

__all__ = [
    "INPUT",
    "MAX_CLASSES",
    "Column",
    "TableEval",
    "TableProblem",
    "Walk",
    "WalkClass",
    "WalkLimit",
    "split_tables",
]

INPUT = "in"
#: Most classes a walk holds after one table (about 300 bytes each): past it the walk stops
#: and says where (:class:`WalkLimit`), rather than exhaust the machine's memory.
MAX_CLASSES = 1_500_000


class WalkLimit(Exception):
    """The walk stopped: the classes it would hold reached its limit."""

    def __init__(self, table: str, limit: int) -> None:
        super().__init__(table, limit)
        self.table = table
        self.limit = limit

    def __str__(self) -> str:
        return (
            f"the walk stopped at table {self.table!r}: it would hold more than "
            f"{self.limit:,} classes of incidents"
        )


#: Column of a walk state: ("in", fact) for an input, (policy index, fact) for a derived fact.
Column = tuple[Any, str]


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
class TableProblem:
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
    findings: list[TableProblem] = field(default_factory=list)
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
    #: most classes held after one table; past it :meth:`run` raises :class:`WalkLimit`
    max_classes: int = MAX_CLASSES
    #: merge runs of a number kept only for the invariants (see :meth:`_run_number`); False
    #: keeps every point of it apart, as the first verifier did
    runs: bool = True

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
            run_name = self._run_number(new_inputs, local, later)
            if run_name is not None:
                local.append(run_name)  # last, so that its points vary fastest
            for name in new_inputs:
                introduced.add(name)
                if name not in local:
                    states = self._introduce(name, columns, states, table.id)
                    columns.append((INPUT, name))
            index = {c: i for i, c in enumerate(columns)}
            index.update({(INPUT, name): len(columns) + i for i, name in enumerate(local)})
            pick = _getter([index[(INPUT, n) if n in space.types else (p, n)] for n in ev.needs])
            domains = self._local_domains(local, columns)
            # A run number is related to the numbers of the class it is compared with.
            related = (
                [i for i, (_, n) in enumerate(columns) if n in space.number_partners(run_name)]
                if run_name is not None
                else []
            )
            run_at = len(local) - 1
            columns = (
                columns
                + ([(INPUT, run_name)] if run_name is not None else [])
                + [(p, name) for name in ev.outputs]
            )
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
                run: tuple[Any, ...] | None = None  # (others, values, relations, last, first)
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
                        run = None
                        continue
                    if run_name is None:
                        new_key = project(key + result.values)
                    else:
                        run = _extend_run(run, combo, run_at, result.values, key, related)
                        new_key = project((*key, run[4], *result.values))
                    existing = out.get(new_key)
                    if existing is None:
                        out[new_key] = WalkClass(cls.weight, (*cls.assignment, *pairs), cost)
                        if len(out) > self.max_classes:
                            raise WalkLimit(table.id, self.max_classes)
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

    def _run_number(
        self, new_inputs: Sequence[str], local: Sequence[str], later: set[Column]
    ) -> str | None:
        """A number this table introduces that no later table reads and that is kept only for
        the invariants: it is walked like a local input, and consecutive points of it that
        get the same outputs and stand in the same order to the numbers of the class it is
        compared with are one class (a *run*), shown by its first point."""
        if not self.runs:
            return None
        space = self.space
        for name in new_inputs:
            if (
                name not in local
                and (INPUT, name) not in later
                and name in self.keep
                and space.domains[name].values is None
                and not (space.number_partners(name) & set(new_inputs))
            ):
                return name
        return None

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
            extras = tuple(tuple(key[i] for i in idx if is_number(key[i])) for idx in partner_idx)
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

        if not any(partner_idx):
            # No local number depends on the class: one list of combinations serves every key.
            every = combos(())
            return lambda key: every
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
        self,
        name: str,
        columns: list[Column],
        states: dict[tuple[Any, ...], WalkClass],
        table: str,
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
                extra = tuple(key[i] for i in partner_idx if is_number(key[i]))
                values = cache.get(extra) or cache.setdefault(
                    extra, space.number_points(name, extra)
                )
            if len(out) > self.max_classes:
                raise WalkLimit(table, self.max_classes)
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
                TableProblem(
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


def _extend_run(
    run: tuple[Any, ...] | None,
    combo: tuple[Any, ...],
    at: int,
    values: tuple[Any, ...],
    key: tuple[Any, ...],
    related: Sequence[int],
) -> tuple[Any, ...]:
    """The run the point ``combo[at]`` belongs to: the current one if the point follows it
    (same other inputs, larger, same outputs, same order to the related numbers of ``key``),
    else a new one that starts at the point. A run is (other inputs, outputs, relations, last
    point, first point)."""
    value = combo[at]
    others = combo[:at]
    relations = tuple(_order(value, key[i]) for i in related)
    if (
        run is not None
        and is_number(value)
        and is_number(run[3])
        and value > run[3]
        and run[0] == others
        and run[1] == values
        and run[2] == relations
    ):
        return (others, values, relations, value, run[4])
    return (others, values, relations, value, value)


def _order(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 as ``a`` is below, at or above ``b``; None unless both are numbers."""
    if not (is_number(a) and is_number(b)):
        return None
    return (a > b) - (a < b)


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
