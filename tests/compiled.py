"""Compiled tables made directly from conditions, for tests of the engines and the verifier."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from rollback_decision.policy import CompiledRule, CompiledTable
from rollback_decision.policy.conditions import Condition, compile_condition, facts_read
from rollback_decision.policy.semantics import Combine


def predicate(condition: Condition) -> Any:
    """The native predicate; an operator the language lacks (to test refusals) never holds."""
    try:
        return compile_condition(condition)
    except KeyError:
        return lambda facts: False


def table_of(
    table_id: str, conditions: Sequence[Condition], combine: str = "collect"
) -> CompiledTable:
    """A table of one rule per condition (``ID.N``), setting nothing."""
    rules = tuple(
        CompiledRule(
            id=f"{table_id}.{i}",
            index=i,
            section="",
            condition=condition,
            predicate=predicate(condition),
            sets=(),
            because=None,
            if_not=None,
            reads=facts_read(condition),
        )
        for i, condition in enumerate(conditions)
    )
    return CompiledTable(
        id=table_id,
        section="",
        combine=Combine(combine),
        outputs=MappingProxyType({}),
        aggregates=MappingProxyType({}),
        rules=rules,
    )
