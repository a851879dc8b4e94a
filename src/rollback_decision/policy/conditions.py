"""The condition language of rules: structured YAML, parsed into a small typed tree.

A condition is a mapping; its entries must all hold::

    production_issue: false                 # equality (null tests for "not known")
    severity: {ne: null}                    # operators: eq ne in not_in lt le gt ge
    symptoms: {any_of: {param: immediate_triggers}}   # lists: any_of all_of none_of
    components: {subset_of: [feature_flag]}           #        subset_of empty min_size
    fix_forward_eta_minutes: {lt: {fact: rollback_eta}}
    any: [{...}, {...}]                     # combinators: all, any, not

Operands are literals, ``{param: NAME}`` or ``{fact: NAME}``. Parameters are resolved when the
policy compiles. Ordering operators on a null fact are false ("unknown" is never "less than").
Nothing here is evaluated as code: the tree compiles into closures over fixed operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from rollback_decision.errors import did_you_mean
from rollback_decision.policy.codegen import Namespace, condition_source
from rollback_decision.policy.operators import OPERATORS, Family, show
from rollback_decision.policy.types import FactType

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "FactScope",
    "Not",
    "Operand",
    "Test",
    "compile_condition",
    "condition_tests",
    "facts_read",
    "parse_condition",
    "unknown_fact",
]

#: Operators that compare a fact with one value or a list of values.
COMPARISONS = tuple(
    name
    for name, op in OPERATORS.items()
    if op.family in (Family.EQUALITY, Family.MEMBERSHIP, Family.ORDERING)
)
#: Operators that test a list fact.
LIST_TESTS = tuple(name for name, op in OPERATORS.items() if op.family in (Family.SET, Family.SIZE))
COMBINATORS = ("all", "any", "not")
ORDERING = tuple(name for name, op in OPERATORS.items() if op.family is Family.ORDERING)


@dataclass(frozen=True)
class Operand:
    """A literal value, a parameter's value (resolved) or another fact."""

    value: Any = None
    param: str | None = None
    fact: str | None = None


@dataclass(frozen=True)
class Test:
    fact: str
    op: str
    operand: Operand


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition: TypeAlias = Test | AllOf | AnyOf | Not
Report = Callable[[str, tuple[str | int, ...]], None]
ALWAYS = AllOf(())


class FactScope(Mapping[str, FactType]):
    """The facts a table's rules may read (the incident's and those of the tables before it),
    and which later table makes each other derived fact, so that a rule reading one is told
    why it cannot."""

    def __init__(self, facts: Mapping[str, FactType], later: Mapping[str, str]) -> None:
        self._facts = facts
        self.later = later

    def __getitem__(self, name: str) -> FactType:
        return self._facts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


def unknown_fact(name: str, facts: Mapping[str, Any], *also: str) -> str:
    """The message for a fact ``name`` that ``facts`` does not hold."""
    later = facts.later.get(name) if isinstance(facts, FactScope) else None
    if later is not None:
        return (
            f"unknown fact {name!r} here: it is made by table {later!r}, which runs after "
            "this one in the pipeline"
        )
    return f"unknown fact {name!r}{did_you_mean(name, [*facts, *also])}"


def parse_condition(
    raw: Any,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
    report: Report,
    path: tuple[str | int, ...] = ("when",),
) -> Condition:
    """Parse and type-check ``raw``; every problem goes to ``report(message, path)``."""
    if raw is None:
        return ALWAYS
    if not isinstance(raw, Mapping):
        report(f"a condition must be a mapping of fact: test, got {_show(raw)}", path)
        return ALWAYS
    items: list[Condition] = []
    for key, value in raw.items():
        here = (*path, key)
        if key == "all" or key == "any":
            if not isinstance(value, list) or not value:
                report(f"{key!r} takes a non-empty list of conditions", here)
                continue
            parts = tuple(
                parse_condition(v, facts, params, report, (*here, i)) for i, v in enumerate(value)
            )
            items.append(AllOf(parts) if key == "all" else AnyOf(parts))
        elif key == "not":
            items.append(Not(parse_condition(value, facts, params, report, here)))
        elif key in facts:
            items.extend(_parse_tests(str(key), value, facts, params, report, here))
        else:
            report(unknown_fact(str(key), facts, *COMBINATORS), here)
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def _parse_tests(
    fact: str,
    value: Any,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
    report: Report,
    path: tuple[str | int, ...],
) -> Iterator[Test]:
    ftype = facts[fact]
    is_operator_map = isinstance(value, Mapping) and not (
        set(value) <= {"param", "fact"} and len(value) == 1
    )
    tests = value.items() if is_operator_map else [("eq", value)]
    for op, raw_operand in tests:
        here = (*path, op) if is_operator_map else path
        if op not in COMPARISONS and op not in LIST_TESTS:
            names = [*COMPARISONS, *LIST_TESTS]
            report(f"unknown operator {op!r}{did_you_mean(str(op), names)}", here)
            continue
        operand = _parse_operand(raw_operand, facts, params, report, here)
        if operand is None:
            continue
        problem = _type_problem(fact, ftype, op, operand, facts, params)
        if problem:
            report(problem, here)
            continue
        yield Test(fact, str(op), operand)


def _parse_operand(
    raw: Any,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
    report: Report,
    path: tuple[str | int, ...],
) -> Operand | None:
    if isinstance(raw, Mapping):
        if set(raw) == {"param"}:
            name = str(raw["param"])
            if name not in params:
                report(f"unknown parameter {name!r}{did_you_mean(name, params)}", path)
                return None
            return Operand(value=params[name][1], param=name)
        if set(raw) == {"fact"}:
            name = str(raw["fact"])
            if name not in facts:
                report(unknown_fact(name, facts), path)
                return None
            return Operand(fact=name)
        report(f"an operand is a value, {{param: NAME}} or {{fact: NAME}}, got {_show(raw)}", path)
        return None
    return Operand(value=raw)


def _operand_type(
    operand: Operand,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
) -> FactType | None:
    if operand.fact is not None:
        return facts[operand.fact]
    if operand.param is not None:
        return params[operand.param][0]
    return None


def _type_problem(
    fact: str,
    ftype: FactType,
    op: str,
    operand: Operand,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
) -> str | None:
    other = _operand_type(operand, facts, params)
    return OPERATORS[op].type_problem(fact, ftype, operand.value, other)


_show = show


def condition_tests(condition: Condition) -> Iterator[Test]:
    """Every test of ``condition``, however deep in ``all``/``any``/``not``."""
    if isinstance(condition, Test):
        yield condition
    elif isinstance(condition, Not):
        yield from condition_tests(condition.item)
    elif isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from condition_tests(item)


def facts_read(condition: Condition) -> frozenset[str]:
    """Every fact a condition reads (operand facts included)."""
    if isinstance(condition, Test):
        extra = {condition.operand.fact} if condition.operand.fact else set()
        return frozenset({condition.fact, *extra})
    if isinstance(condition, Not):
        return facts_read(condition.item)
    out: set[str] = set()
    for item in condition.items:
        out |= facts_read(item)
    return frozenset(out)


Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]


def compile_condition(condition: Condition) -> Predicate:
    """A function evaluating ``condition`` over a mapping of facts, generated from the
    operators' compiled forms (the native engine's pipeline is made from the same)."""
    ns = Namespace()
    body = condition_source(condition, ns, lambda name: f"f[{ns.constant(name, 'k')}]")
    predicate: Predicate = ns.compile(f"def p(f):\n    return {body}\n", "p", "<condition>")
    return predicate
