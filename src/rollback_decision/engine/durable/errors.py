"""The durable engine's limits and errors (shared by its translation, ruleset and host)."""

from __future__ import annotations

from rollback_decision.errors import EngineUnavailableError

__all__ = [
    "DURABLE_VERSION",
    "INSTALL_HINT",
    "MAX_BRANCHES",
    "MAX_MESSAGE_KEYS",
    "MAX_PRIORITY",
    "MAX_SESSIONS",
    "DurableEngineError",
    "DurableTranslationError",
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


#: Branches one message may have pending in durable-rules' alpha network (its stack holds 64).
MAX_BRANCHES = 60
