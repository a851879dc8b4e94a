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

The package: :mod:`.encoding` (facts into message keys), :mod:`.translate` (conditions into
expressions, through each operator's own translation), :mod:`.ruleset` (the registered
ruleset, its sessions and matching), :mod:`.errors` (limits and errors); this module imports
durable-rules on first use and keeps the process's one host.

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

import importlib.metadata
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from rollback_decision.engine.core import Matcher
from rollback_decision.engine.durable.encoding import order_key, tag
from rollback_decision.engine.durable.errors import (
    DURABLE_VERSION,
    INSTALL_HINT,
    MAX_SESSIONS,
    DurableEngineError,
    DurableTranslationError,
)
from rollback_decision.engine.durable.ruleset import DurableRuleset, _Sessions
from rollback_decision.engine.durable.translate import width
from rollback_decision.errors import EngineUnavailableError
from rollback_decision.policy import Policy

__all__ = [
    "DURABLE_VERSION",
    "INSTALL_HINT",
    "MAX_SESSIONS",
    "DurableEngineError",
    "DurableRuleset",
    "DurableTranslationError",
    "_Sessions",
    "compile_ruleset",
    "matcher",
    "order_key",
    "tag",
    "width",
]

# -- durable-rules, imported on first use ----------------------------------------------------


_IMPORT_LOCK = threading.Lock()
_COMPILE_LOCK = threading.Lock()
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
                    #: the rulesets registered, by the content hash of their policy: the
                    #: host holds a limited number and never lets one go
                    self.compiled: dict[str, DurableRuleset] = {}
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


def compile_ruleset(policy: Policy) -> DurableRuleset:
    """The policy's durable-rules ruleset, kept by the policy's runtime.

    durable-rules has one host per process, holds a limited number of rulesets and cannot
    unregister one: a ruleset is registered once per policy content (two policies with the
    same content hash have the same tables) and the host keeps it for the process's life.
    """
    _durable()  # a missing durable-rules is reported before any translation

    def make() -> DurableRuleset:
        host = _host()
        key = policy.identity.content_hash
        with _COMPILE_LOCK:
            ruleset: DurableRuleset | None = host.compiled.get(key)
            if ruleset is None:
                ruleset = DurableRuleset(f"rollback_decision_{key}", policy.tables)
                ruleset.register()
                host.compiled[key] = ruleset
        return ruleset

    return policy.runtime.once("durable.ruleset", make)


def matcher(policy: Policy) -> Matcher:
    """The durable-rules :data:`Matcher` for ``policy`` (see the module docstring)."""
    return compile_ruleset(policy).match
