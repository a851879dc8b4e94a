"""A policy's tables compiled into one registered durable-rules ruleset, and matching with it."""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from rollback_decision.engine.durable.encoding import ABSENT, Encoder
from rollback_decision.engine.durable.errors import (
    MAX_BRANCHES,
    MAX_MESSAGE_KEYS,
    MAX_PRIORITY,
    MAX_SESSIONS,
    DurableEngineError,
    DurableTranslationError,
)
from rollback_decision.engine.durable.translate import FALSE, Translator, every, width
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.types import FactType, input_fact_types

__all__ = ["DurableRuleset"]

_DISCRIMINATOR = "table"


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


#: How many times a ruleset is handed to durable-rules before its rejection is final (see
#: :meth:`DurableRuleset.register`). Two were not always enough: a full test run on a fresh
#: clone saw the spurious "error code: 102" twice in a row for the same ruleset.
REGISTER_ATTEMPTS = 4


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
            translator = Translator(table, types)
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
                if expression is FALSE:
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
                    "all": [{"m": every([discriminator, expression])}],
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
        from rollback_decision.engine import durable  # the process's one host, loaded lazily

        host = durable._host()
        host.actions.update(self._actions)
        for attempt in range(REGISTER_ATTEMPTS):
            try:
                # set_rulesets deletes each rule's "run": hand it a copy.
                host.set_rulesets({self.name: copy.deepcopy(self.definition)})
                break
            except Exception as exc:
                # durable-rules' C engine has rejected a ruleset it accepts on a later
                # registration ("error code: 102", ERR_UNEXPECTED_TYPE in its rules.h) in a
                # process that had registered other rulesets before; a failed creation
                # registers nothing.
                if attempt + 1 < REGISTER_ATTEMPTS and "error code: 102" in str(exc):
                    continue
                raise DurableTranslationError(f"durable-rules rejected the ruleset: {exc}") from exc
        self._host = host
        self._not_handled = durable._durable().MessageNotHandledException

    def message(self, chunk: _Chunk, facts: Mapping[str, Any], sid: str) -> dict[str, Any]:
        message: dict[str, Any] = {_DISCRIMINATOR: chunk.discriminator, "sid": sid}
        for key, fact, encode in chunk.keys:
            value = encode(facts[fact])
            if value is not ABSENT:
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
