"""Verify the readiness tables: gaps, overlaps and rules that can never fire.

Each readiness table reads a few of the plan's facts and no other table's outputs, so each is
checked on its own, exhaustively, over the discretised domains of the facts it reads: a
boolean's two values, an enum's values (and null where the fact may be unknown), a list's
subsets of the items the table's conditions name plus one item they do not, and a number's
values around every constant its conditions compare it with.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.conditions import AllOf, AnyOf, Condition, Not, Test
from rollback_decision.policy.types import FactType
from rollback_decision.readiness.rules import plan_fact_types
from rollback_decision.verify.report import Finding

__all__ = ["verify_readiness"]


def _constants(condition: Condition, fact: str) -> Iterator[Any]:
    if isinstance(condition, Test):
        if condition.fact == fact and condition.operand.fact is None:
            value = condition.operand.value
            yield from value if isinstance(value, (list, tuple, frozenset)) else (value,)
    elif isinstance(condition, Not):
        yield from _constants(condition.item, fact)
    elif isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from _constants(item, fact)


def _domain(table: CompiledTable, fact: str, ftype: FactType) -> list[Any]:
    named = [c for rule in table.rules for c in _constants(rule.condition, fact)]
    values: list[Any]
    if ftype.kind == "boolean":
        values = [False, True]
    elif ftype.kind in ("enum", "integer") and ftype.values is not None:
        values = sorted(ftype.values, key=str)
    elif ftype.kind == "list":
        items = list(dict.fromkeys(c for c in named if c is not None))
        others = sorted(set(ftype.values or ()) - set(items), key=str)
        pool = items + others[:1]
        values = [
            tuple(combo)
            for size in range(len(pool) + 1)
            for combo in itertools.combinations(pool, size)
        ]
    else:  # numbers (and strings): around every constant, and two values for fact operands
        points = {0.0, 1.0, 2.0}
        for c in named:
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                points |= {c - 1.0, float(c), c + 1.0}
        values = sorted(points)
    return [*values, None] if ftype.nullable else values


def _show(assignment: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in assignment.items()}


def verify_readiness(policy: Policy) -> list[Finding]:
    """The findings of ``policy``'s readiness tables (none when they are sound)."""
    types = plan_fact_types()
    findings: list[Finding] = []
    for table in policy.readiness:
        reads: Sequence[str] = table.reads
        domains = [_domain(table, fact, types[fact]) for fact in reads]
        fired: set[int] = set()
        matched: dict[int, tuple[int, dict[str, Any]]] = {}
        problems: dict[str, tuple[int, dict[str, Any], tuple[int, ...]]] = {}
        for combo in itertools.product(*domains):
            facts = dict(zip(reads, combo, strict=True))
            matches = [rule.index for rule in table.rules if rule.predicate(facts)]
            chosen, problem = table.combine.select(matches)
            if problem is not None:
                count, example, rules = problems.get(problem, (0, facts, tuple(matches)))
                problems[problem] = (count + 1, example, rules)
                continue
            fired.update(chosen)
            for index in matches:
                if index not in chosen:
                    matched.setdefault(index, (chosen[0], facts))
        for kind, (count, example, rules) in problems.items():
            message = (
                f"no rule of this {table.combine}-match readiness table decides"
                if kind == "gap"
                else "several rules of this unique readiness table match: "
                + ", ".join(table.rules[i].id for i in rules)
            )
            findings.append(
                Finding(
                    kind="gap" if kind == "gap" else "overlap",
                    subject=f"table {table.id!r}",
                    message=message,
                    count=count,
                    example=_show(example),
                    section=table.section,
                )
            )
        for rule in table.rules:
            if rule.index in fired:
                continue
            if rule.index in matched:
                winner, example = matched[rule.index]
                findings.append(
                    Finding(
                        kind="shadowed",
                        subject=f"rule {rule.id!r}",
                        message=f"never fires: wherever it matches, the earlier rule "
                        f"{table.rules[winner].id!r} of readiness table {table.id!r} decides "
                        "first",
                        count=0,
                        example=_show(example),
                        section=rule.section,
                    )
                )
            else:
                findings.append(
                    Finding(
                        kind="unreachable",
                        subject=f"rule {rule.id!r}",
                        message="never fires: its condition holds for no deployment plan",
                        count=0,
                        example=None,
                        section=rule.section,
                    )
                )
    return findings
