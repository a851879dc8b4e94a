"""The native engine: the compiled conditions are Python closures, evaluated in table order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rollback_decision.policy import CompiledTable

__all__ = ["match"]


def match(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
    """Indexes of the rules of ``table`` that match; a first-match table stops at the first."""
    if table.combine == "first":
        for rule in table.rules:
            if rule.predicate(facts):
                return (rule.index,)
        return ()
    return tuple(rule.index for rule in table.rules if rule.predicate(facts))
