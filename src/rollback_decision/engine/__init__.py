"""Stage 3 of the pipeline: ``decide()`` — a pure function of (policy, incident)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rollback_decision.decision import Decision
from rollback_decision.engine import native
from rollback_decision.engine.core import Matcher, assemble, run
from rollback_decision.errors import EngineUnavailableError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy, default_policy

__all__ = ["ENGINES", "EngineName", "clear_caches", "decide", "matcher_for"]

EngineName = Literal["native", "durable"]
ENGINES: tuple[str, ...] = ("native", "durable")


def matcher_for(engine: str, policy: Policy) -> Matcher:
    """The matcher of the engine named ``engine`` for ``policy`` (raises if unavailable)."""
    if engine == "native":
        return native.match
    if engine == "durable":
        from rollback_decision.engine import durable

        return durable.matcher(policy)
    raise EngineUnavailableError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")


def decide(
    incident: Incident | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> Decision:
    """Decide what to do about ``incident`` under ``policy`` (default: the shipped policy).

    ``incident`` is an :class:`Incident` or a mapping of its fields; an invalid mapping raises
    :class:`~rollback_decision.errors.IncidentError` (a ``ValueError``) naming the field.
    The result depends on nothing but its arguments; calls may run concurrently.
    """
    facts = parse_incident(incident)
    chosen = policy if policy is not None else default_policy()
    # Decisions are immutable and a pure function of (policy, incident): a repeated incident
    # gets the same object back. Keyed by engine too, so each engine answers for itself.
    key = (chosen.identity.content_hash, engine, _fact_key(facts))
    decision = _DECISIONS.get(key)
    if decision is None:
        decision = assemble(chosen, run(chosen, facts, matcher_for(engine, chosen)))
        if len(_DECISIONS) >= _DECISION_LIMIT:
            _DECISIONS.clear()
        _DECISIONS[key] = decision
    return decision


_DECISION_LIMIT = 4096
_DECISIONS: dict[tuple[str, str, tuple[Any, ...]], Decision] = {}


def _fact_key(incident: Incident) -> tuple[Any, ...]:
    """Every fact of the incident, hashable (lists become tuples)."""
    change = incident.change
    return tuple(
        tuple(v) if isinstance(v, list) else v
        for v in (*incident.__dict__.values(), *change.__dict__.values())
        if v is not change
    )


def clear_caches() -> None:
    """Forget remembered decisions (benchmarks use it to time first-time decisions)."""
    _DECISIONS.clear()
