"""A table's conditions translated into durable-rules expressions.

Each test is translated by its operator (see :mod:`rollback_decision.policy.operator_forms`)
into two exact expressions, one that holds when the test holds and one when it fails, so
``not`` is pushed down to the tests by De Morgan and ``$ne`` is never written. The
:class:`Translator` is the :class:`~rollback_decision.policy.operators.DurableTarget` those
translations are written against: it names the message keys and records which ones a rule
reads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from rollback_decision.engine.durable.encoding import (
    Encoder,
    enc_eq,
    enc_has,
    enc_items,
    enc_len,
    enc_ord,
    order_key,
    tag,
)
from rollback_decision.engine.durable.errors import MAX_MESSAGE_KEYS, DurableTranslationError
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import AllOf, AnyOf, Condition, Not, Test
from rollback_decision.policy.operators import OPERATORS
from rollback_decision.policy.types import FactType

__all__ = ["FALSE", "TRUE", "Json", "Translator", "every", "some", "width"]

Json = Any  # a JSON-able durable-rules expression
TRUE: Json = True  # constants of the translation, folded away before they reach JSON
FALSE: Json = False


def _fold(parts: Iterable[Json], joiner: str, unit: Json, absorbing: Json) -> Json:
    out: list[Json] = []
    for part in parts:
        if part is absorbing:
            return absorbing
        if part is not unit:
            out.extend(part[joiner] if isinstance(part, dict) and joiner in part else [part])
    if not out:
        return unit
    return out[0] if len(out) == 1 else {joiner: out}


def every(parts: Iterable[Json]) -> Json:
    """The conjunction of ``parts`` (``$and``), with constants folded away."""
    return _fold(parts, "$and", TRUE, FALSE)


def some(parts: Iterable[Json]) -> Json:
    """The disjunction of ``parts`` (``$or``), with constants folded away."""
    return _fold(parts, "$or", FALSE, TRUE)


class Translator:
    """Translates one table's conditions, and records which encoded keys its messages need."""

    def __init__(self, table: CompiledTable, types: Mapping[str, FactType]):
        self.table = table
        self.types = types
        self.rule_id: str | None = None
        self.op: str | None = None
        #: key → (fact, encoder), in the order first needed
        self.keys: dict[str, tuple[str, Encoder]] = {}
        self._meaning: dict[str, tuple[str, ...]] = {}

    def fail(self, message: str) -> DurableTranslationError:
        return DurableTranslationError(message, table=self.table.id, rule_id=self.rule_id)

    # -- the DurableTarget interface the operators' translations are written against -------

    def key(self, kind: str, fact: str, encoder: Encoder, *member: str) -> str:
        name = ":".join((kind, fact, *member))
        meaning = (kind, fact, *member)
        if self._meaning.setdefault(name, meaning) != meaning:
            raise self.fail(f"facts {fact!r} and {self._meaning[name][1]!r} encode alike")
        self.keys.setdefault(name, (fact, encoder))
        return name

    def eq(self, fact: str) -> str:
        return self.key("eq", fact, enc_eq)

    def ord(self, fact: str) -> str:
        return self.key("ord", fact, enc_ord)

    def items(self, fact: str) -> str:
        return self.key("items", fact, enc_items)

    def len(self, fact: str) -> str:
        return self.key("len", fact, enc_len)

    def has(self, fact: str, member: Any, domain: frozenset[Any]) -> str:
        return self.key("has", fact, enc_has(domain, member, fact), tag(member))

    def domain(self, fact: str) -> frozenset[Any]:
        values = self.types[fact].values if fact in self.types else None
        if values is None:
            raise self.fail(
                f"{self.op!r} against a list fact needs the declared values of {fact!r}, "
                "and it has none"
            )
        return values

    def tag(self, value: Any) -> str:
        return tag(value)

    def bound(self, value: Any) -> str | None:
        return order_key(value)

    def every(self, parts: Iterable[Json]) -> Json:
        return every(parts)

    def some(self, parts: Iterable[Json]) -> Json:
        return some(parts)

    # -- the translation: each test gives (holds, fails), exact JSON for both ---------------

    def rule(self, rule_id: str, condition: Condition) -> tuple[Json, dict[str, Any]]:
        """The rule's condition (without its discriminator), and the keys it reads."""
        self.rule_id, self.keys = rule_id, {}
        try:
            expression = self.condition(condition, False)
            if len(self.keys) > MAX_MESSAGE_KEYS:
                raise self.fail(
                    f"it reads more than {MAX_MESSAGE_KEYS} encoded facts, "
                    "more than a durable-rules message holds"
                )
            return expression, self.keys
        finally:
            self.rule_id = None

    def condition(self, condition: Condition, negate: bool) -> Json:
        if isinstance(condition, Test):
            holds, fails = self.test(condition)
            return fails if negate else holds
        if isinstance(condition, Not):
            return self.condition(condition.item, not negate)
        if isinstance(condition, (AllOf, AnyOf)):
            if not condition.items:  # as the native compile has it: both hold
                return FALSE if negate else TRUE
            parts = [self.condition(item, negate) for item in condition.items]
            conjunction = isinstance(condition, AllOf) != negate
            return every(parts) if conjunction else some(parts)
        raise self.fail(f"unknown kind of condition {type(condition).__name__}")

    def test(self, test: Test) -> tuple[Json, Json]:
        operator = OPERATORS.get(test.op)
        if operator is None:
            raise self.fail(f"operator {test.op!r} has no durable-rules translation")
        if test.fact not in self.types:
            raise self.fail(f"unknown fact {test.fact!r}")
        self.op = test.op
        other = test.operand.fact
        if other is None:
            return operator.durable(self, test.fact, test.operand.value)
        if other not in self.types:
            raise self.fail(f"unknown fact {other!r}")
        if operator.durable_fact is None:
            raise self.fail(
                f"operator {test.op!r} against another fact has no durable-rules translation"
            )
        return operator.durable_fact(self, test.fact, other)


def width(expression: Json) -> int:
    """How many alpha-network branches of ``expression`` may hold at once (at most).

    durable-rules walks the branches that hold with a stack of 64 (MAX_STACK_SIZE); more
    pending at once is error 303. An ``$or`` whose branches test one key for distinct values
    is one branch at a time; any other ``$or`` may hold in every branch, and an ``$and`` of
    ``$or``s holds in every combination.
    """
    if isinstance(expression, dict) and "$and" in expression:
        return math.prod(width(part) for part in expression["$and"])
    if isinstance(expression, dict) and "$or" in expression:
        branches = expression["$or"]
        keys = {next(iter(b)) for b in branches if isinstance(b, dict) and len(b) == 1}
        values = {json.dumps(b, sort_keys=True) for b in branches}
        if len(keys) == 1 and not next(iter(keys)).startswith("$") and len(values) == len(branches):
            return 1  # {key: a} or {key: b} ...: one value at a time
        return sum(width(part) for part in branches)
    return 1
