"""What the walk does to the numbers of a class: one plan of a table's results per signature of
the columns it depends on, runs of consecutive points of a number that get the same results,
and blocks of the cuts that can still tell a number's values apart."""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import condition_tests
from rollback_decision.policy.semantics import Outcome
from rollback_decision.verify.classes import getter
from rollback_decision.verify.domains import is_number
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.tables import TableEval

__all__ = [
    "Member",
    "Plan",
    "Steps",
    "block_of",
    "compares",
    "extend_run",
    "number_order",
    "plan_table",
    "signature_of",
]


@dataclass
class Plan:
    """What one stage does to every class that agrees on the columns it depends on: per table
    of the stage, each distinct result, and each distinct tail the class's key is extended
    with, with how many combinations of the local inputs get it, and the first smallest of
    them and its position; and how many evaluations it took (one per segment of like points,
    see :class:`Steps`)."""

    evaluated: int
    #: per table of the stage (see :class:`Member`); emptied once added up (:class:`.stage.Settle`)
    results: list[list[tuple[Outcome, int, int, int, Assignment]]]
    tails: list[tuple[tuple[Any, ...], int, int, int, Assignment]]
    #: when asked for: each segment that got a decision, in order (first point, points, result
    #: of the stage's one table)
    points: list[tuple[int, int, Outcome]] | None = None
    #: per decision fields of its classes, the segments that break an invariant checked
    #: along the number (:meth:`.along.AlongVisit.prepare`, which drops ``points``)
    failing: dict[tuple[Any, ...], list[tuple[str, int, int]]] | None = None


@dataclass(frozen=True)
class Member:
    """One table of a stage, evaluated on a class key extended with a combination of the
    local inputs: ``pick`` gives the values of the facts it reads, ``in_key`` and
    ``in_combo`` name the facts it tests alone with their positions in the key and in a
    combination."""

    p: int
    ev: TableEval
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    in_key: Sequence[tuple[str, int]] = ()
    in_combo: Sequence[tuple[str, int]] = ()


def plan_table(
    key: tuple[Any, ...],
    domains: Callable[[tuple[Any, ...]], Sequence[tuple[tuple[Any, ...], Assignment, int]]],
    members: Sequence[Member],
    run_name: str | None,
    run_at: int,
    related: Sequence[int],
    readers: Sequence[TableEval] = (),
    steps: dict[tuple[int, int], Steps] | None = None,
    sweep: str | None = None,
    record: bool = False,
) -> Plan:
    """What the stage's tables (``members``, run one after the other on what the one before
    lets through) do to the class ``key`` and every combination of the local inputs
    (``domains``); ``readers`` are the later tables that read the run number ``run_name``: a
    run also keeps which of their tests of it hold. The rules' masks of the facts a member
    tests in the key are worked out once per class.

    ``steps`` remembers, per member and list of combinations, what its points have in common
    in that table (:class:`Steps`, each holding its list; one memo per stage). ``sweep`` names
    the last local input (the run number, or a number summed out here), when every table of
    the stage compares it with no fact but the class's numbers (``related``) and the other
    local inputs, and copies it nowhere: consecutive points of it that the tables' tests of it
    alone accept alike, with the other local inputs and the cost the same, that stand in the
    same order to the class's numbers and that later readers test alike then get the same
    results (and extend the same run), so only the first of them is evaluated (the others
    count; being later and no cheaper, none of them is the smallest). ``record`` keeps each
    segment's result in order (:attr:`Plan.points`; a stage of one table)."""
    if steps is None:
        steps = {}
    results: list[dict[int, list[Any]]] = [{} for _ in members]
    tails: dict[tuple[Any, ...], list[Any]] = {}
    run: tuple[Any, ...] | None = None  # (others, values, relations, last, first)
    around = [key[i] for i in related]
    combos = domains(key)
    cuts = sorted(v for v in around if is_number(v))
    fixed: list[int] = []
    held: list[Steps] = []
    starts: set[int] = set()
    for k, member in enumerate(members):
        fixed.append(member.ev.mask((name, key[i]) for name, i in member.in_key))
        found = steps.get((k, id(combos)))
        if found is None or found.combos is not combos:  # an id is only unique while it lives
            found = steps[(k, id(combos))] = Steps.of(
                combos, member.ev, member.in_combo, sweep, run_at, readers
            )
        held.append(found)
        if len(members) > 1:
            starts |= found.starts(fixed[k], cuts)
    segments = held[0].segments(fixed[0], cuts) if len(members) == 1 else _between(starts, combos)
    points: list[tuple[int, int, Outcome]] | None = [] if record else None
    for order, count in segments:
        combo, pairs, extra = combos[order]
        full = key + combo if combo else key
        values: tuple[Any, ...] | None = ()
        for k, member in enumerate(members):
            result = member.ev.result(member.pick(full), fixed[k] & held[k].accepted[order])
            seen = results[k].get(id(result))
            if seen is None:
                results[k][id(result)] = [result, count, extra, order, pairs]
            else:
                seen[1] += count
                if extra < seen[2]:
                    seen[2:] = [extra, order, pairs]
            if result.values is None:
                values = None
                break  # an incident a table stops reaches no table after it
            values = result.values if k == 0 else (*values, *result.values)  # type: ignore[misc]
        if values is None:
            run = None
            continue
        if points is not None:
            points.append((order, count, result))
        if run_name is None:
            tail = values
        else:
            marks = tuple([r.kind_of(run_name, combo[run_at]) for r in readers]) if readers else ()
            run = extend_run(run, combo, run_at, (values, marks), around)
            if count > 1:  # the segment's last point ends the run for now
                run = (*run[:3], combos[order + count - 1][0][run_at], run[4])
            tail = (run[4], *values)
        seen_tail = tails.get(tail)
        if seen_tail is None:
            tails[tail] = [tail, count, extra, order, pairs]
        else:
            seen_tail[1] += count
            if extra < seen_tail[2]:
                seen_tail[2:] = [extra, order, pairs]
    return Plan(
        len(segments),
        [[(r, n, e, o, a) for r, n, e, o, a in found.values()] for found in results],
        [(t, n, e, o, a) for t, n, e, o, a in tails.values()],
        points,
    )


def _between(starts: set[int], combos: Sequence[Any]) -> list[tuple[int, int]]:
    """The segments (first point, how many points) that ``starts`` cut ``combos`` into."""
    bounds = sorted(starts)
    bounds.append(len(combos))
    return [(a, b - a) for a, b in itertools.pairwise(bounds)]


@dataclass
class Steps:
    """What tells consecutive combinations of one list apart, in one table, whatever the
    class: where a segment of like points always starts (``hard``: another value of the
    other local inputs, another cost, a value that is not a number, another mark of a later
    reader), and where it starts in some classes only (``soft``: the rules the point's tests
    accept change, ``diffs``, or one of the class's numbers lies between the two points'
    values, ``lows`` and ``highs``)."""

    combos: Sequence[tuple[tuple[Any, ...], Assignment, int]]
    accepted: list[int]
    hard: list[int]
    soft: list[int]
    diffs: list[int]
    lows: list[Any]
    highs: list[Any]
    singles: list[tuple[int, int]] | None = None
    #: the rules whose answer changes somewhere along the list (the OR of ``diffs``)
    changing: int = 0
    #: a first-match table walked for its winners (:attr:`TableEval.winners`): a rule after
    #: one that holds at every point never fires, so its changes cut no segment
    winners: bool = False
    #: the rules whose tests of the list's facts hold at every point (the AND of ``accepted``),
    #: less those with a part that reads several facts (their predicate decides)
    everywhere: int = 0
    #: :meth:`starts` remembered: the soft starts per standing rules that change, per cut
    by_rules: dict[int, list[int]] = field(default_factory=dict)
    by_cut: dict[Any, list[int]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        combos: Sequence[tuple[tuple[Any, ...], Assignment, int]],
        ev: TableEval,
        in_combo: Sequence[tuple[str, int]],
        run_name: str | None,
        run_at: int,
        readers: Sequence[TableEval],
    ) -> Steps:
        """The steps of ``combos`` in ``ev``, whose tests of one fact alone read the facts
        ``in_combo`` (name, position) of a combination; with no ``run_name``, every point is
        a segment of its own."""
        accepts = ev.accepts
        accepted: list[int] = [-1] * len(combos)
        for k, (name, at) in enumerate(in_combo):
            alone = [accepts(name, combo[at]) for combo, _, _ in combos]
            accepted = alone if k == 0 else list(map(operator.and_, accepted, alone))
        steps = cls(combos, accepted, [], [], [], [], [])
        if run_name is None:
            steps.hard = list(range(len(combos)))
            return steps
        steps.winners = ev.winners
        steps.everywhere = functools.reduce(operator.and_, accepted, -1) & ~ev.mixed
        # Two consecutive points are alike where the other inputs, the cost and the later
        # readers' marks are the same and the number rises between them.
        values = [combo[run_at] for combo, _, _ in combos]
        numbers = list(map(is_number, values))
        alike: list[Any] = (
            [(combo[:run_at], extra) for combo, _, extra in combos]
            if run_at
            else [extra for _, _, extra in combos]
        )
        if readers:
            kinds = [r.kind_of for r in readers]
            alike = [
                (same, tuple([kind(run_name, value) for kind in kinds]))
                for same, value in zip(alike, values, strict=True)
            ]
        hard, soft, diffs = steps.hard, steps.soft, steps.diffs
        lows, highs = steps.lows, steps.highs
        changing = 0
        for i in range(len(combos)):
            if (
                i
                and numbers[i]
                and numbers[i - 1]
                and values[i] > values[i - 1]
                and alike[i] == alike[i - 1]
            ):
                soft.append(i)
                diff = accepted[i] ^ accepted[i - 1]
                diffs.append(diff)
                changing |= diff
                lows.append(values[i - 1])
                highs.append(values[i])
            else:
                hard.append(i)
        steps.changing = changing
        return steps

    def segments(self, fixed: int, cuts: Sequence[float]) -> list[tuple[int, int]]:
        """The segments of a class whose rules standing are ``fixed`` and whose numbers are
        ``cuts``: (first point, how many points)."""
        if not self.soft:  # every point a segment of its own, whatever the class
            if self.singles is None:
                self.singles = [(i, 1) for i in self.hard]
            return self.singles
        return _between(self.starts(fixed, cuts), self.combos)

    def starts(self, fixed: int, cuts: Sequence[float]) -> set[int]:
        """Where the segments of a class whose rules standing are ``fixed`` and whose numbers
        are ``cuts`` start (remembered by the standing rules whose answer changes along the
        list, and by cut: the classes of one list often share both)."""
        starts = set(self.hard)
        changing = fixed & self.changing
        if self.winners and changing:
            sure = fixed & self.everywhere
            if sure:  # the first rule that always holds wins over every rule after it
                changing &= (sure & -sure) - 1
        by_rules = self.by_rules.get(changing)
        if by_rules is None:
            by_rules = self.by_rules[changing] = [
                i for i, d in zip(self.soft, self.diffs, strict=True) if d & changing
            ]
        starts.update(by_rules)
        for cut in cuts:
            by_cut = self.by_cut.get(cut)
            if by_cut is None:
                by_cut = self.by_cut[cut] = [
                    i
                    for i, low, high in zip(self.soft, self.lows, self.highs, strict=True)
                    if low <= cut <= high
                ]
            starts.update(by_cut)
        return starts


def extend_run(
    run: tuple[Any, ...] | None,
    combo: tuple[Any, ...],
    at: int,
    values: tuple[Any, ...],
    around: Sequence[Any],
) -> tuple[Any, ...]:
    """The run the point ``combo[at]`` belongs to: the current one if the point follows it
    (same other inputs, larger, same outputs, same order to the numbers ``around`` it: the
    related numbers of the class), else a new one that starts at the point. A run is (other
    inputs, outputs, relations, last point, first point)."""
    value = combo[at]
    others = combo[:at]
    number = is_number(value)
    relations = (
        tuple([(value > r) - (value < r) if number and is_number(r) else None for r in around])
        if around
        else ()
    )
    if (
        run is not None
        and number
        and is_number(run[3])
        and value > run[3]
        and run[0] == others
        and run[1] == values
        and run[2] == relations
    ):
        return (others, values, relations, value, run[4])
    return (others, values, relations, value, value)


def compares(table: CompiledTable, name: str) -> bool:
    """Whether a rule of ``table`` compares the fact ``name`` with another fact."""
    return any(
        test.operand.fact is not None and name in (test.fact, test.operand.fact)
        for rule in table.rules
        for test in condition_tests(rule.condition)
    )


def block_of(value: Any, cuts: Sequence[float]) -> Any:
    """Which block of ``cuts`` a value falls in: ("at", i) on cut i, ("below", i) under it
    (above the one before), or the value itself when it is not a number."""
    if not is_number(value):
        return value
    i = bisect.bisect_left(cuts, value)
    if i < len(cuts) and cuts[i] == value:
        return ("at", i)
    return ("below", i)


def number_order(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 as ``a`` is below, at or above ``b``; None unless both are numbers."""
    if not (is_number(a) and is_number(b)):
        return None
    return int(a > b) - int(a < b)


def signature_of(
    ev: TableEval, indexes: Sequence[int], names: Mapping[int, str], as_is: set[int]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """What of a class key a table's plan depends on, when it is less than the values at
    ``indexes`` (None: it is not): a fact the table reads only through tests of it alone
    (:meth:`TableEval.by_tests`) counts by which of those tests hold, and one it also orders
    against facts the key holds (:meth:`TableEval.ordered_with`) by its order to each of them
    too. Classes that differ only in values every test and comparison treats alike share one
    plan: the table cannot tell them apart (two lists of components, say, that no rule treats
    apart; in ``diff``, two fix-forward ETAs on the same side of every threshold of the new
    policy's ``decision`` table and of the rollback ETA)."""
    at = {name: i for i, name in names.items()}
    masked: list[int] = []
    orders: list[tuple[int, int]] = []
    for i in indexes:
        if i not in names or i in as_is:
            continue
        compared = ev.ordered_with(names[i])
        if compared is None or not all(n in at for n in compared):
            continue
        masked.append(i)
        orders += [(i, at[n]) for n in sorted(compared) if (at[n], i) not in orders]
    if not masked:
        return None
    plain = getter([i for i in indexes if i not in masked])
    kind_of = ev.kind_of
    pairs = [(i, names[i]) for i in masked]
    if not orders:
        return lambda key: (plain(key), *[kind_of(name, key[i]) for i, name in pairs])
    return lambda key: (
        plain(key),
        *[kind_of(name, key[i]) for i, name in pairs],
        *[_order_or_values(key[i], key[j]) for i, j in orders],
    )


def _order_or_values(a: Any, b: Any) -> Any:
    """What an ordering or equality comparison of ``a`` with ``b`` depends on: their order
    when both are numbers, else the values themselves."""
    order = number_order(a, b)
    return (a, b) if order is None else order
