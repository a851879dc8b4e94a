"""The state of an incident session at one moment (immutable: an event that fails leaves the
session as it was), and how the policy's clocks start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.facts import Incident
from rollback_decision.policy.clocks import ClockRule
from rollback_decision.timeline.changes import (
    Acceptance,
    DecisionChange,
    RollbackState,
    TimelineWarning,
)

__all__ = ["RunningClock", "SessionState", "eta_given", "start_clocks"]


@dataclass(frozen=True)
class RunningClock:
    """A clock that has started and not yet run out (or repeats)."""

    rule: ClockRule
    order: int
    seq: int
    started_at: datetime
    due: datetime
    minutes: float
    rollback_type: int | None
    text: str

    def key(self) -> tuple[datetime, int, int]:
        return (self.due, self.order, self.seq)


@dataclass(frozen=True)
class SessionState:
    """What a session knows at one moment."""

    now: datetime
    events: int
    last_event_at: datetime | None
    facts: Mapping[str, Any]
    incident: Incident
    decision: Decision
    clocks: tuple[RunningClock, ...] = ()
    changes: tuple[DecisionChange, ...] = ()
    warnings: tuple[TimelineWarning, ...] = ()
    acceptances: tuple[Acceptance, ...] = ()
    rollback: RollbackState = "none"
    rollback_started_at: int | None = None
    rollback_type: int | None = None
    seq: int = 0


def eta_given(
    rules: Sequence[ClockRule], state: SessionState, previous: Any, at: datetime
) -> SessionState:
    """A fix ETA in the opening facts or set by a ``facts`` event is a promise too: its
    clocks run as for a ``fix_eta`` event; withdrawn (null), they stop as for ``fix_failed``."""
    eta = state.facts.get("fix_forward_eta_minutes")
    if eta == previous:
        return state
    if eta is None:
        kept = tuple(c for c in state.clocks if "fix_failed" not in c.rule.stops_on)
        return replace(state, clocks=kept)
    return start_clocks(rules, state, "fix_eta", {"minutes": eta}, at)


def start_clocks(
    rules: Sequence[ClockRule],
    state: SessionState,
    kind: str,
    fields: Mapping[str, Any],
    at: datetime,
) -> SessionState:
    """``state`` with the clocks that an event of type ``kind`` starts (restarted where the
    rule says so)."""
    clocks = list(state.clocks)
    seq = state.seq
    for order, rule in enumerate(rules):
        if kind not in rule.starts_on:
            continue
        running = [c for c in clocks if c.rule.id == rule.id]
        if running and not rule.restart:
            continue
        rtype = state.rollback_type if state.rollback != "none" else None
        if rtype is None:
            rtype = state.decision.rollback_type
        minutes = rule.minutes(fields, rtype)
        if minutes is None:
            continue
        clocks = [c for c in clocks if c.rule.id != rule.id]
        seq += 1
        clocks.append(
            RunningClock(
                rule=rule,
                order=order,
                seq=seq,
                started_at=at,
                due=at + timedelta(minutes=minutes),
                minutes=minutes,
                rollback_type=rtype,
                text=rule.render(rule.text, minutes, rtype),
            )
        )
    return replace(state, clocks=tuple(clocks), seq=seq)
