"""The walk's stages: one table, or two tables of two policies walked as one step, and what
a stage's results add to the walk's findings.

In ``diff``, the old and the new policy's ``decision`` tables both read the fix-forward ETA,
and nothing else does. Walked one after the other, the ETA has to be carried between them
(as runs of points the first table treats alike, see :func:`.numbers.run_number`), split at
every threshold of either table: with fifty rules added, some 350,000 classes between two
tables where a hundred remain after. Walked as one stage, the ETA is a local input of both:
each class is evaluated over its segments of like points in the first table and then the
second (:func:`.runs.plan_table`), and the ETA is summed out at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.policy import CompiledTable
from rollback_decision.policy.semantics import Combine, Outcome
from rollback_decision.verify.classes import INPUT, Column, WalkClass, getter
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.runs import Member, Plan, signature_of
from rollback_decision.verify.tables import TableEval

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.verify.walk import Walk

__all__ = ["Settle", "Used", "fuse", "members_of", "merge_tails", "tally"]

Key = tuple[Any, ...]
#: What a plan adds to a class key, with how many combinations of the local inputs get it
#: and the first smallest of them (its cost, position and pairs).
Tail = tuple[Key, int, int, int, Assignment]

#: Per plan of a stage: the weight of its classes, the first of them with the fewest
#: non-default facts (cost, position, pairs), how many of them are still to come, and the
#: distinct values :func:`tally` was asked to collect of them (a dict used as an ordered set).
Used = list[Any]


def fuse(
    stages: list[tuple[int, CompiledTable]],
    needs: list[set[Column]],
    space: FactSpace,
    keep: Collection[str],
) -> list[list[int]]:
    """The positions of ``stages`` grouped into the stages the walk takes: two consecutive
    tables of two policies are one stage when an input is read by both and by no other table
    (so that it is summed out at once, not carried between them); every other table is a
    stage of its own.

    A number's points are placed around the values of the facts it is compared with that the
    class holds when it is introduced (see :meth:`.FactSpace.number_points`). So two tables
    are not one stage when one of them introduces a number compared with a fact the other
    makes: the maker goes first (``stages`` and ``needs`` are swapped in place for it), as
    it would in a walk of one table at a time."""
    groups: list[list[int]] = []
    position = 0
    while position < len(stages):
        pair = position + 1 < len(stages) and stages[position][0] != stages[position + 1][0]
        if pair:
            before: set[Column] = set().union(*needs[:position])
            first, second = (
                _waits(stages, needs, space, before, a, b)
                for a, b in ((position, position + 1), (position + 1, position))
            )
            if first and not second:
                stages[position : position + 2] = stages[position + 1], stages[position]
                needs[position : position + 2] = needs[position + 1], needs[position]
            if first or second:
                pair = False
        if pair:
            shared = {
                name
                for ns, name in needs[position] & needs[position + 1]
                if ns == INPUT and name not in keep
            }
            others = [n for i, n in enumerate(needs) if i not in (position, position + 1)]
            if any(not any((INPUT, name) in n for n in others) for name in shared):
                groups.append([position, position + 1])
                position += 2
                continue
        groups.append([position])
        position += 1
    return groups


def _waits(
    stages: Sequence[tuple[int, CompiledTable]],
    needs: Sequence[set[Column]],
    space: FactSpace,
    before: set[Column],
    at: int,
    other: int,
) -> bool:
    """Whether the table at ``at`` introduces a number (one no table ``before`` read) that is
    compared with a fact the table at ``other`` makes."""
    made = set(stages[other][1].outputs)
    return any(
        ns == INPUT
        and column not in before
        and space.domains[name].values is None
        and space.number_partners(name) & made
        for column in needs[at]
        for ns, name in [column]
    )


def members_of(
    space: FactSpace,
    tables: Sequence[tuple[int, TableEval]],
    index: Mapping[Column, int],
    width: int,
    as_is: Collection[int],
) -> tuple[list[Member], Callable[[Key], Any], Callable[[Key], Key]]:
    """The stage's ``tables`` (policy, evaluation) as members of a plan, with ``index`` giving
    each column's position in a class key extended with a combination of the local inputs
    (``width`` the key's); and what a class's plan depends on: its signature and, quicker to
    take, its exact values (the columns the tables read and those at ``as_is``)."""
    members: list[Member] = []
    signatures: list[Callable[[Key], Any]] = []
    read: set[int] = set(as_is)
    for p, ev in tables:
        reads = [index[(INPUT, n) if n in space.types else (p, n)] for n in ev.needs]
        pairs = list(zip(ev.needs, reads, strict=True))
        members.append(
            Member(
                p,
                ev,
                getter(reads),
                [(n, r) for n, r in pairs if r < width and ev.tested(n)],
                [(n, r - width) for n, r in pairs if r >= width and ev.tested(n)],
            )
        )
        depends = sorted({*as_is, *[r for r in reads if r < width]})
        read.update(depends)
        names = {r: n for n, r in pairs if r < width}
        signatures.append(signature_of(ev, depends, names, set(as_is)) or getter(depends))
    exact = getter(sorted(read))
    if len(signatures) == 1:
        return members, signatures[0], exact
    return members, lambda key: tuple([sign(key) for sign in signatures]), exact


def tally(
    states: Mapping[Key, WalkClass],
    exact: Callable[[Key], Key],
    sign: Callable[[Key], Any],
    also: Callable[[Key], Key] | None = None,
) -> tuple[list[Any], dict[Any, Used]]:
    """Per class of ``states``, what its plan depends on (its signature, remembered by its
    ``exact`` values); per plan, in the order of its first class, what :data:`Used` holds,
    and with ``also`` the distinct values ``also`` gives for its classes (a dict, in order).
    Known before any plan is made, so that a plan's results are added up as it is made and
    dropped, and the plan itself once its last class is done: a table with many rules along
    a number has hundreds of results per plan."""
    sigs: list[Any] = []
    used: dict[Any, Used] = {}
    by_values: dict[Key, Any] = {}
    for position, (key, cls) in enumerate(states.items()):
        values = exact(key)
        sig = by_values.get(values)
        if sig is None:
            sig = by_values[values] = sign(key)
        sigs.append(sig)
        seen = used.get(sig)
        if seen is None:
            seen = used[sig] = [cls.weight, cls.cost, position, cls.assignment, 1, {}]
        else:
            seen[0] += cls.weight
            seen[4] += 1
            if cls.cost < seen[1]:
                seen[1:4] = [cls.cost, position, cls.assignment]
        if also is not None:
            seen[5][also(key)] = None
    return sigs, used


def merge_tails(tails: Sequence[Tail], kept: Sequence[int]) -> list[Tail]:
    """A plan's ``tails`` with those that agree on the positions ``kept`` (all a class key
    keeps of them after the stage) made one: they extend every class into the same class.
    Their counts add up; the first smallest (fewest non-default facts, then first point)
    stands for them. In the order of each one's first tail."""
    merged: dict[Key, list[Any]] = {}
    for tail, count, extra, order, pairs in tails:
        kept_values = tuple([tail[i] for i in kept])
        seen = merged.get(kept_values)
        if seen is None:
            merged[kept_values] = [tail, count, extra, order, pairs]
        else:
            seen[1] += count
            if (extra, order) < (seen[2], seen[3]):
                seen[2:] = [extra, order, pairs]
    if len(merged) == len(tails):
        return list(tails)
    return [
        (tail, count, extra, order, pairs) for tail, count, extra, order, pairs in merged.values()
    ]


class Settle:
    """What a stage's results add to the walk's findings, added up plan by plan: per table
    and distinct result, the weight of the incidents that got it and the first of them (in
    walk order) with the fewest non-default facts; then (:meth:`finish`) the rules that
    fired, and the gaps, overlaps and shadowed rules the results show."""

    def __init__(self, walk: Walk, members: Sequence[Member]) -> None:
        self.walk = walk
        self.members = members
        self.best: list[dict[int, list[Any]]] = [{} for _ in members]

    def add(self, plan: Plan, used: Used) -> None:
        """Add ``plan``'s results, for its classes ``used`` (weight, cost, position of the
        first smallest, its pairs), and drop them from the plan."""
        weight, cost, first, assignment = used[:4]
        for best, results in zip(self.best, plan.results, strict=True):
            for result, count, extra, order, pairs in results:
                rank = (cost + extra, first, order)
                seen = best.get(id(result))
                if seen is None:
                    best[id(result)] = [result, weight * count, rank, assignment, pairs]
                else:
                    seen[1] += weight * count
                    if rank < seen[2]:
                        seen[2:] = [rank, assignment, pairs]
        plan.results = []

    def finish(self) -> None:
        for member, best in zip(self.members, self.best, strict=True):
            for result, weight, rank, assignment, pairs in best.values():
                group = WalkClass(weight, (*assignment, *pairs), rank[0])
                _count(self.walk, member.p, member.ev.table, result, group)


def _count(walk: Walk, p: int, table: CompiledTable, result: Outcome, group: WalkClass) -> None:
    for rule_index in result.fired:
        k = (p, table.id, rule_index)
        walk.fired[k] = walk.fired.get(k, 0) + group.weight
    if table.combine is not Combine.COLLECT and (result.values is None or len(result.matches) > 1):
        walk.record(p, table, result, group)
