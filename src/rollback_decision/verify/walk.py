"""An exhaustive walk of one or more policies over their discretised fact space.

The walk does not build the product of all domains (hundreds of millions of incidents for the
shipped policy). It runs the tables in pipeline order over *classes* of incidents: an input
fact joins the walk just before the first table that reads it, and after each table every fact
no later table (and no caller) needs is dropped, merging classes that can no longer be told
apart. Each class carries how many incidents of the discretised space it stands for and its
smallest member (fewest non-default fields), which serves as the counterexample.

Several policies can be walked together over the same space (``diff``): inputs are shared,
each policy's derived facts are kept apart, and the policies' tables of one id are visited one
after the other (:func:`.schedule.joint_order`), as one stage where they alone read an input
(:mod:`.stage`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rollback_decision.engine.core import DECISION_OUTPUTS, Matcher
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.semantics import Combine, Outcome
from rollback_decision.policy.types import FactType
from rollback_decision.verify.abstraction import Canon, canon_for, merge_classes
from rollback_decision.verify.along import AlongChecks
from rollback_decision.verify.classes import (
    INPUT,
    MAX_CLASSES,
    MAX_EVALUATIONS,
    Column,
    TableProblem,
    WalkClass,
    WalkLimit,
    getter,
)
from rollback_decision.verify.domains import FactSpace, table_needs
from rollback_decision.verify.inputs import introduce, local_domains
from rollback_decision.verify.numbers import (
    canonical,
    makes_free_number,
    run_number,
    sweep_number,
)
from rollback_decision.verify.runs import Plan, Steps, plan_table
from rollback_decision.verify.schedule import joint_order, stages_of, walk_order
from rollback_decision.verify.stage import Settle, fuse, members_of, merge_tails, tally
from rollback_decision.verify.tables import TableEval

__all__ = ["Walk"]


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
    #: invariants checked along a number at the one table that reads it (:mod:`.along`)
    along: AlongChecks | None = None
    #: merge runs of a number kept only for the invariants (see :func:`.numbers.run_number`); False
    #: keeps every point of it apart, as the first verifier did
    runs: bool = True
    #: walk the same tables of several policies together: one order for them all
    #: (:func:`.schedule.joint_order`), two tables that alone read an input as one stage
    #: (:func:`.stage.fuse`); False walks each policy in its own order, a table at a time
    joint: bool = True
    #: first-match tables' outcomes keep only the rule that fires (:attr:`TableEval.winners`):
    #: rules that never fire are then not told shadowed from unreachable (see
    #: :meth:`unfired`)
    winners: bool = False

    def run(self) -> None:
        space = self.space
        # per column, the tables its values were last merged for (see _collapse)
        self._merged_for: dict[Column, tuple[int, ...]] = {}
        # whether _collapse merged values since the last _canonical (the start may not be
        # canonical)
        self._merged = True
        tables = self.tables if self.tables is not None else space.tables
        wanted = self.keep | set(self.outputs)
        pinned = [not self.ordered or m is not None for m in self.matchers]
        stages = None
        if self.joint and len(tables) > 1:
            stages = joint_order(tables, self._joint_size(), wanted, pinned=any(pinned))
        if stages is None:
            stages = stages_of(
                [
                    walk_order(ts, self._size_of(p), wanted, pinned=pinned[p])
                    for p, ts in enumerate(tables)
                ]
            )
        needs = [self._stage_needs(p, t) for p, t in stages]
        columns: list[Column] = list(self.start_columns)
        states: dict[tuple[Any, ...], WalkClass] = dict(self.start) or {(): WalkClass(1, (), 0)}
        introduced: set[str] = {name for ns, name in columns if ns == INPUT}
        groups = (
            fuse(stages, needs, space, self.keep)
            if self.joint
            else [[i] for i in range(len(stages))]
        )
        for group in groups:
            position, after = group[0], group[-1] + 1
            evals = [(stages[i][0], self.table_eval(*stages[i])) for i in group]
            p, table = stages[position]
            here: set[Column] = set().union(*needs[position:after])
            new_inputs = [
                name for name in space.types if (INPUT, name) in here and name not in introduced
            ]
            # Inputs only this stage reads are never stored: each class is evaluated for every
            # combination of their values, and they are summed out right away.
            later: set[Column] = set().union(*needs[after:])
            local = [
                name
                for name in new_inputs
                if (INPUT, name) not in later
                and name not in self.keep
                and not (space.number_partners(name) & set(new_inputs))
            ]
            run_name, readers = run_number(
                self,
                new_inputs,
                local,
                later,
                columns,
                stages[after:],
                needs[after:],
            )
            if run_name is not None:
                local.append(run_name)  # last, so that its points vary fastest
            along = None
            if self.along is not None:
                assert len(group) == 1, "invariants are checked along one policy's tables"
                along = self.along.number(new_inputs, local, run_name)
            sweep, related = sweep_number(
                self,
                evals,
                run_name,
                local,
                columns,
                along,
            )
            if sweep is not None and sweep != run_name:
                local.remove(sweep)
                local.append(sweep)  # last, so that its points vary fastest
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
                    states = introduce(
                        self, name, columns, states, table.id, canons[0][1] if canons else None
                    )
                    columns.append((INPUT, name))
            index = {c: i for i, c in enumerate(columns)}
            index.update({(INPUT, name): len(columns) + i for i, name in enumerate(local)})
            domains = local_domains(self, local, columns)
            # What a class's results depend on: the columns the tables read, and those the
            # points of its local numbers depend on. Classes that agree there share one plan.
            partners: set[str] = set()
            for name in local:
                if space.domains[name].values is None:
                    partners |= space.number_partners(name)
            as_is = {i for i, (_, n) in enumerate(columns) if n in partners} | set(related)
            width = len(columns)
            members, sign, exact = members_of(self.space, evals, index, width, as_is)
            run_at = len(local) - 1
            visit = None
            if along is not None and self.along is not None:
                visit = self.along.at(along, p, columns, evals[0][1].outputs, run_at, domains)
            columns = (
                columns
                + ([(INPUT, run_name)] if run_name is not None else [])
                + [(q, name) for q, ev in evals for name in ev.outputs]
            )
            live = set(self.keep_columns(needs, after - 1))
            keep_idx = [
                i
                for i, c in enumerate(columns)
                if c in live or (c[0] == INPUT and c[1] in self.keep)
            ]
            project = getter(keep_idx)
            # the positions of a tail (what a plan adds to a class key) that are kept
            kept_tail = [i - width for i in keep_idx if i >= width]
            out: dict[tuple[Any, ...], WalkClass] = {}
            sigs, used = tally(states, exact, sign, visit.fields_of if visit else None)
            results = Settle(self, members)
            plans: dict[Any, Plan] = {}
            evaluated = held = 0
            # per list of combinations: what its points have in common (see plan_table)
            steps: dict[tuple[int, int], Steps] = {}
            # Each class is let go once done with, so that the classes of the stage and those
            # it makes are not all held at once.
            keys: list[tuple[Any, ...] | None] = list(states)
            classes: list[WalkClass | None] = list(states.values())
            states = {}
            for position, sig in enumerate(sigs):
                key, cls = keys[position], classes[position]
                keys[position] = classes[position] = None
                assert key is not None
                assert cls is not None
                plan = plans.get(sig)
                if plan is None:
                    plan = plans[sig] = plan_table(
                        key,
                        domains,
                        members,
                        run_name,
                        run_at,
                        related,
                        readers,
                        steps,
                        sweep,
                        visit is not None,
                    )
                    evaluated += plan.evaluated
                    plan.tails = merge_tails(plan.tails, kept_tail)
                    held += len(plan.tails)
                    if held > self.max_classes:
                        # the plans of classes still to come hold their tails
                        raise WalkLimit(table.id, self.max_classes, "results of one table")
                    if evaluated > self.max_evaluations:
                        raise WalkLimit(table.id, self.max_evaluations, "table evaluations")
                    results.add(plan, used[sig])
                    if visit is not None:
                        visit.prepare(key, plan, used[sig][5])
                if visit is not None:
                    visit(key, cls, plan)
                weight, cost = cls.weight, cls.cost
                for tail, count, extra, _, pairs in plan.tails:
                    new_key = project(key + tail)
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
                left = used[sig]
                left[4] -= 1
                if not left[4]:  # the plan's last class
                    del plans[sig]
                    held -= len(plan.tails)
                    plan.points = None
            self.evaluated += evaluated
            results.finish()
            dropped = len(keep_idx) < len(columns)
            columns = [columns[i] for i in keep_idx]
            states = self._collapse(out, columns, stages[after:], needs[after:])
            # Classes were canonical after the last stage; only a number this stage made,
            # a column dropped or values merged can make two of them one now.
            if (
                dropped
                or self._merged
                or any(makes_free_number(self, stages[i][0], stages[i][1]) for i in group)
            ):
                states = canonical(self, states, columns, p, table, stages[after:])
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
            canon = canon_for(name, self.column_type(column).kind, tables)
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
            ftype = self.column_type((p, name))
            if ftype.kind == "boolean":
                return 2 + ftype.nullable
            if ftype.values:
                count = len(ftype.values) + ftype.nullable
                return 2.0 ** min(count, 8) if ftype.kind == "list" else count
            return 8

        return size

    def _joint_size(self) -> Callable[[str], float]:
        """:meth:`_size_of` for a fact of any of the policies (the most values it takes)."""
        sizes = [self._size_of(p) for p in range(len(self.space.policies))]
        producers = [policy.producers for policy in self.space.policies]

        def size(name: str) -> float:
            if name in self.space.types:
                return sizes[0](name)
            return max(f(name) for f, made in zip(sizes, producers, strict=True) if name in made)

        return size

    def column_type(self, column: Column) -> FactType:
        """The type of a column: an input fact's, or the output type its table declares."""
        ns, name = column
        if ns == INPUT:
            return self.space.types[name]
        policy = self.space.policies[ns]
        return policy.table(policy.producers[name]).outputs[name]

    def table_eval(self, p: int, table: CompiledTable) -> TableEval:
        """The table's evaluation for this walk (made once)."""
        found = self.evals.get((p, table.id))
        if found is None:
            found = self.evals[(p, table.id)] = TableEval(
                table, self.matchers[p], winners=self.winners
            )
        return found

    def _stage_needs(self, p: int, table: CompiledTable) -> set[Column]:
        derived = self.space.policies[p].producers
        return {(p, n) if n in derived else (INPUT, n) for n in table_needs(table)}

    def keep_columns(self, needs: Sequence[set[Column]], position: int) -> set[Column]:
        """The columns to keep after the table at ``position``: what later tables read and
        the outputs asked for."""
        live: set[Column] = set()
        for later in needs[position + 1 :]:
            live |= later
        for p in range(len(self.space.policies)):
            live |= {(p, name) for name in self.outputs}
        return live

    def record(self, p: int, table: CompiledTable, result: Outcome, cls: WalkClass) -> None:
        """Note a gap or overlap ``result`` shows, or the rules an earlier one shadowed."""
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

    def unfired(self) -> bool:
        """Whether a rule of a first-match table the walk visited never fired."""
        return any(
            ev.table.combine is Combine.FIRST and (p, ev.table.id, rule.index) not in self.fired
            for (p, _), ev in self.evals.items()
            for rule in ev.table.rules
        )

    def total(self) -> int:
        """How many incidents of the discretised space the walk covered."""
        return sum(cls.weight for cls in self.final.values()) + sum(
            f.example.weight for f in self.findings
        )
