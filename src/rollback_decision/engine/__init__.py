"""Stage 3 of the pipeline: ``decide()`` — a pure function of (policy, incident)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from rollback_decision.decision import Decision
from rollback_decision.engine import native
from rollback_decision.engine.core import (
    Matcher,
    assemble,
    incident_facts,
    incident_key,
    run,
)
from rollback_decision.errors import EngineUnavailableError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy, default_policy

__all__ = ["ENGINES", "EngineName", "clear_caches", "decide", "matcher_for"]

EngineName = Literal["native", "durable"]
ENGINES: tuple[str, ...] = ("native", "durable")
#: The name of the memo of each engine's decisions in a policy's runtime.
_MEMOS = {engine: f"decisions.{engine}" for engine in ENGINES}


def matcher_for(engine: str, policy: Policy, *, remember: bool = True) -> Matcher:
    """The matcher of the engine named ``engine`` for ``policy`` (raises if unavailable).

    ``remember=False``: a native matcher that evaluates every rule afresh (no memo).
    """
    if engine == "native":
        return native.matcher(policy, remember=remember)
    if engine == "durable":
        from rollback_decision.engine import durable

        return durable.matcher(policy)
    raise EngineUnavailableError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")


def decide(
    incident: Incident | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
    remember: bool = True,
) -> Decision:
    """Decide what to do about ``incident`` under ``policy`` (default: the shipped policy).

    ``incident`` is an :class:`Incident` or a mapping of its fields; an invalid mapping raises
    :class:`~rollback_decision.errors.IncidentError` (a ``ValueError``) naming the field.
    The result depends on nothing but its arguments; calls may run concurrently.

    Decisions are immutable: a repeated incident gets the decision remembered by the policy's
    runtime. ``remember=False`` uses no memo at all (every table, rationale and plan part is
    worked out afresh) — what a test of determinism needs.
    """
    facts = incident if type(incident) is Incident else parse_incident(incident)
    chosen = policy if policy is not None else default_policy()
    if remember:
        memo = chosen.runtime.memos[_MEMOS.get(engine) or f"decisions.{engine}"]
        key = incident_key(facts)  # every fact, hashable
        found: Decision | None = memo.reader(key)
        if found is not None:
            return found
        if engine == "native":
            decide_key = chosen.runtime.compiled.get(native.DECIDER) or native.decider(chosen)
            decision = decide_key(key)
        else:
            decision = assemble(chosen, run(chosen, facts, matcher_for(engine, chosen)))
        memo.put(key, decision)
        return decision
    if engine == "native":
        pipeline = chosen.runtime.compiled.get(native.PIPELINE) or native.pipeline(chosen)
        trace = pipeline.run(incident_facts(facts), remember=False)
    else:
        trace = run(chosen, facts, matcher_for(engine, chosen))
    return assemble(chosen, trace, remember=False)


def clear_caches(policy: Policy | None = None) -> None:
    """Forget everything remembered for ``policy`` (default: the shipped policy); benchmarks
    use it to time first-sight decisions. Same as ``policy.runtime.clear()``."""
    (policy if policy is not None else default_policy()).runtime.clear()
