"""The operators of the condition language, each defined once with everything it means.

An :class:`Operator` carries:

* its **type rule** (:meth:`Operator.type_problem`): which facts and operands it takes;
* its **compiled form** (``value_source`` / ``fact_source``): a Python expression template
  over the fact (``{x}``) and the operand (``{v}``, a constant, or ``{y}``, another fact).
  The native engine's generated code and the predicates of single rules are both made from
  it (see :mod:`.codegen`), so an operator means one thing everywhere it is evaluated;
* its **contribution to the discretised fact space** (``note``: the thresholds, sets and
  sizes the verifier's domains must split at, told to a :class:`DomainNotes`, see
  :mod:`rollback_decision.verify.domains`);
* its **durable-rules translation** (``durable`` against a literal, ``durable_fact`` against
  another fact): the exact durable-rules expressions for "holds" and "fails", written with the
  primitives of a :class:`DurableTarget` (see :mod:`rollback_decision.engine.durable`).

Adding an operator is one entry in :data:`OPERATORS` (and its tests); a meaning no operator
has yet is written beside the others in :mod:`.operator_forms`.
Ordering operators on a null fact are false: "unknown" is never "less than".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rollback_decision.policy.operator_forms import (
    DomainNotes,
    DurableTarget,
    FactTranslation,
    Note,
    ValueTranslation,
    all_of_fact,
    any_of_fact,
    durable_all_of,
    durable_any_of,
    durable_empty,
    durable_eq,
    durable_eq_fact,
    durable_in,
    durable_in_fact,
    durable_min_size,
    durable_ordering,
    durable_subset_of,
    negated,
    note_empty,
    note_members,
    note_min_size,
    note_number,
    note_set,
    note_whole_set,
    subset_of_fact,
)
from rollback_decision.policy.types import FactType

__all__ = ["OPERATORS", "DomainNotes", "DurableTarget", "Family", "Operator", "operator"]


class Family(Enum):
    """What an operator tests, which decides its type rule and its domain contribution."""

    #: a fact equals (or not) a value of its type
    EQUALITY = "equality"
    #: a fact is (or is not) one of a list of values
    MEMBERSHIP = "membership"
    #: a number compared with a number; false on null
    ORDERING = "ordering"
    #: a list fact compared with a set of values of its items
    SET = "set"
    #: the size of a list fact
    SIZE = "size"


@dataclass(frozen=True)
class Operator:
    name: str
    family: Family
    #: Python expression over ``{x}`` (the fact) and ``{v}`` (the operand, a constant)
    value_source: str
    #: Python expression over ``{x}`` and ``{y}`` (another fact)
    fact_source: str | None
    #: the thresholds, sets and sizes a test against a literal adds to the fact's domain
    note: Note
    #: the durable-rules translation against a literal
    durable: ValueTranslation
    #: the durable-rules translation against another fact (None: not allowed)
    durable_fact: FactTranslation | None
    #: the value operand is a collection, compiled once into a frozenset
    frozen_operand: bool = False

    def source(self, x: str, operand: str, against_fact: bool) -> str:
        """The expression testing ``x`` against ``operand`` (both Python expressions)."""
        if against_fact:
            assert self.fact_source is not None  # type rules refuse it earlier
            return self.fact_source.format(x=x, y=operand)
        return self.value_source.format(x=x, v=operand)

    def compile_operand(self, value: Any) -> Any:
        """The constant the compiled expression reads (``{v}``)."""
        if self.frozen_operand:
            # A list of lists (``in`` on a list fact) holds its members as tuples, like facts.
            return frozenset(tuple(v) if isinstance(v, list) else v for v in value)
        # Facts hold lists as tuples (hashable): a literal list compares as one.
        return tuple(value) if isinstance(value, list) else value

    def type_problem(
        self, fact: str, ftype: FactType, value: Any, other: FactType | None
    ) -> str | None:
        """None when ``fact`` (of type ``ftype``) may be tested against the operand: a literal
        ``value``, or a fact or parameter of type ``other``; else what is wrong."""
        op = self.name
        family = self.family
        if family is Family.ORDERING:
            if ftype.kind not in ("number", "integer"):
                return f"{op!r} compares numbers, but {fact!r} is {ftype.describe()}"
            if other is not None:
                if other.kind not in ("number", "integer"):
                    return f"{op!r} needs a number to compare {fact!r} with, got {other.describe()}"
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"{op!r} needs a number to compare {fact!r} with, got {show(value)}"
            return None
        if family is Family.SET:
            if ftype.kind != "list":
                return f"{op!r} tests a list, but {fact!r} is {ftype.describe()}"
            if other is not None:
                if other.kind != "list" or not (other.values or set()) <= (ftype.values or set()):
                    return f"{op!r} on {fact!r} needs {ftype.describe()}, got {other.describe()}"
                return None
            if not isinstance(value, list) or not FactType("list", ftype.values).accepts(value):
                return f"{op!r} on {fact!r} needs {ftype.describe()}, got {show(value)}"
            return None
        if family is Family.SIZE:
            if ftype.kind != "list":
                return f"{op!r} tests a list, but {fact!r} is {ftype.describe()}"
            if op == "empty" and not isinstance(value, bool):
                return f"'empty' takes true or false, got {show(value)}"
            if op == "min_size" and (isinstance(value, bool) or not isinstance(value, int)):
                return f"'min_size' takes a whole number, got {show(value)}"
            return None
        if family is Family.MEMBERSHIP:
            if other is not None:
                if other.kind != "list" or not (other.values or set()) <= (ftype.values or set()):
                    return f"{op!r} on {fact!r} needs a list of its values, got {other.describe()}"
                return None
            if not isinstance(value, list) or not value:
                return f"{op!r} takes a non-empty list of values, got {show(value)}"
            bad = [v for v in value if not ftype.accepts(v)]
            if bad:
                return f"{fact!r} is {ftype.describe()}; {show(bad[0])} is not{hint(bad[0], ftype)}"
            return None
        # equality
        if other is not None:
            if other.kind != ftype.kind:
                return f"cannot compare {fact!r} ({ftype.describe()}) with {other.describe()}"
            return None
        if not ftype.accepts(value):
            return f"{fact!r} is {ftype.describe()}; {show(value)} is not{hint(value, ftype)}"
        return None


def show(value: Any) -> str:
    """A literal as a rule file spells it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def hint(value: Any, ftype: FactType) -> str:
    from rollback_decision.errors import did_you_mean

    if isinstance(value, str) and ftype.values:
        return did_you_mean(value, map(str, ftype.values))
    return ""


# -- the operators -------------------------------------------------------------------------------


def _ordering(name: str, symbol: str, test: str, complement: str) -> Operator:
    durable, durable_fact = durable_ordering(name, test, complement)
    return Operator(
        name,
        Family.ORDERING,
        value_source=f"({{x}} is not None and {{x}} {symbol} {{v}})",
        fact_source=f"({{x}} is not None and {{y}} is not None and {{x}} {symbol} {{y}})",
        note=note_number,
        durable=durable,
        durable_fact=durable_fact,
    )


def _set(
    name: str,
    value_source: str,
    fact_source: str,
    note: Note,
    durable: ValueTranslation,
    durable_fact: FactTranslation,
) -> Operator:
    return Operator(
        name,
        Family.SET,
        value_source,
        fact_source,
        note=note,
        durable=durable,
        durable_fact=durable_fact,
        frozen_operand=True,
    )


_ALL = (
    Operator(
        "eq",
        Family.EQUALITY,
        "({x} == {v})",
        "({x} == {y})",
        note=note_number,
        durable=durable_eq,
        durable_fact=durable_eq_fact,
    ),
    Operator(
        "ne",
        Family.EQUALITY,
        "({x} != {v})",
        "({x} != {y})",
        note=note_number,
        durable=negated(durable_eq),
        durable_fact=negated(durable_eq_fact),
    ),
    Operator(
        "in",
        Family.MEMBERSHIP,
        "({x} in {v})",
        "({x} in {y})",
        note=note_members,
        durable=durable_in,
        durable_fact=durable_in_fact,
        frozen_operand=True,
    ),
    Operator(
        "not_in",
        Family.MEMBERSHIP,
        "({x} not in {v})",
        "({x} not in {y})",
        note=note_members,
        durable=negated(durable_in),
        durable_fact=negated(durable_in_fact),
        frozen_operand=True,
    ),
    _ordering("lt", "<", "$lt", "$gte"),
    _ordering("le", "<=", "$lte", "$gt"),
    _ordering("gt", ">", "$gt", "$lte"),
    _ordering("ge", ">=", "$gte", "$lt"),
    _set(
        "any_of",
        "(not {v}.isdisjoint({x}))",
        "(not set({y}).isdisjoint({x}))",
        note_set,
        durable_any_of,
        any_of_fact,
    ),
    _set(
        "all_of",
        "{v}.issubset({x})",
        "set({y}).issubset({x})",
        note_whole_set,
        durable_all_of,
        all_of_fact,
    ),
    _set(
        "none_of",
        "{v}.isdisjoint({x})",
        "set({y}).isdisjoint({x})",
        note_set,
        negated(durable_any_of),
        negated(any_of_fact),
    ),
    _set(
        "subset_of",
        "{v}.issuperset({x})",
        "set({y}).issuperset({x})",
        note_set,
        durable_subset_of,
        subset_of_fact,
    ),
    # ``empty: true`` / ``empty: false``: the operand is a boolean constant.
    Operator(
        "empty",
        Family.SIZE,
        "((not {x}) == {v})",
        None,
        note=note_empty,
        durable=durable_empty,
        durable_fact=None,
    ),
    Operator(
        "min_size",
        Family.SIZE,
        "(len({x}) >= {v})",
        None,
        note=note_min_size,
        durable=durable_min_size,
        durable_fact=None,
    ),
)

#: Every operator by name.
OPERATORS: Mapping[str, Operator] = {op.name: op for op in _ALL}


def operator(name: str) -> Operator:
    """The operator named ``name`` (KeyError if there is none)."""
    return OPERATORS[name]
