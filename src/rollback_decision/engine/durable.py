"""The durable-rules engine: the policy's own rule files, decided through durable-rules.

``matcher(policy)`` compiles a loaded :class:`~rollback_decision.policy.Policy` — the same
``rules/`` files the native engine runs, shipped or customised — into one durable-rules
ruleset named after the policy's content hash, and returns a :data:`Matcher` that asks
durable-rules which rules of a table match. Everything else (combining matches, outputs, the
rationale, the Decision) is the shared core, so both engines return the same Decision.

durable-rules (https://github.com/jruizgit/rules) is an optional extra::

    pip install 'rollback-decision[durable]'

It is a C extension built from source at install time (a compiler is needed); 2.0.28 works on
CPython 3.11 and 3.12 and does not import on 3.13+, where the extra installs nothing and
asking for the engine raises :class:`EngineUnavailableError` saying so.

How a policy becomes a ruleset
------------------------------
* Every rule becomes one durable rule ``{"all": [{"m": EXPR}], "pri": P, "run": ACTION}``
  named by its rule id. ``EXPR`` always starts with the discriminator ``{"table": "ID#N"}``, so
  a message posted for one table reaches only that table's rules, and no rule is ever made of
  a lone ``$nex`` (which would match the session state itself and loop forever). ``N`` numbers
  the chunks of a table: a message may have at most 64 branches of durable-rules' alpha
  network pending at once (error 303), so a table whose rules could hold more branches at once
  (see :func:`width`) is split into chunks, each reached by its own message, in table order.
* ``pri`` is the rule's position in the whole pipeline, from 1: distinct, and below 65,536
  (``pri`` is an unsigned 16-bit number; a larger or negative one wraps around silently).
* Facts are encoded into the message so that every comparison is exact (durable-rules'
  equality coerces types: ``{"x": 1}`` matches ``true`` and ``"1"``):

  ``eq:NAME``     the value as a tagged string — ``null``, ``b:true``, ``n:15``, ``s:critical``,
                  ``l:[...]`` — so equality, ``in`` and null tests are string equality, and
                  null is a value rather than a missing key.
  ``ord:NAME``    numbers only, absent for null (and NaN): a fixed-width hex key whose string
                  order is the numbers' order. durable-rules' JSON reader rejects exponents
                  without a fraction (``1e-05``, ``1e+16`` — which ``json.dumps`` writes), so
                  numbers never reach it as JSON numbers.
  ``items:NAME``  a list's items, tagged, for ``$iany``/``$iall``; ``len:NAME`` its length.
  ``has:NAME:V``  true/false per possible item, only where a list is compared with another
                  list fact (fact-vs-fact list tests need the list's declared values).

  Only the keys a table's rules read are sent with that table's message.
* ``not`` is pushed down to the tests by De Morgan; every test knows its exact negation
  (e.g. ``not (x < 5)`` is ``x is null or x >= 5``). ``$ne`` is never written: durable-rules
  does not know it (see below).
* Fact-vs-fact comparisons use durable-rules' own message references, ``{"$m": "KEY"}``,
  guarded by ``$ex`` on both keys (see below).

Running it
----------
* "first" tables *post* the message (chunk by chunk until one matches): durable-rules fires
  the matching rule of lowest ``pri`` and raises ``MessageNotHandledException`` when none
  matches (here: no match, a gap the core reports). "unique" and "collect" tables need every
  match: the message is asserted as a fact (every matching rule fires) and retracted at once.
  Measured: 1.4–3 ms per decision of the shipped policy's 12 tables, 7–10x the native engine
  (``python -m benchmarks.bench_engines``); nearly all of it is durable-rules' own Python
  (JSON round trips of messages and session state, one closure per action).
* Actions are given by name and resolved by a :class:`durable.engine.Host` subclass whose
  ``_run`` does nothing: the default Host starts timer threads that may run a pending action
  on another thread, and then a ``post`` returns without its action (about 1 in 2,000 calls).
  Each action appends its rule's index to a thread-local list; a handled message that ran no
  action is an error, never an empty answer.
* Sessions: durable-rules keeps at most 1,024 live session ids per ruleset (the next raises
  ``MemoryError``) and one session id used by two threads at once gives wrong answers. Each
  match leases a session id from a per-ruleset pool (at most :data:`MAX_SESSIONS` ids; a call
  beyond that waits for a free one), so ids are reused, never shared, and bounded whatever the
  number of threads. A session left in an unknown state by an error is deleted before reuse.
* Rulesets cannot be updated (registering a name twice raises) and ``set_rulesets`` mutates
  the dict it is given (it deletes ``run``): each policy is compiled once per content hash,
  under a lock, from a fresh copy of the definition; :attr:`DurableRuleset.definition` keeps
  the pristine JSON.

Found by trying durable-rules 2.0.28 (beyond what the issue lists)
------------------------------------------------------------------
* A ``$m`` reference to a key the message lacks *matches* (``{"$lt": {"a": {"$m": "b"}}}``
  holds for ``{"a": 1}``): hence the ``$ex`` guards.
* ``$iall`` is false on an empty list (not vacuously true); ``none_of`` and ``subset_of`` test
  ``len:NAME`` first.
* A message may have at most 64 alpha-network branches pending at once: 65 rules of one
  ruleset whose tests all hold raise error 303 (MAX_STACK_SIZE) instead of firing.
* A rule fires once per ``$or`` branch that holds (``$iany`` fires once however many items
  match): matches are de-duplicated.
* ``assert_fact`` of a message no rule matches raises ``MessageNotHandledException`` too, and
  does not keep the fact.
* Numbers in exponent form without a fraction (``1e-05``) are a parse error, in rules and in
  messages alike; hence the ``ord:`` keys.
* In our trials ``$ne`` was rejected at registration (error 202/204, depending on the value)
  rather than accepted; either way it is never written.
* A dot in a key is a path: ``{"a.b": 1}`` also matches ``{"a": {"b": 1}}``. Our keys are flat
  and our messages hold no objects.
* A message holds at most 255 keys (``MAX_OBJECT_PROPERTIES``); a table needing more cannot be
  compiled (:class:`DurableTranslationError`).
* The C extension holds the GIL: threads are safe (with the session pool) but not parallel.
* On Python 3.12 every action emits a ``DeprecationWarning`` (``utcfromtimestamp``) from
  ``durable.engine``. It says nothing a caller can act on; Python hides it by default, and
  this module does not touch the process's warning filters. Test suites that turn warnings
  into errors filter that one message narrowly (see tests/test_durable.py).
"""

from __future__ import annotations

import copy
import importlib.metadata
import itertools
import json
import math
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from rollback_decision.engine.core import Matcher
from rollback_decision.errors import EngineUnavailableError
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.conditions import (
    COMPARISONS,
    LIST_TESTS,
    AllOf,
    AnyOf,
    Condition,
    Not,
    Test,
)
from rollback_decision.policy.types import FactType, input_fact_types

__all__ = [
    "INSTALL_HINT",
    "MAX_SESSIONS",
    "DurableEngineError",
    "DurableRuleset",
    "DurableTranslationError",
    "compile_ruleset",
    "matcher",
]

#: The release the engine is written against: the translation relies on its behaviour.
DURABLE_VERSION = "2.0.28"
INSTALL_HINT = (
    "the durable engine needs durable-rules, which is not installed or does not import: "
    "pip install 'rollback-decision[durable]' "
    f"(CPython 3.11 or 3.12 and a C compiler; durable-rules {DURABLE_VERSION} does not import "
    "on 3.13+)"
)
#: Session ids one ruleset may have alive at once (durable-rules' hard limit is 1,024).
MAX_SESSIONS = 1000
#: durable-rules' ``pri`` is an unsigned 16-bit number.
MAX_PRIORITY = 0xFFFF
#: durable-rules' limit on the keys of one message (MAX_OBJECT_PROPERTIES), less ours.
MAX_MESSAGE_KEYS = 255 - 2  # "table" and "sid"
_DISCRIMINATOR = "table"


class DurableTranslationError(EngineUnavailableError):
    """A policy uses something the durable engine cannot express faithfully.

    Raised when the policy is compiled for durable-rules (the first ``decide`` with it), naming
    the table and rule; the native engine still runs the policy.
    """

    def __init__(self, message: str, *, table: str | None = None, rule_id: str | None = None):
        self.table = table
        self.rule_id = rule_id
        self.reason = message
        where = []
        if table is not None:
            where.append(f"table {table!r}")
        if rule_id is not None:
            where.append(f"rule {rule_id!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(f"{prefix}cannot run on the durable engine: {message}")


class DurableEngineError(EngineUnavailableError):
    """durable-rules misbehaved while deciding (a fact it cannot represent, a lost action)."""


# -- durable-rules, imported on first use ----------------------------------------------------


_IMPORT_LOCK = threading.Lock()
_ENGINE: ModuleType | None = None
_HOST: Any = None


def _durable() -> ModuleType:
    """``durable.engine``, or :class:`EngineUnavailableError` saying how to get it."""
    global _ENGINE
    if _ENGINE is None:
        try:
            import durable.engine
        except ImportError as exc:  # not installed, or built but broken (Python 3.13+)
            raise EngineUnavailableError(f"{INSTALL_HINT} [{exc}]") from exc
        version = _installed_version()
        if version not in (None, DURABLE_VERSION):
            raise EngineUnavailableError(
                f"the durable engine is written for durable-rules {DURABLE_VERSION}, whose "
                f"quirks it works around; {version} is installed: "
                "pip install 'rollback-decision[durable]'"
            )
        _ENGINE = durable.engine
    return _ENGINE


def _installed_version() -> str | None:
    try:
        return importlib.metadata.version("durable-rules")
    except importlib.metadata.PackageNotFoundError:  # imported from a source tree
        return None


def _host() -> Any:
    """The process's one durable-rules host (created on first use, without timer threads)."""
    global _HOST
    with _IMPORT_LOCK:
        if _HOST is None:
            engine = _durable()

            class QuietHost(engine.Host):  # type: ignore[misc,name-defined]
                """Resolves actions by name; runs no timers (so no action runs off-thread)."""

                def __init__(self) -> None:
                    self.actions: dict[str, Callable[[Any], None]] = {}
                    super().__init__()

                def _run(self) -> None:
                    return None

                def get_action(self, action_name: str) -> Callable[[Any], None]:
                    try:
                        return self.actions[action_name]
                    except KeyError:
                        raise DurableEngineError(f"no action named {action_name!r}") from None

            _HOST = QuietHost()
        return _HOST


# -- encoding facts -----------------------------------------------------------------------------

_MAX_EXACT_INT = 2**53


def tag(value: Any) -> str:
    """A value as a string that equals another's exactly when the values are equal (``==``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return f"n:{value}"
    if isinstance(value, float):
        if math.isnan(value):
            raise DurableEngineError("a NaN fact cannot be compared faithfully")
        if value.is_integer():
            return f"n:{int(value)}"
        return f"n:{value!r}"
    if isinstance(value, str):  # StrEnum members too
        return f"s:{value}"
    if isinstance(value, (list, tuple)):
        return "l:" + json.dumps([tag(item) for item in value], ensure_ascii=False)
    raise DurableEngineError(f"a fact of type {type(value).__name__} cannot be encoded")


def order_key(value: Any) -> str | None:
    """A number as 16 hex digits whose string order is the numbers' order; None for null/NaN."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > _MAX_EXACT_INT:
            raise DurableEngineError(f"the integer {value} is too large to compare exactly")
        value = float(value)
    if not isinstance(value, float):
        raise DurableEngineError(f"cannot order a value of type {type(value).__name__}")
    if math.isnan(value):
        return None  # NaN is never less, greater or equal: like a null under ordering
    (bits,) = struct.unpack(">Q", struct.pack(">d", value + 0.0))  # -0.0 → 0.0
    bits = (~bits & 0xFFFF_FFFF_FFFF_FFFF) if bits >> 63 else (bits | 1 << 63)
    return f"{bits:016x}"


_ABSENT = object()
Encoder = Callable[[Any], Any]


def _enc_eq(value: Any) -> Any:
    return tag(value)


def _enc_ord(value: Any) -> Any:
    key = order_key(value)
    return _ABSENT if key is None else key


def _enc_items(value: Any) -> Any:
    return [tag(item) for item in value] if value is not None else _ABSENT


def _enc_len(value: Any) -> Any:
    return len(value) if value is not None else _ABSENT


def _enc_has(domain: frozenset[Any], member: Any, fact: str) -> Encoder:
    def has(value: Any) -> Any:
        items = value or ()
        for item in items:
            if item not in domain:
                raise DurableEngineError(
                    f"{fact!r} holds {item!r}, outside its declared values; "
                    "a list compared with another list fact must stay within them"
                )
        return member in items

    return has


# -- translating conditions -------------------------------------------------------------------

Json = Any  # a JSON-able durable-rules expression
_TRUE: Json = True  # constants of the translation, folded away before they reach JSON
_FALSE: Json = False

_COMPLEMENT = {"lt": "$gte", "le": "$gt", "gt": "$lte", "ge": "$lt"}
_DURABLE_OP = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}


def _all(parts: Iterable[Json]) -> Json:
    out: list[Json] = []
    for part in parts:
        if part is _FALSE:
            return _FALSE
        if part is not _TRUE:
            out.extend(part["$and"] if isinstance(part, dict) and "$and" in part else [part])
    if not out:
        return _TRUE
    return out[0] if len(out) == 1 else {"$and": out}


def _any(parts: Iterable[Json]) -> Json:
    out: list[Json] = []
    for part in parts:
        if part is _TRUE:
            return _TRUE
        if part is not _FALSE:
            out.extend(part["$or"] if isinstance(part, dict) and "$or" in part else [part])
    if not out:
        return _FALSE
    return out[0] if len(out) == 1 else {"$or": out}


class _Translator:
    """Translates one table's conditions, and records which encoded keys its messages need."""

    def __init__(self, table: CompiledTable, types: Mapping[str, FactType]):
        self.table = table
        self.types = types
        self.rule_id: str | None = None
        #: key → (fact, encoder), in the order first needed
        self.keys: dict[str, tuple[str, Encoder]] = {}
        self._meaning: dict[str, tuple[str, ...]] = {}

    def fail(self, message: str) -> DurableTranslationError:
        return DurableTranslationError(message, table=self.table.id, rule_id=self.rule_id)

    def key(self, kind: str, fact: str, encoder: Encoder, *member: str) -> str:
        name = ":".join((kind, fact, *member))
        meaning = (kind, fact, *member)
        if self._meaning.setdefault(name, meaning) != meaning:
            raise self.fail(f"facts {fact!r} and {self._meaning[name][1]!r} encode alike")
        self.keys.setdefault(name, (fact, encoder))
        return name

    def eq(self, fact: str) -> str:
        return self.key("eq", fact, _enc_eq)

    def ord(self, fact: str) -> str:
        return self.key("ord", fact, _enc_ord)

    def items(self, fact: str) -> str:
        return self.key("items", fact, _enc_items)

    def len(self, fact: str) -> str:
        return self.key("len", fact, _enc_len)

    def has(self, fact: str, member: Any, domain: frozenset[Any]) -> str:
        return self.key("has", fact, _enc_has(domain, member, fact), tag(member))

    def domain(self, fact: str, why: str) -> frozenset[Any]:
        values = self.types[fact].values if fact in self.types else None
        if values is None:
            raise self.fail(f"{why} needs the declared values of {fact!r}, and it has none")
        return values

    # The translation: each test gives (holds, fails), exact JSON for both.

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
                return _FALSE if negate else _TRUE
            parts = [self.condition(item, negate) for item in condition.items]
            conjunction = isinstance(condition, AllOf) != negate
            return _all(parts) if conjunction else _any(parts)
        raise self.fail(f"unknown kind of condition {type(condition).__name__}")

    def test(self, test: Test) -> tuple[Json, Json]:
        if test.op not in COMPARISONS and test.op not in LIST_TESTS:
            raise self.fail(f"operator {test.op!r} has no durable-rules translation")
        if test.fact not in self.types:
            raise self.fail(f"unknown fact {test.fact!r}")
        if test.operand.fact is not None:
            return self.against_fact(test.fact, test.op, test.operand.fact)
        return self.against_value(test.fact, test.op, test.operand.value)

    def against_value(self, fact: str, op: str, value: Any) -> tuple[Json, Json]:
        if op in ("eq", "ne", "in", "not_in"):
            key = self.eq(fact)
            values = list(
                dict.fromkeys(tag(v) for v in (value if op in ("in", "not_in") else [value]))
            )
            holds = _any({key: v} for v in values)
            fails = _all({"$neq": {key: v}} for v in values)
            return (holds, fails) if op in ("eq", "in") else (fails, holds)
        if op in _DURABLE_OP:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(f"{op!r} compares with a number, got {value!r}")
            bound = order_key(value)
            if bound is None:  # NaN: never ordered
                return _FALSE, _TRUE
            key = self.ord(fact)
            holds = {_DURABLE_OP[op]: {key: bound}}
            fails = _any([{"$nex": {key: 1}}, {_COMPLEMENT[op]: {key: bound}}])
            return holds, fails
        if op in ("empty", "min_size"):
            size = self.len(fact)
            if op == "empty":
                empty, filled = {size: 0}, {"$gt": {size: 0}}
                return (empty, filled) if value else (filled, empty)
            return {"$gte": {size: value}}, {"$lt": {size: value}}
        # any_of, all_of, none_of, subset_of: a literal list
        members = list(dict.fromkeys(tag(v) for v in value))
        items, size = self.items(fact), self.len(fact)

        def some(among: Sequence[str]) -> Json:  # some item is one of `among`
            if not among:
                return _FALSE
            return {"$iany": {items: _any({"$i": m} for m in among)}}

        def none(among: Sequence[str]) -> Json:  # no item is one of `among`
            if not among:
                return _TRUE
            # $iall is false on an empty list: test the length first.
            return _any([{size: 0}, {"$iall": {items: _all({"$neq": {"$i": m}} for m in among)}}])

        if op == "any_of":
            return some(members), none(members)
        if op == "none_of":
            return none(members), some(members)
        if op == "all_of":
            return _all(some([m]) for m in members), _any(none([m]) for m in members)
        # subset_of: every item is one of `members`
        if not members:
            return {size: 0}, {"$gt": {size: 0}}
        inside = {"$iall": {items: _any({"$i": m} for m in members)}}
        outside = {"$iany": {items: _all({"$neq": {"$i": m}} for m in members)}}
        return _any([{size: 0}, inside]), outside

    def against_fact(self, fact: str, op: str, other: str) -> tuple[Json, Json]:
        if other not in self.types:
            raise self.fail(f"unknown fact {other!r}")
        if op in ("eq", "ne"):
            left, right = self.eq(fact), self.eq(other)  # always present: null is "null"
            same = {left: {"$m": right}}
            differ = {"$neq": {left: {"$m": right}}}
            return (same, differ) if op == "eq" else (differ, same)
        if op in _DURABLE_OP:
            left, right = self.ord(fact), self.ord(other)
            # A $m reference to a missing key matches anything: guard both keys.
            holds = _all(
                [
                    {"$ex": {left: 1}},
                    {"$ex": {right: 1}},
                    {_DURABLE_OP[op]: {left: {"$m": right}}},
                ]
            )
            fails = _any(
                [
                    {"$nex": {left: 1}},
                    {"$nex": {right: 1}},
                    {_COMPLEMENT[op]: {left: {"$m": right}}},
                ]
            )
            return holds, fails
        if op in ("in", "not_in"):
            domain = self.domain(other, f"{op!r} against a list fact")
            key = self.eq(fact)
            pairs = [(tag(d), self.has(other, d, domain)) for d in _sorted(domain)]
            holds = _any(_all([{key: t}, {flag: True}]) for t, flag in pairs)
            fails = _all(_any([{"$neq": {key: t}}, {flag: False}]) for t, flag in pairs)
            return (holds, fails) if op == "in" else (fails, holds)
        if op in ("any_of", "all_of", "none_of", "subset_of"):
            why = f"{op!r} against a list fact"
            domain = self.domain(fact, why) | self.domain(other, why)
            mine_domain, theirs_domain = self.domain(fact, why), self.domain(other, why)
            mine = {d: self.has(fact, d, mine_domain) for d in _sorted(domain)}
            theirs = {d: self.has(other, d, theirs_domain) for d in _sorted(domain)}

            def both(d: Any, a: bool, b: bool) -> Json:
                return _all([{mine[d]: a}, {theirs[d]: b}])

            def either(d: Any, a: bool, b: bool) -> Json:
                return _any([{mine[d]: a}, {theirs[d]: b}])

            ds = list(mine)
            if op in ("any_of", "none_of"):  # some value in both
                shared = _any(both(d, True, True) for d in ds)
                apart = _all(either(d, False, False) for d in ds)
                return (shared, apart) if op == "any_of" else (apart, shared)
            if op == "all_of":  # every value of `other` is in `fact`
                return (
                    _all(either(d, True, False) for d in ds),
                    _any(both(d, False, True) for d in ds),
                )
            # subset_of: every value of `fact` is in `other`
            return (
                _all(either(d, False, True) for d in ds),
                _any(both(d, True, False) for d in ds),
            )
        raise self.fail(f"operator {op!r} against another fact has no durable-rules translation")


def _sorted(values: Iterable[Any]) -> list[Any]:
    return sorted(values, key=tag)


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


# -- the compiled ruleset -----------------------------------------------------------------------


class _Sessions:
    """Session ids of one ruleset, leased to one call at a time and reused.

    Never more than ``limit`` ids exist: a call finding none free while ``limit`` are leased
    waits for one to come back.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.created = 0
        self._free: deque[str] = deque()
        self._returned = threading.Condition(threading.Lock())
        self._waiting = 0

    def acquire(self) -> str:
        try:
            return self._free.pop()  # atomic: the common case takes no lock
        except IndexError:
            pass
        with self._returned:
            while True:
                if self._free:
                    return self._free.pop()
                if self.created < self.limit:
                    self.created += 1
                    return str(self.created)
                self._waiting += 1
                try:
                    self._returned.wait()
                finally:
                    self._waiting -= 1

    def release(self, sid: str) -> None:
        self._free.append(sid)
        if self._waiting:
            with self._returned:
                self._returned.notify()


#: Branches one message may have pending in durable-rules' alpha network (its stack holds 64).
MAX_BRANCHES = 60


@dataclass(frozen=True)
class _Chunk:
    """Rules of one table that one message reaches: its discriminator, and the keys they read."""

    discriminator: str
    keys: tuple[tuple[str, str, Encoder], ...]  # (message key, fact, encoder)

    @classmethod
    def of(cls, table_id: str, number: int, keys: Mapping[str, tuple[str, Encoder]]) -> _Chunk:
        return cls(
            discriminator=f"{table_id}#{number}",
            keys=tuple((key, fact, enc) for key, (fact, enc) in keys.items()),
        )


@dataclass(frozen=True)
class _Table:
    id: str
    post: bool  # first-match tables post; the others assert and retract
    #: In table order. A large table is split so that no message can hold more branches at
    #: once than durable-rules evaluates (see :func:`width`).
    chunks: tuple[_Chunk, ...]


_local = threading.local()


class DurableRuleset:
    """A policy compiled into one durable-rules ruleset, ready to match tables' rules."""

    def __init__(
        self,
        name: str,
        tables: Sequence[CompiledTable],
        types: Mapping[str, FactType] | None = None,
    ) -> None:
        """Translate ``tables`` (in pipeline order); ``types`` of the facts they read default
        to the incident's facts and the tables' outputs."""
        self.name = name
        if types is None:
            types = dict(input_fact_types())
            for table in tables:
                types.update(table.outputs)
        definition: dict[str, dict[str, Any]] = {}
        actions: dict[str, Callable[[Any], None]] = {}
        compiled: dict[str, _Table] = {}
        priority = 0
        for table in tables:
            translator = _Translator(table, types)
            chunks: list[_Chunk] = []
            keys: dict[str, tuple[str, Encoder]] = {}
            branches = members = 0
            for rule in table.rules:
                priority += 1
                if priority > MAX_PRIORITY:
                    raise DurableTranslationError(
                        f"a policy of more than {MAX_PRIORITY} rules has no distinct "
                        "durable-rules priorities left",
                        table=table.id,
                        rule_id=rule.id,
                    )
                expression, reads = translator.rule(rule.id, rule.condition)
                if expression is _FALSE:
                    continue  # can never match: nothing to register
                wide = width(expression)
                if wide > MAX_BRANCHES:
                    raise DurableTranslationError(
                        f"its condition may hold in {wide} branches at once; durable-rules "
                        f"evaluates at most {MAX_BRANCHES}",
                        table=table.id,
                        rule_id=rule.id,
                    )
                if branches + wide > MAX_BRANCHES or len(keys | reads) > MAX_MESSAGE_KEYS:
                    chunks.append(_Chunk.of(table.id, len(chunks), keys))
                    keys, branches, members = {}, 0, 0
                keys.update(reads)
                branches += wide
                members += 1
                discriminator = {_DISCRIMINATOR: f"{table.id}#{len(chunks)}"}
                action = f"{self.name}/{rule.id}"
                actions[action] = _recorder(rule.index)
                definition[rule.id] = {
                    "all": [{"m": _all([discriminator, expression])}],
                    "pri": priority,
                    "run": action,
                }
            if members:
                chunks.append(_Chunk.of(table.id, len(chunks), keys))
            compiled[table.id] = _Table(
                id=table.id, post=table.combine == "first", chunks=tuple(chunks)
            )
        #: The ruleset as registered with durable-rules (a pristine copy: registering mutates).
        self.definition: dict[str, dict[str, Any]] = definition
        self._tables = compiled
        self._actions = actions
        self.sessions = _Sessions(MAX_SESSIONS)
        self._host: Any = None
        self._not_handled: type[Exception] = Exception

    def register(self) -> None:
        host = _host()
        host.actions.update(self._actions)
        try:
            # set_rulesets deletes each rule's "run": hand it a copy.
            host.set_rulesets({self.name: copy.deepcopy(self.definition)})
        except Exception as exc:
            raise DurableTranslationError(f"durable-rules rejected the ruleset: {exc}") from exc
        self._host = host
        self._not_handled = _durable().MessageNotHandledException

    def message(self, chunk: _Chunk, facts: Mapping[str, Any], sid: str) -> dict[str, Any]:
        message: dict[str, Any] = {_DISCRIMINATOR: chunk.discriminator, "sid": sid}
        for key, fact, encode in chunk.keys:
            value = encode(facts[fact])
            if value is not _ABSENT:
                message[key] = value
        return message

    def match(self, table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
        """The :data:`Matcher`: indexes of the rules of ``table`` that match ``facts``."""
        compiled = self._tables[table.id]
        host, not_handled = self._host, self._not_handled
        sid = self.sessions.acquire()
        fired: list[int] = []
        _local.fired = fired
        clean = False
        try:
            for chunk in compiled.chunks:
                message = self.message(chunk, facts, sid)
                if compiled.post:
                    try:
                        host.post(self.name, message)
                    except not_handled:
                        continue  # no rule of this chunk matched
                    if not fired:
                        raise DurableEngineError(
                            f"table {table.id!r}: durable-rules handled the message "
                            "but ran no action"
                        )
                    break  # the first match, chunks being in table order
                with suppress(not_handled):  # raised when no rule matched
                    host.assert_fact(self.name, message)
                with suppress(not_handled):
                    host.retract_fact(self.name, message)
            clean = True
        finally:
            _local.fired = None
            if not clean:
                # An error mid-way may leave the fact asserted: start the session afresh.
                with suppress(Exception):
                    host.delete_state(self.name, sid)
            self.sessions.release(sid)
        return tuple(sorted(set(fired)))  # a rule fires once per $or branch that holds


def _recorder(index: int) -> Callable[[Any], None]:
    def record(c: Any) -> None:
        fired = getattr(_local, "fired", None)
        if fired is not None:
            fired.append(index)

    return record


_NAMES = itertools.count()


def compile_ruleset(policy: Policy) -> DurableRuleset:
    """The policy's durable-rules ruleset: compiled and registered once per policy (kept by
    the policy's runtime). durable-rules has one host per process and cannot unregister a
    ruleset, so each policy object compiled for it stays registered for the process's life."""
    _durable()  # a missing durable-rules is reported before any translation

    def make() -> DurableRuleset:
        name = f"rollback_decision_{policy.identity.content_hash}_{next(_NAMES)}"
        ruleset = DurableRuleset(name, policy.tables)
        ruleset.register()
        return ruleset

    return policy.runtime.once("durable.ruleset", make)


def matcher(policy: Policy) -> Matcher:
    """The durable-rules :data:`Matcher` for ``policy`` (see the module docstring)."""
    return compile_ruleset(policy).match
