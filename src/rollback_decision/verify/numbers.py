"""The walk's numbers whose values are not listed (ETAs): which they are, which number a
table walks in runs, and classes merged where the numbers the tables made fall in the same
block of every cut that can still tell them apart."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.policy import CompiledTable
from rollback_decision.verify.classes import INPUT, Column, WalkClass, getter
from rollback_decision.verify.runs import block_of, compares, number_order
from rollback_decision.verify.tables import TableEval

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.verify.walk import Walk

__all__ = [
    "canonical",
    "compares_only_held",
    "free_numbers",
    "is_free_number",
    "makes_free_number",
    "run_number",
    "sweep_number",
]


def canonical(
    walk: Walk,
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
    if not walk.runs or not states:
        return states
    space = walk.space
    walks = walk.tables if walk.tables is not None else space.tables
    cuts: dict[int, list[float]] = {}
    for i in free_numbers(walk, columns):
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
    numbers = free_numbers(walk, columns)
    watched = sorted(set(cuts) | set(numbers))
    at = {column: k for k, column in enumerate(watched)}
    blocks = [(at[i], points) for i, points in cuts.items()]
    orders = [(at[i], at[j]) for i in cuts for j in numbers if j != i]
    numbers_of = getter(watched)
    rest_of = getter([i for i in range(len(columns)) if i not in cuts])
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


def makes_free_number(walk: Walk, p: int, table: CompiledTable) -> bool:
    """Whether ``table`` makes a number whose values are not listed."""
    return any(is_free_number(walk, (p, name)) for name in table.outputs)


def is_free_number(walk: Walk, column: Column) -> bool:
    """Whether a column holds a number whose values are not listed."""
    ftype = walk.column_type(column)
    return ftype.kind in ("number", "integer") and ftype.values is None


def free_numbers(walk: Walk, columns: Sequence[Column]) -> list[int]:
    """The columns holding numbers whose values are not listed (ETAs, not rollback types)."""
    return [i for i, column in enumerate(columns) if is_free_number(walk, column)]


def run_number(
    walk: Walk,
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
    if not walk.runs:
        return None, []
    space = walk.space
    held = {n for _, n in columns}
    numbers = {columns[i] for i in free_numbers(walk, columns)}
    for name in new_inputs:
        if (
            name in local
            or space.domains[name].values is not None
            or space.number_partners(name) & set(new_inputs)
        ):
            continue
        if (INPUT, name) not in later:
            if name in walk.keep:
                return name, []
            continue
        if not space.number_partners(name) <= held:
            continue  # a later input's points would depend on it
        readers = [
            (q, walk.table_eval(q, t))
            for (q, t), n in zip(stages, needs, strict=True)
            if (INPUT, name) in n
        ]
        if all(compares_only_held(walk, q, ev, name, numbers) for q, ev in readers):
            return name, [ev for _, ev in readers]
    return None, []


def sweep_number(
    walk: Walk,
    tables: Sequence[tuple[int, TableEval]],
    run_name: str | None,
    local: Sequence[str],
    columns: Sequence[Column],
    only: str | None = None,
) -> tuple[str | None, list[int]]:
    """The local number whose like points the stage's ``tables`` (policy, evaluation) are
    evaluated once per segment for (:class:`~.runs.Steps`), if any, and the columns of the
    class's numbers its segments are cut at.

    The run number keeps its order to every number of the class (an invariant may compare
    it with one: equal fix and rollback times); a number summed out here needs its order
    only to the numbers its points are placed around. Either is swept when the table
    compares it with no fact but those numbers and the other local inputs, only by order
    or equality, and copies it nowhere. ``only`` restricts a number summed out here to that
    one (the number invariants are checked along, which has to stay the last local input)."""
    numbers = free_numbers(walk, columns)
    if run_name is not None:
        candidates = [(run_name, numbers)]
    elif walk.runs:
        candidates = []
        for name in reversed(local):
            if walk.space.domains[name].values is None and only in (None, name):
                partners = walk.space.number_partners(name)
                candidates.append((name, [i for i in numbers if columns[i][1] in partners]))
    else:
        return None, []
    for name, related in candidates:
        if all(
            compares_only_held(
                walk,
                p,
                ev,
                name,
                {columns[i] for i in related},
                also={n for n in local if n != name},
            )
            for p, ev in tables
        ):
            return name, related
    return None, numbers if run_name is not None else []


def compares_only_held(
    walk: Walk,
    p: int,
    ev: TableEval,
    name: str,
    numbers: set[Column],
    also: Collection[str] = (),
) -> bool:
    """Whether ``ev`` (of policy ``p``) compares ``name`` with no fact but the class's
    ``numbers`` (whose order to a run point the run keeps) and the facts ``also``, only by
    order or equality (which that order decides), and copies it nowhere."""
    compared = ev.ordered_with(name)
    if compared is None:
        return False
    derived = walk.space.policies[p].producers
    return all(n in also or ((p, n) if n in derived else (INPUT, n)) in numbers for n in compared)
