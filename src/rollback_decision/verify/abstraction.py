"""Values the rest of a walk cannot tell apart, merged.

After a table, a class of the walk still holds the value of every fact a later table reads. A
later table rarely needs the whole value: ``components`` may be read afterwards only as "holds
``database_schema``", an enum only as "is ``critical``". Two values on which every test the
remaining tables make on that fact agrees lead every remaining table to the same outcome, so the
classes that differ only there are merged (their weights add; the smallest member is kept, so
counterexamples stay concrete incidents). The value kept is the first one seen of its kind; the
tables downstream read it in place of the others, with the same result.

A fact is left whole when a remaining table copies it into an output, compares it with another
fact, when the caller keeps it (outputs, invariants), or when it is a number (numbers have their
own treatment in the walk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import Test, compile_condition, condition_tests

__all__ = ["Canon", "canon_for"]

#: value -> the value kept for it
Canon = Callable[[Any], Any]


def canon_for(name: str, kind: str, readers: Sequence[CompiledTable]) -> Canon | None:
    """How the values of fact ``name`` (of type ``kind``) collapse for the tables ``readers``
    (the remaining tables that read it); None when it must stay whole."""
    if kind == "number" or not readers:
        return None
    tests: dict[str, Test] = {}
    for table in readers:
        for rule in table.rules:
            if any(source == name for _, _, source in rule.sets):
                return None  # copied: its whole value flows on
            for test in condition_tests(rule.condition):
                if test.operand.fact == name:
                    return None
                if test.fact == name:
                    if test.operand.fact is not None:
                        return None
                    tests.setdefault(f"{test.op}:{test.operand.value!r}", test)
    predicates = [compile_condition(test) for test in tests.values()]
    kept: dict[tuple[bool, ...], Any] = {}
    seen: dict[Any, Any] = {}

    def canon(value: Any) -> Any:
        found = seen.get(value, seen)
        if found is seen:
            facts = {name: value}
            signature = tuple(bool(p(facts)) for p in predicates)
            found = seen[value] = kept.setdefault(signature, value)
        return found

    return canon


def merge_classes(
    states: dict[tuple[Any, ...], Any],
    canons: Sequence[tuple[int, Canon]],
    merge: Callable[[Any, Any], None],
) -> dict[tuple[Any, ...], Any]:
    """``states`` re-keyed with each column ``index`` through its canon; classes whose keys
    become equal are merged by ``merge(kept, other)``."""
    if not canons:
        return states
    out: dict[tuple[Any, ...], Any] = {}
    for key, cls in states.items():
        new = list(key)
        for index, canon in canons:
            new[index] = canon(key[index])
        new_key = tuple(new)
        existing = out.get(new_key)
        if existing is None:
            out[new_key] = cls
        else:
            merge(existing, cls)
    return out
