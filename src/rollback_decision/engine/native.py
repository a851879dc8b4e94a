"""The native engine: the compiled conditions are Python closures, evaluated in table order.

A table's matches depend only on the facts its rules read, so they are remembered per table
by the values of those facts: a table of many rules (the plan's) is evaluated once per
combination it can tell apart, not once per incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from rollback_decision.policy import CompiledTable

__all__ = ["match"]

_LIMIT = 4096
#: Remembered matches of each table by the values of the facts it reads; an entry goes with
#: its table when the policy is dropped.
_MEMO: WeakKeyDictionary[CompiledTable, dict[tuple[Any, ...], tuple[int, ...]]] = (
    WeakKeyDictionary()
)


def _evaluate(table: CompiledTable, facts: Mapping[str, Any]) -> tuple[int, ...]:
    if table.combine == "first":
        for rule in table.rules:
            if rule.predicate(facts):
                return (rule.index,)
        return ()
    return tuple(rule.index for rule in table.rules if rule.predicate(facts))


def match(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
    """Indexes of the rules of ``table`` that match; a first-match table stops at the first."""
    memo = _MEMO.get(table)
    if memo is None:
        memo = _MEMO.setdefault(table, {})
    key = tuple(tuple(v) if isinstance(v, list) else v for v in map(facts.__getitem__, table.reads))
    found = memo.get(key)
    if found is None:
        found = _evaluate(table, facts)
        if len(memo) >= _LIMIT:
            memo.clear()
        memo[key] = found
    return found
