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

__all__ = ["ENGINES", "EngineName", "decide"]

EngineName = Literal["native", "durable"]
ENGINES: tuple[str, ...] = ("native", "durable")


def _matcher(engine: str, policy: Policy) -> Matcher:
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
    return assemble(chosen, run(chosen, facts, _matcher(engine, chosen)))
