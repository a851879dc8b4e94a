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
from rollback_decision.policy.types import FactType

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "Not",
    "Operand",
    "Test",
    "compile_condition",
    "facts_read",
    "parse_condition",
]

COMPARISONS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge")
LIST_TESTS = ("any_of", "all_of", "none_of", "subset_of", "empty", "min_size")
COMBINATORS = ("all", "any", "not")
ORDERING = ("lt", "le", "gt", "ge")


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
            names = [*facts, *COMBINATORS]
            report(f"unknown fact {key!r}{did_you_mean(str(key), names)}", here)
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
                report(f"unknown fact {name!r}{did_you_mean(name, facts)}", path)
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
    value = operand.value
    if op in ORDERING:
        if ftype.kind not in ("number", "integer"):
            return f"{op!r} compares numbers, but {fact!r} is {ftype.describe()}"
        if other is not None:
            if other.kind not in ("number", "integer"):
                return f"{op!r} needs a number to compare {fact!r} with, got {other.describe()}"
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{op!r} needs a number to compare {fact!r} with, got {_show(value)}"
        return None
    if op in ("any_of", "all_of", "none_of", "subset_of"):
        if ftype.kind != "list":
            return f"{op!r} tests a list, but {fact!r} is {ftype.describe()}"
        if other is not None:
            if other.kind != "list" or not (other.values or set()) <= (ftype.values or set()):
                return f"{op!r} on {fact!r} needs {ftype.describe()}, got {other.describe()}"
            return None
        if not isinstance(value, list) or not FactType("list", ftype.values).accepts(value):
            return f"{op!r} on {fact!r} needs {ftype.describe()}, got {_show(value)}"
        return None
    if op in ("empty", "min_size"):
        if ftype.kind != "list":
            return f"{op!r} tests a list, but {fact!r} is {ftype.describe()}"
        if op == "empty" and not isinstance(value, bool):
            return f"'empty' takes true or false, got {_show(value)}"
        if op == "min_size" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"'min_size' takes a whole number, got {_show(value)}"
        return None
    # eq, ne, in, not_in
    if other is not None:
        if op in ("in", "not_in"):
            if other.kind != "list" or not (other.values or set()) <= (ftype.values or set()):
                return f"{op!r} on {fact!r} needs a list of its values, got {other.describe()}"
            return None
        if other.kind != ftype.kind:
            return f"cannot compare {fact!r} ({ftype.describe()}) with {other.describe()}"
        return None
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return f"{op!r} takes a non-empty list of values, got {_show(value)}"
        bad = [v for v in value if not ftype.accepts(v)]
        if bad:
            return f"{fact!r} is {ftype.describe()}; {_show(bad[0])} is not{_hint(bad[0], ftype)}"
        return None
    if not ftype.accepts(value):
        return f"{fact!r} is {ftype.describe()}; {_show(value)} is not{_hint(value, ftype)}"
    return None


def _hint(value: Any, ftype: FactType) -> str:
    if isinstance(value, str) and ftype.values:
        return did_you_mean(value, map(str, ftype.values))
    return ""


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return f"{value!r}"
    return repr(value)


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
    """A closure evaluating ``condition`` over a mapping of facts."""
    if isinstance(condition, Test):
        return _compile_test(condition)
    if isinstance(condition, Not):
        inner = compile_condition(condition.item)
        return lambda f: not inner(f)
    parts = tuple(compile_condition(item) for item in condition.items)
    if not parts:
        return lambda f: True
    if len(parts) == 1:
        return parts[0]
    # Two or three parts are by far the most common: chain them without a generator.
    if isinstance(condition, AllOf):
        if len(parts) == 2:
            a, b = parts
            return lambda f: a(f) and b(f)
        if len(parts) == 3:
            a, b, c = parts
            return lambda f: a(f) and b(f) and c(f)
        return lambda f: all(p(f) for p in parts)
    if len(parts) == 2:
        a, b = parts
        return lambda f: a(f) or b(f)
    return lambda f: any(p(f) for p in parts)


def _compile_test(test: Test) -> Predicate:
    name, op, operand = test.fact, test.op, test.operand
    if operand.fact is not None:
        other = operand.fact
        return _compile_against_fact(name, op, other)
    value = operand.value
    if op == "eq":
        return lambda f: f[name] == value
    if op == "ne":
        return lambda f: f[name] != value
    if op in ("in", "not_in", "any_of", "all_of", "none_of", "subset_of"):
        values = frozenset(value)
        if op == "in":
            return lambda f: f[name] in values
        if op == "not_in":
            return lambda f: f[name] not in values
        if op == "any_of":
            return lambda f: not values.isdisjoint(f[name])
        if op == "all_of":
            return lambda f: values.issubset(f[name])
        if op == "none_of":
            return lambda f: values.isdisjoint(f[name])
        return lambda f: values.issuperset(f[name])
    if op == "empty":
        return (lambda f: not f[name]) if value else (lambda f: bool(f[name]))
    if op == "min_size":
        return lambda f: len(f[name]) >= value
    if op == "lt":
        return lambda f: (x := f[name]) is not None and x < value
    if op == "le":
        return lambda f: (x := f[name]) is not None and x <= value
    if op == "gt":
        return lambda f: (x := f[name]) is not None and x > value
    return lambda f: (x := f[name]) is not None and x >= value


def _compile_against_fact(name: str, op: str, other: str) -> Predicate:
    if op == "eq":
        return lambda f: f[name] == f[other]
    if op == "ne":
        return lambda f: f[name] != f[other]
    if op == "in":
        return lambda f: f[name] in f[other]
    if op == "not_in":
        return lambda f: f[name] not in f[other]
    if op == "any_of":
        return lambda f: not set(f[other]).isdisjoint(f[name])
    if op == "all_of":
        return lambda f: set(f[other]).issubset(f[name])
    if op == "none_of":
        return lambda f: set(f[other]).isdisjoint(f[name])
    if op == "subset_of":
        return lambda f: set(f[other]).issuperset(f[name])

    def ordered(f: Facts) -> bool:
        x, y = f[name], f[other]
        if x is None or y is None:
            return False
        if op == "lt":
            return bool(x < y)
        if op == "le":
            return bool(x <= y)
        if op == "gt":
            return bool(x > y)
        return bool(x >= y)

    return ordered
