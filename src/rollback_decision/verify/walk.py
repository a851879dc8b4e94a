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
from dataclasses import dataclass, field
from typing import Any

from rollback_decision.engine.core import DECISION_OUTPUTS, Matcher
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.semantics import Combine, Outcome
from rollback_decision.policy.types import FactType
from rollback_decision.verify.abstraction import Canon, canon_for, merge_classes
from rollback_decision.verify.domains import FactSpace, is_number, table_needs
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.runs import Plan, block_of, compares, number_order, plan_table
from rollback_decision.verify.schedule import walk_order
from rollback_decision.verify.tables import TableEval

__all__ = [
    "INPUT",
    "MAX_CLASSES",
    "MAX_EVALUATIONS",
    "Column",
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
#: Most combinations one table is evaluated for (a few microseconds each): past it the walk
#: stops and says where, rather than run for hours.
MAX_EVALUATIONS = 25_000_000


class WalkLimit(Exception):
    """The walk stopped: the classes it would hold reached its limit."""

    def __init__(self, table: str, limit: int, what: str = "classes of incidents") -> None:
        super().__init__(table, limit, what)
        self.table = table
        self.limit = limit
        self.what = what

    def __str__(self) -> str:
        return (
            f"the walk stopped at table {self.table!r}: it would hold more than "
            f"{self.limit:,} {self.what}"
        )


#: Column of a walk state: ("in", fact) for an input, (policy index, fact) for a derived fact.
Column = tuple[Any, str]


# -- evaluating one table -----------------------------------------------------------------------


@dataclass(slots=True)
class WalkClass:
    """A class of incidents the walk cannot tell apart: how many incidents of the space it
    stands for, and its smallest member (fewest non-default facts)."""

    weight: int
    assignment: Assignment
    cost: int

    def absorb(self, other: WalkClass) -> None:
        """Take ``other`` in: its incidents become this class's."""
        self.offer(other.weight, other.assignment, other.cost)

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
    #: most evaluations of one table (a bound on time); past it :meth:`run` raises
    #: :class:`WalkLimit`
    max_evaluations: int = MAX_EVALUATIONS
    #: visit the tables in the cheapest valid order (:mod:`.schedule`); False: pipeline order
    ordered: bool = True
    #: merge the values later tables cannot tell apart (:mod:`.abstraction`)
    collapse: bool = True
    #: merge runs of a number kept only for the invariants (see :meth:`_run_number`); False
    #: keeps every point of it apart, as the first verifier did
    runs: bool = True

    def run(self) -> None:
        space = self.space
        # per column, the tables its values were last merged for (see _collapse)
        self._merged_for: dict[Column, tuple[int, ...]] = {}
        # whether _collapse merged values since the last _canonical (the start may not be
        # canonical)
        self._merged = True
        tables = self.tables if self.tables is not None else space.tables
        wanted = self.keep | set(self.outputs)
        stages = _stages(
            [
                walk_order(
                    ts,
                    self._size_of(p),
                    wanted,
                    pinned=not self.ordered or self.matchers[p] is not None,
                )
                for p, ts in enumerate(tables)
            ]
        )
        needs = [self._stage_needs(p, t) for p, t in stages]
        columns: list[Column] = list(self.start_columns)
        states: dict[tuple[Any, ...], WalkClass] = dict(self.start) or {(): WalkClass(1, (), 0)}
        introduced: set[str] = {name for ns, name in columns if ns == INPUT}
        for position, (p, table) in enumerate(stages):
            ev = self._eval(p, table)
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
            run_name, readers = self._run_number(
                new_inputs, local, later, columns, stages[position + 1 :], needs[position + 1 :]
            )
            if run_name is not None:
                local.append(run_name)  # last, so that its points vary fastest
            for name in new_inputs:
                introduced.add(name)
                if name not in local:
                    # its values the tables from here on cannot tell apart are merged as they
                    # are introduced
                    canons = self._canons(
                        [*columns, (INPUT, name)],
                        stages[position:],
                        needs[position:],
                        only=(INPUT, name),
                    )
                    states = self._introduce(
                        name, columns, states, table.id, canons[0][1] if canons else None
                    )
                    columns.append((INPUT, name))
            index = {c: i for i, c in enumerate(columns)}
            index.update({(INPUT, name): len(columns) + i for i, name in enumerate(local)})
            reads = [index[(INPUT, n) if n in space.types else (p, n)] for n in ev.needs]
            pick = _getter(reads)
            width = len(columns)
            tested = (
                [
                    (n, i)
                    for n, i in zip(ev.needs, reads, strict=True)
                    if i < width and ev.tested(n)
                ],
                [
                    (n, i - width)
                    for n, i in zip(ev.needs, reads, strict=True)
                    if i >= width and ev.tested(n)
                ],
            )
            domains = self._local_domains(local, columns)
            # A run number keeps its order to the class's other numbers (an invariant may
            # compare it with one: equal fix and rollback times).
            related = self._free_numbers(columns) if run_name is not None else []
            # What a class's results depend on: the columns the table reads, and those the
            # points of its local numbers depend on. Classes that agree there share one plan.
            partners: set[str] = set()
            for name in local:
                if space.domains[name].values is None:
                    partners |= space.number_partners(name)
            as_is = {i for i, (_, n) in enumerate(columns) if n in partners} | set(related)
            depends = sorted(as_is | {i for i in reads if i < len(columns)})
            exact = _getter(depends)
            signature = _signature(
                ev,
                depends,
                {i: n for i, n in zip(reads, ev.needs, strict=True) if i < len(columns)},
                as_is,
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
            plans: dict[tuple[Any, ...], Plan] = {}
            # per plan, in the order of its first class: the plan, the weight of its classes,
            # and the first of them with the fewest non-default facts (cost, position, pairs)
            used: dict[int, list[Any]] = {}
            evaluated = held = 0
            # the plan of each signature's exact values, then of its signature
            by_values: dict[tuple[Any, ...], Plan] = {}
            for position_of_class, (key, cls) in enumerate(states.items()):
                values = exact(key)
                plan = by_values.get(values)
                if plan is None:
                    sig = signature(key) if signature is not None else values
                    plan = plans.get(sig)
                    if plan is None:
                        plan = plans[sig] = plan_table(
                            key, domains, ev, pick, run_name, run_at, related, tested, readers
                        )
                        evaluated += plan.evaluated
                        held += len(plan.results) + len(plan.tails)
                        if held > self.max_classes:
                            # each plan holds its results and tails until the table is done
                            raise WalkLimit(table.id, self.max_classes, "results of one table")
                        if evaluated > self.max_evaluations:
                            raise WalkLimit(table.id, self.max_evaluations, "table evaluations")
                    by_values[values] = plan
                weight, cost = cls.weight, cls.cost
                seen_plan = used.get(id(plan))
                if seen_plan is None:
                    used[id(plan)] = [plan, weight, cost, position_of_class, cls.assignment]
                else:
                    seen_plan[1] += weight
                    if cost < seen_plan[2]:
                        seen_plan[2:] = [cost, position_of_class, cls.assignment]
                # Tails that end up in one class: their count, and the first smallest member.
                pending: dict[tuple[Any, ...], list[Any]] = {}
                for tail, count, extra, order, pairs in plan.tails:
                    new_key = project(key + tail)
                    seen_tail = pending.get(new_key)
                    if seen_tail is None:
                        pending[new_key] = [count, extra, order, pairs]
                    else:
                        seen_tail[0] += count
                        if (extra, order) < (seen_tail[1], seen_tail[2]):
                            seen_tail[1:] = [extra, order, pairs]
                for new_key, (count, extra, _, pairs) in pending.items():
                    existing = out.get(new_key)
                    if existing is None:
                        out[new_key] = WalkClass(
                            weight * count, (*cls.assignment, *pairs), cost + extra
                        )
                        if len(out) > self.max_classes:
                            raise WalkLimit(table.id, self.max_classes)
                    else:
                        existing.weight += weight * count
                        if cost + extra < existing.cost:
                            existing.assignment = (*cls.assignment, *pairs)
                            existing.cost = cost + extra
            self.evaluated += evaluated
            # Per distinct result: the weight of the incidents that got it, and the first of
            # them (in walk order) with the fewest non-default facts.
            best: dict[int, list[Any]] = {}
            for plan, weight, cost, first, assignment in used.values():
                for result, count, extra, order, pairs in plan.results:
                    rank = (cost + extra, first, order)
                    seen_best = best.get(id(result))
                    if seen_best is None:
                        best[id(result)] = [result, weight * count, rank, assignment, pairs]
                    else:
                        seen_best[1] += weight * count
                        if rank < seen_best[2]:
                            seen_best[2:] = [rank, assignment, pairs]
            for result, weight, rank, assignment, pairs in best.values():
                fired[id(result)] = (result, WalkClass(weight, (*assignment, *pairs), rank[0]))
            for result, group in fired.values():
                for rule_index in result.fired:
                    k = (p, table.id, rule_index)
                    self.fired[k] = self.fired.get(k, 0) + group.weight
                if table.combine is not Combine.COLLECT and (
                    result.values is None or len(result.matches) > 1
                ):
                    self._record(p, table, result, group)
            dropped = len(keep_idx) < len(columns)
            columns = [columns[i] for i in keep_idx]
            states = self._collapse(out, columns, stages[position + 1 :], needs[position + 1 :])
            # Classes were canonical after the last table; only a number this table made,
            # a column dropped or values merged can make two of them one now.
            if dropped or self._merged or self._makes_free_number(p, table):
                states = self._canonical(states, columns, p, table, stages[position + 1 :])
                self._merged = False
        self.columns = columns
        self.final = states

    def _collapse(
        self,
        states: dict[tuple[Any, ...], WalkClass],
        columns: Sequence[Column],
        readers: Sequence[tuple[int, CompiledTable]],
        needs: Sequence[set[Column]],
        only: Column | None = None,
    ) -> dict[tuple[Any, ...], WalkClass]:
        """``states`` with the values of each column (or of ``only``) that the tables
        ``readers`` cannot tell apart merged (see :mod:`~rollback_decision.verify.abstraction`)."""
        return merge_classes(states, self._canons(columns, readers, needs, only), WalkClass.absorb)

    def _canons(
        self,
        columns: Sequence[Column],
        readers: Sequence[tuple[int, CompiledTable]],
        needs: Sequence[set[Column]],
        only: Column | None = None,
    ) -> list[tuple[int, Canon]]:
        """Per column (or only ``only``) whose values ``readers`` can tell apart less than
        now: its position and the value each of its values merges into."""
        canons: list[tuple[int, Canon]] = []
        for index, column in enumerate(columns if self.collapse else ()):
            if only is not None and column != only:
                continue
            ns, name = column
            if (ns == INPUT and name in self.keep) or (ns != INPUT and name in self.outputs):
                continue
            tables = [t for (_, t), n in zip(readers, needs, strict=True) if column in n]
            # The same readers merge the same values: a column merged for them already is.
            seen = tuple(map(id, tables))
            if self._merged_for.get(column) == seen:
                continue
            self._merged_for[column] = seen
            canon = canon_for(name, self._type(column).kind, tables)
            if canon is not None:
                canons.append((index, canon))
        self._merged = self._merged or bool(canons)
        return canons

    def _size_of(self, p: int) -> Callable[[str], float]:
        """How many values a fact of policy ``p`` takes in the walk, roughly (for its order)."""
        space = self.space

        def size(name: str) -> float:
            if name in space.types:
                domain = space.domains[name]
                if domain.values is not None:
                    return len(domain.values)
                return len(space.number_points(name))
            ftype = self._type((p, name))
            if ftype.kind == "boolean":
                return 2 + ftype.nullable
            if ftype.values:
                count = len(ftype.values) + ftype.nullable
                return 2.0 ** min(count, 8) if ftype.kind == "list" else count
            return 8

        return size

    def _type(self, column: Column) -> FactType:
        """The type of a column: an input fact's, or the output type its table declares."""
        ns, name = column
        if ns == INPUT:
            return self.space.types[name]
        policy = self.space.policies[ns]
        return policy.table(policy.producers[name]).outputs[name]

    def _canonical(
        self,
        states: dict[tuple[Any, ...], WalkClass],
        columns: Sequence[Column],
        p: int,
        table: CompiledTable,
        later: Sequence[tuple[int, CompiledTable]],
    ) -> dict[tuple[Any, ...], WalkClass]:
        """Classes that differ only in numbers the tables so far made, where the numbers fall
        in the same block of every cut that can still tell them apart, are one class (shown by
        its first smallest member). The cuts of a number are its thresholds, those of the facts it
        is compared with, and 0 (where a compared fact's points start): the facts compared with
        it take the same points around any member of a block, so what follows is the same.
        A number with listed values, copied into another fact, or compared with a fact outside
        the walk's tables keeps its values."""
        if not self.runs or not states:
            return states
        space = self.space
        walks = self.tables if self.tables is not None else space.tables
        cuts: dict[int, list[float]] = {}
        for i in self._free_numbers(columns):
            ns, name = columns[i]
            if ns == INPUT:
                continue
            # made by a table of policy ns that is done: this one, or one before it
            if any(q == ns and name in t.outputs for q, t in later):
                continue
            if any(
                q == ns and source == name
                for q, t in later
                for rule in t.rules
                for _, _, source in rule.sets
            ):
                continue  # copied into another fact
            walked = {t.id for t in walks[ns]}
            outside = [t for t in space.policies[ns].tables if t.id not in walked]
            if any(compares(t, name) for t in outside):
                continue
            points = {0.0, *space.number_thresholds(name)}
            for partner in space.number_partners(name):
                points |= space.number_thresholds(partner)
            cuts[i] = sorted(points)
        if not cuts:
            return states
        # Numbers of the class a compared fact's points are cut at together: their order to
        # each other stays (two rollback ETAs of two policies, equal or not, say).
        numbers = self._free_numbers(columns)
        watched = sorted(set(cuts) | set(numbers))
        at = {column: k for k, column in enumerate(watched)}
        blocks = [(at[i], points) for i, points in cuts.items()]
        orders = [(at[i], at[j]) for i in cuts for j in numbers if j != i]
        numbers_of = _getter(watched)
        rest_of = _getter([i for i in range(len(columns)) if i not in cuts])
        # per distinct numbers of a class: their blocks and their order to each other
        shapes: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        # per merged key: the key of its first smallest member, its class, whether it is a copy
        merged: dict[tuple[Any, ...], list[Any]] = {}
        for key, cls in states.items():
            values = numbers_of(key)
            shape = shapes.get(values)
            if shape is None:
                shape = shapes[values] = (
                    *[block_of(values[k], points) for k, points in blocks],
                    *[number_order(values[a], values[b]) for a, b in orders],
                )
            merged_key = (rest_of(key), shape)
            found = merged.get(merged_key)
            if found is None:
                merged[merged_key] = [key, cls, False]
                continue
            if not found[2]:  # the classes given are not changed: the first is copied
                first = found[1]
                found[1:] = [WalkClass(first.weight, first.assignment, first.cost), True]
            group = found[1]
            group.weight += cls.weight
            if cls.cost < group.cost:
                group.assignment, group.cost = cls.assignment, cls.cost
                found[0] = key
        return {key: group for key, group, _ in merged.values()}

    def _makes_free_number(self, p: int, table: CompiledTable) -> bool:
        return any(self._is_free_number((p, name)) for name in table.outputs)

    def _is_free_number(self, column: Column) -> bool:
        ftype = self._type(column)
        return ftype.kind in ("number", "integer") and ftype.values is None

    def _free_numbers(self, columns: Sequence[Column]) -> list[int]:
        """The columns holding numbers whose values are not listed (ETAs, not rollback types)."""
        return [i for i, column in enumerate(columns) if self._is_free_number(column)]

    def _run_number(
        self,
        new_inputs: Sequence[str],
        local: Sequence[str],
        later: set[Column],
        columns: Sequence[Column],
        stages: Sequence[tuple[int, CompiledTable]],
        needs: Sequence[set[Column]],
    ) -> tuple[str | None, list[TableEval]]:
        """A number this table introduces that is walked like a local input, consecutive
        points of it that get the same outputs and stand in the same order to the numbers of
        the class being one class (a *run*), shown by its first point; and the later tables
        that read it.

        Either no later table reads it and it is kept only for the invariants, or every later
        table that reads it tests it alone or compares it with numbers the class holds, and
        copies it nowhere: a run then also keeps which of their tests hold, so that they
        cannot tell its points apart (the fix-forward ETA between two policies' ``decision``
        tables, in ``diff``)."""
        if not self.runs:
            return None, []
        space = self.space
        held = {n for _, n in columns}
        numbers = {columns[i] for i in self._free_numbers(columns)}
        for name in new_inputs:
            if (
                name in local
                or space.domains[name].values is not None
                or space.number_partners(name) & set(new_inputs)
            ):
                continue
            if (INPUT, name) not in later:
                if name in self.keep:
                    return name, []
                continue
            if not space.number_partners(name) <= held:
                continue  # a later input's points would depend on it
            readers = [
                (q, self._eval(q, t))
                for (q, t), n in zip(stages, needs, strict=True)
                if (INPUT, name) in n
            ]
            if all(self._compares_only_held(q, ev, name, numbers) for q, ev in readers):
                return name, [ev for _, ev in readers]
        return None, []

    def _compares_only_held(self, p: int, ev: TableEval, name: str, numbers: set[Column]) -> bool:
        """Whether ``ev`` (of policy ``p``) compares ``name`` only with numbers the class
        holds (``numbers``, whose order to a run point the run keeps), and copies it nowhere."""
        compared = ev.compared_with(name)
        if compared is None:
            return False
        derived = self.space.policies[p].producers
        return all(((p, n) if n in derived else (INPUT, n)) in numbers for n in compared)

    def _eval(self, p: int, table: CompiledTable) -> TableEval:
        """The table's evaluation for this walk (made once)."""
        found = self.evals.get((p, table.id))
        if found is None:
            found = self.evals[(p, table.id)] = TableEval(table, self.matchers[p])
        return found

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
        canon: Canon | None = None,
    ) -> dict[tuple[Any, ...], WalkClass]:
        """``states`` with the input fact ``name`` added: each class once per value of it;
        values ``canon`` merges are one class (as :func:`merge_classes` would make it)."""
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
                    assignment, cost = cls.assignment, cls.cost
                else:
                    assignment, cost = (*cls.assignment, (name, value)), cls.cost + 1
                new_key = (*key, value if canon is None else canon(value))
                existing = out.get(new_key)
                if existing is None:
                    out[new_key] = WalkClass(cls.weight, assignment, cost)
                else:
                    existing.offer(cls.weight, assignment, cost)
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


def _signature(
    ev: TableEval, indexes: Sequence[int], names: Mapping[int, str], as_is: set[int]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """What of a class key a table's plan depends on, when it is less than the values at
    ``indexes`` (None: it is not): a fact the table reads only through tests of it alone
    (:meth:`TableEval.by_tests`) counts by which of those tests hold. Classes that differ only
    in values every test treats alike share one plan: the table cannot tell them apart (two
    lists of components, say, that no rule treats apart)."""
    masked = [i for i in indexes if i in names and i not in as_is and ev.by_tests(names[i])]
    if not masked:
        return None
    plain = _getter([i for i in indexes if i not in masked])
    kind_of = ev.kind_of
    pairs = [(i, names[i]) for i in masked]
    return lambda key: (plain(key), *[kind_of(name, key[i]) for i, name in pairs])


def _getter(indexes: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A fast ``lambda key: tuple(key[i] for i in indexes)``."""
    if not indexes:
        return lambda key: ()
    if len(indexes) == 1:
        (only,) = indexes
        return lambda key: (key[only],)
    return operator.itemgetter(*indexes)
