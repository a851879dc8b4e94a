"""A compiled policy's runtime state: every memo the library keeps, in one object per policy.

The :class:`~rollback_decision.policy.Policy` owns one :class:`Runtime` (``policy.runtime``).
Whatever is remembered to decide faster — whole decisions, a table's matches, rationale
plans, expanded plan parts — lives in a named :class:`Memo` of that runtime, bounded, and
goes with the policy; so does what is compiled lazily once per policy (the native engine's
generated pipeline, the rationale plan, the durable engine's ruleset: :meth:`Runtime.once`).
:meth:`Runtime.clear` forgets every memo; ``decide(..., remember=False)`` uses none of them.
No module of the library keeps mutable state of its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["DEFAULT_LIMIT", "Memo", "Runtime"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: How many entries a memo holds unless its owner says otherwise.
DEFAULT_LIMIT = 4096


class Memo(Generic[K, V]):
    """A bounded memo: when full, the oldest entry makes room (first in, first out).

    Reads and writes are single dictionary operations, safe from several threads; two
    threads computing the same missing value may both compute it (the values are equal).
    """

    __slots__ = ("_data", "limit", "name", "reader")

    def __init__(self, name: str, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"a memo holds at least one entry, got limit={limit}")
        self.name = name
        self.limit = limit
        self._data: dict[K, V] = {}
        #: ``get`` as the underlying dictionary's own method, for hot paths: no Python frame
        #: of its own (stays valid across :meth:`clear`, which empties the same dictionary)
        self.reader: Callable[[K], V | None] = self._data.get

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> V:
        data = self._data
        # (the size first: a memo is rarely full, and a long key is slow to hash)
        if len(data) >= self.limit and key not in data:
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                del data[next(iter(data))]  # (another thread may have emptied it)
        data[key] = value
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        found = self._data.get(key)
        if found is None:
            found = self.put(key, make())
        return found

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<Memo {self.name} {len(self._data)}/{self.limit}>"


class _Memos(dict[str, Memo[Any, Any]]):
    """A runtime's memos by name; subscripting makes a missing one (``DEFAULT_LIMIT``)."""

    def __init__(self, lock: threading.RLock) -> None:
        super().__init__()
        self._lock = lock

    def make(self, name: str, limit: int) -> Memo[Any, Any]:
        with self._lock:
            found = self.get(name)
            if found is None:
                found = self[name] = Memo(name, limit)
        return found

    def __missing__(self, name: str) -> Memo[Any, Any]:
        return self.make(name, DEFAULT_LIMIT)


class Runtime:
    """The memos of one policy, by name; created when the policy is compiled."""

    def __init__(self) -> None:
        # Re-entrant: making compiled state (once) may ask for memos.
        self._lock = threading.RLock()
        self._memos = _Memos(self._lock)
        #: every memo by name, for hot paths: ``runtime.memos[name]`` is :meth:`memo` with the
        #: default limit as one dictionary subscript (no Python frame once the memo exists)
        self.memos: Mapping[str, Memo[Any, Any]] = self._memos
        self._compiled: dict[str, Any] = {}
        #: what :meth:`once` made, by name, for hot paths to read (``compiled.get(name)``, then
        #: :meth:`once` if None); never written outside :meth:`once`
        self.compiled: Mapping[str, Any] = self._compiled

    def memo(self, name: str, limit: int = DEFAULT_LIMIT) -> Memo[Any, Any]:
        """The memo called ``name`` (made on first use, with ``limit`` entries at most)."""
        found = self._memos.get(name)
        return found if found is not None else self._memos.make(name, limit)

    def once(self, name: str, make: Callable[..., V], *args: Any) -> V:
        """Compiled state made once per policy (a generated pipeline, a ruleset) and kept for
        the policy's life: it is part of the policy, not a memory of incidents, so
        :meth:`clear` keeps it. ``make(*args)`` makes it (hot paths pass a module function
        and its arguments rather than a new closure per call)."""
        compiled = self._compiled
        found: V | None = compiled.get(name)
        if found is None:
            with self._lock:
                found = compiled.get(name)
                if found is None:
                    found = compiled[name] = make(*args)
        return found

    def clear(self) -> None:
        """Forget everything remembered about incidents decided under this policy."""
        with self._lock:
            for memo in self._memos.values():
                memo.clear()

    def sizes(self) -> dict[str, int]:
        """How many entries each memo holds (for tests and benchmarks)."""
        return {name: len(memo) for name, memo in self._memos.items()}

    def __repr__(self) -> str:
        return f"<Runtime {self.sizes()}>"
