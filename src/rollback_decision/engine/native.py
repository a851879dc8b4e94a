"""The native engine: the compiled conditions are Python functions, evaluated in table order.

A table's matches depend only on the facts its rules read, so they are remembered (by the
policy's runtime) per table by the values of those facts: a table of many rules is evaluated
once per combination it can tell apart, not once per incident.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollback_decision.engine.core import Matcher
from rollback_decision.policy import CompiledTable, Policy

__all__ = ["match", "matcher"]


def match(table: CompiledTable, facts: Mapping[str, Any]) -> tuple[int, ...]:
    """Indexes of the rules of ``table`` that match; a first-match table stops at the first."""
    if table.combine.stops_at_first:
        for rule in table.rules:
            if rule.predicate(facts):
                return (rule.index,)
        return ()
    return tuple(rule.index for rule in table.rules if rule.predicate(facts))


def matcher(policy: Policy, *, remember: bool = True) -> Matcher:
    """The native matcher for ``policy``; remembering matches in its runtime, or not."""
    if not remember:
        return match
    runtime = policy.runtime

    def remembered(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
        memo = runtime.memo(f"matches.{table.id}")
        key = tuple(map(facts.__getitem__, table.reads))
        found: tuple[int, ...] | None = memo.get(key)
        if found is None:
            found = memo.put(key, match(table, facts))
        return found

    return remembered
