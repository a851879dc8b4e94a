"""The native engine: the compiled conditions are Python closures, evaluated in table order.

A table's matches depend only on the facts its rules read, so they are remembered per table
by the values of those facts: a table of many rules (the plan's) is evaluated once per
combination it can tell apart, not once per incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollback_decision.policy import CompiledTable

__all__ = ["match"]

_LIMIT = 4096
#: id(table) -> (table, the facts its rules read, remembered matches by their values).
#: The table itself is kept so that its id cannot be reused while the entry lives.
_MEMO: dict[int, tuple[CompiledTable, tuple[str, ...], dict[tuple[Any, ...], tuple[int, ...]]]] = {}


def _evaluate(table: CompiledTable, facts: Mapping[str, Any]) -> tuple[int, ...]:
    if table.combine == "first":
        for rule in table.rules:
            if rule.predicate(facts):
                return (rule.index,)
        return ()
    return tuple(rule.index for rule in table.rules if rule.predicate(facts))


def match(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
    """Indexes of the rules of ``table`` that match; a first-match table stops at the first."""
    entry = _MEMO.get(id(table))
    if entry is None or entry[0] is not table:
        if len(_MEMO) >= _LIMIT // 16:  # tables of policies loaded and dropped since
            _MEMO.clear()
        reads = tuple(sorted(set().union(*(rule.reads for rule in table.rules))))
        entry = _MEMO[id(table)] = (table, reads, {})
    _, reads, memo = entry
    key = tuple(tuple(v) if isinstance(v, list) else v for v in map(facts.__getitem__, reads))
    found = memo.get(key)
    if found is None:
        found = _evaluate(table, facts)
        if len(memo) >= _LIMIT:
            memo.clear()
        memo[key] = found
    return found
