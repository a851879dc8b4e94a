"""What the walk does to the numbers of a class: one plan of a table's results per signature of
the columns it depends on, runs of consecutive points of a number that get the same results,
and blocks of the cuts that can still tell a number's values apart."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import condition_tests
from rollback_decision.policy.semantics import Outcome
from rollback_decision.verify.domains import is_number
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.tables import TableEval

__all__ = ["Plan", "block_of", "compares", "extend_run", "number_order", "plan_table"]


@dataclass
class Plan:
    """What one table does to every class that agrees on the columns it depends on: each
    distinct result and each distinct tail the class's key is extended with, with how many
    combinations of the local inputs get it, and the first smallest of them and its position."""

    evaluated: int
    results: list[tuple[Outcome, int, int, int, Assignment]]
    tails: list[tuple[tuple[Any, ...], int, int, int, Assignment]]


def plan_table(
    key: tuple[Any, ...],
    domains: Callable[[tuple[Any, ...]], Sequence[tuple[tuple[Any, ...], Assignment, int]]],
    ev: TableEval,
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]],
    run_name: str | None,
    run_at: int,
    related: Sequence[int],
    tested: tuple[Sequence[tuple[str, int]], Sequence[tuple[str, int]]] = ((), ()),
    readers: Sequence[TableEval] = (),
    steady: bool = False,
) -> Plan:
    """What ``ev`` does to the class ``key`` and every combination of the local inputs
    (``domains``); ``tested`` names the facts the table tests alone, with their positions in
    the key and in a combination (all of them: the rest of the rules' masks is worked out once
    per class); ``readers`` are the later tables that read the run number ``run_name``: a
    run also keeps which of their tests of it hold.

    ``steady`` says that the table compares the run number with no fact but the class's
    numbers (``related``) and the other local inputs, and copies it nowhere: consecutive
    points of it that the table's tests of it alone accept alike, with the other local inputs
    the same, that stand in the same order to the class's numbers and that later readers test
    alike then get the same result and extend the same run, so only the first of them is
    evaluated (the others count; being later and no cheaper, none of them is the smallest)."""
    results: dict[int, list[Any]] = {}
    tails: dict[tuple[Any, ...], list[Any]] = {}
    run: tuple[Any, ...] | None = None  # (others, values, relations, last, first)
    evaluated = 0
    in_key, in_combo = tested
    around = [key[i] for i in related]
    fixed = ev.mask((name, key[i]) for name, i in in_key)
    accepts = ev.accepts
    # the last point's (other inputs, mask, block among the class's numbers, cost, marks),
    # and the entries of its result and tail: a steady point like it only counts
    steady_at: tuple[Any, ...] | None = None
    last: tuple[list[Any], list[Any] | None] = ([], None)
    cuts = sorted(v for v in around if is_number(v)) if steady else []
    for order, (combo, pairs, extra) in enumerate(domains(key)):
        evaluated += 1
        mask = fixed
        for name, i in in_combo:
            mask &= accepts(name, combo[i])
        if steady and run_name is not None:
            value = combo[run_at]
            if is_number(value):
                at = bisect.bisect_left(cuts, value)
                here: tuple[Any, ...] | None = (
                    combo[:run_at],
                    mask,
                    at,
                    at < len(cuts) and cuts[at] == value,
                    extra,
                    tuple([r.kind_of(run_name, value) for r in readers]) if readers else (),
                )
                if here == steady_at:
                    last[0][1] += 1
                    if last[1] is None:
                        continue
                    last[1][1] += 1
                    run = (*run[:3], value, run[4])  # type: ignore[index]
                    continue
                steady_at = here
            else:
                steady_at = None
        result = ev.result(pick(key + combo) if combo else pick(key), mask)
        seen = results.get(id(result))
        if seen is None:
            seen = results[id(result)] = [result, 1, extra, order, pairs]
        else:
            seen[1] += 1
            if extra < seen[2]:
                seen[2:] = [extra, order, pairs]
        if result.values is None:
            run = None
            last = (seen, None)
            continue
        if run_name is None:
            tail = result.values
        else:
            marks = tuple([r.kind_of(run_name, combo[run_at]) for r in readers]) if readers else ()
            run = extend_run(run, combo, run_at, (result.values, marks), around)
            tail = (run[4], *result.values)
        seen_tail = tails.get(tail)
        if seen_tail is None:
            seen_tail = tails[tail] = [tail, 1, extra, order, pairs]
        else:
            seen_tail[1] += 1
            if extra < seen_tail[2]:
                seen_tail[2:] = [extra, order, pairs]
        last = (seen, seen_tail)
    return Plan(
        evaluated,
        [(r, n, e, o, a) for r, n, e, o, a in results.values()],
        [(t, n, e, o, a) for t, n, e, o, a in tails.values()],
    )


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
