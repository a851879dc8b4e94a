"""The order a walk visits a policy's tables in.

A table is a pure function of the facts it reads, so any order in which every table comes
after the tables producing what it reads gives the same classes. The order decides the walk's
cost, though: a fact joins the walk at the first table that reads it and stays until the last
one, multiplying the classes in between. A table the pipeline runs early but whose output is
read only at the end (a risk read by the decision step, say) drags every fact it reads through
the whole walk.

:func:`walk_order` picks, among the valid orders, one that keeps the estimated number of
classes low (an exact search over the subsets of tables already visited; policies have few
tables). Two kinds of table keep their place relative to the others:

* a table that can fail (a first-match table without a catch-all last rule, any unique table,
  or any table when another engine decides what fires): an incident it stops never reaches the
  tables after it in the pipeline, so none of those may be visited before it, nor may it be
  visited before the tables ahead of it;
* all tables, when there are more than :data:`MAX_SEARCHED` of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence

from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.conditions import AllOf
from rollback_decision.policy.semantics import Combine
from rollback_decision.verify.domains import table_needs

__all__ = ["MAX_SEARCHED", "can_fail", "joint_order", "split_tables", "stages_of", "walk_order"]

#: Above this many tables, the pipeline order is kept (the search is exponential in it).
MAX_SEARCHED = 16


def can_fail(table: CompiledTable) -> bool:
    """Whether some incident may get no outcome from ``table`` (a gap or an overlap)."""
    if table.combine is Combine.COLLECT:
        return False
    if table.combine is Combine.FIRST and table.rules:
        last = table.rules[-1].condition
        return not (isinstance(last, AllOf) and not last.items)
    return True


def walk_order(
    tables: Sequence[CompiledTable],
    size: Callable[[str], float],
    keep: Collection[str],
    pinned: bool = False,
) -> list[CompiledTable]:
    """``tables`` (in pipeline order) in the order the walk visits them.

    ``size(fact)`` estimates how many values a fact (input or derived) takes; ``keep`` are the
    facts the caller needs at the end; ``pinned`` keeps the pipeline order."""
    n = len(tables)
    if pinned or n < 2 or n > MAX_SEARCHED:
        return list(tables)
    order = _search(
        [frozenset(table_needs(t)) for t in tables],
        [frozenset(t.outputs) for t in tables],
        _across_failures([[(i, can_fail(t)) for i, t in enumerate(tables)]], n),
        size,
        keep,
    )
    assert order is not None, "a policy's pipeline order is a valid order"
    return [tables[i] for i in order]


def joint_order(
    tables: Sequence[Sequence[CompiledTable]],
    size: Callable[[str], float],
    keep: Collection[str],
    pinned: bool = False,
) -> list[tuple[int, CompiledTable]] | None:
    """One order for the tables of several policies (``diff``): tables of the same id are
    visited one after the other, so that the inputs they read meet at once (and two of them
    that alone read an input are one stage, see :func:`.stage.fuse`). Each policy's tables
    keep the constraints :func:`walk_order` keeps; a table's needs are those of every policy's
    table of its id. None when there is no such order (the policies make a fact in tables of
    different ids, or order them differently across a table that can fail), or more than
    :data:`MAX_SEARCHED` ids; ``pinned`` keeps the pipeline order (which the policies must
    share)."""
    ids = list(dict.fromkeys(t.id for ts in tables for t in ts))
    node = {name: i for i, name in enumerate(ids)}
    n = len(ids)
    if n > MAX_SEARCHED:
        return None
    needs: list[set[str]] = [set() for _ in ids]
    outputs: list[set[str]] = [set() for _ in ids]
    made: dict[str, int] = {}
    for ts in tables:
        for t in ts:
            i = node[t.id]
            needs[i].update(table_needs(t))
            outputs[i] |= set(t.outputs)
            for name in t.outputs:
                if made.setdefault(name, i) != i:
                    return None
    if pinned:
        sequences = {tuple(t.id for t in ts) for ts in tables}
        if len(sequences) != 1:
            return None
        order: list[int] | None = list(range(n))
    else:
        order = _search(
            [frozenset(x) for x in needs],
            [frozenset(x) for x in outputs],
            _across_failures([[(node[t.id], can_fail(t)) for t in ts] for ts in tables], n),
            size,
            keep,
        )
    if order is None:
        return None
    return [(p, t) for i in order for p, ts in enumerate(tables) for t in ts if t.id == ids[i]]


def _across_failures(pipelines: Sequence[Sequence[tuple[int, bool]]], n: int) -> list[int]:
    """Per node, a mask of the nodes it must come after: in each pipeline (node, can fail),
    the order across a table that can fail."""
    after = [0] * n
    for pipeline in pipelines:
        for b, (j, fails_j) in enumerate(pipeline):
            for i, fails_i in pipeline[:b]:
                if fails_i or fails_j:
                    after[j] |= 1 << i
    return after


def _search(
    needs: Sequence[frozenset[str]],
    outputs: Sequence[frozenset[str]],
    after: list[int],
    size: Callable[[str], float],
    keep: Collection[str],
) -> list[int] | None:
    """The valid order of the nodes (each read ``needs`` and make ``outputs``, and come
    after the nodes in their ``after`` mask) that keeps the estimated classes low: an exact
    search over the subsets of nodes already visited. None when no order is valid."""
    n = len(needs)
    producer: Mapping[str, int] = {name: i for i, out in enumerate(outputs) for name in out}
    after = [
        a | sum(1 << j for j in {producer[f] for f in needs[i] if f in producer} if j != i)
        for i, a in enumerate(after)
    ]
    weight = {name: math.log(max(size(name), 1.0)) for ns in needs for name in ns}
    weight.update({name: math.log(max(size(name), 1.0)) for out in outputs for name in out})

    def live(done: int) -> float:
        """log of the classes held once the nodes in ``done`` are visited."""
        total = 0.0
        facts: set[str] = set()
        rest: set[str] = set(keep)
        for i in range(n):
            if done >> i & 1:
                facts |= needs[i] | outputs[i]
            else:
                rest |= needs[i]
        for name in facts:
            if name in rest and not (name in producer and not done >> producer[name] & 1):
                total += weight[name]
        return total

    held = [live(done) for done in range(1 << n)]
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for done in range(1 << n):
        if done not in best:
            continue
        cost, order = best[done]
        for i in range(n):
            if done >> i & 1 or after[i] & ~done:
                continue
            new = done | 1 << i
            new_inputs = sum(
                weight[f] for f in needs[i] if f not in producer and not _read(done, f, needs)
            )
            step = cost + math.exp(held[done] + new_inputs)
            if new not in best or step < best[new][0]:
                best[new] = (step, (*order, i))
    found = best.get((1 << n) - 1)
    return None if found is None else list(found[1])


def _read(done: int, name: str, needs: Sequence[frozenset[str]]) -> bool:
    return any(done >> i & 1 and name in ns for i, ns in enumerate(needs))


def stages_of(tables: Sequence[Sequence[CompiledTable]]) -> list[tuple[int, CompiledTable]]:
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
