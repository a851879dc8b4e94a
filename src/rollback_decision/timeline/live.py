"""Driving a session from the real clock, for on-call tooling.

The clock and the sleep are injectable, so tests run it without waiting::

    from rollback_decision.timeline import IncidentSession, run_live

    session = IncidentSession(opened_at, facts)
    run_live(session, on_change=lambda change: page(change), stop=incident_closed)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from rollback_decision.timeline.changes import DecisionChange
from rollback_decision.timeline.session import IncidentSession

__all__ = ["run_live", "utc_now"]


def utc_now() -> datetime:
    """The real clock, timezone-aware."""
    return datetime.now(UTC)


def run_live(
    session: IncidentSession,
    *,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], object] = time.sleep,
    on_change: Callable[[DecisionChange], object] | None = None,
    stop: Callable[[IncidentSession], bool] | None = None,
    max_wait_seconds: float = 60.0,
) -> list[DecisionChange]:
    """Advance ``session`` with the clock until ``stop(session)`` is true (checked after each
    poll; without ``stop``, until no deadline is open).

    Sleeps until the next deadline, at most ``max_wait_seconds`` at a time (so events applied
    from another thread are followed by a prompt poll). Calls ``on_change`` for every decision
    change and returns them all.
    """
    seen: list[DecisionChange] = []
    while True:
        for change in session.poll(clock()):
            seen.append(change)
            if on_change is not None:
                on_change(change)
        if stop(session) if stop is not None else session.next_deadline is None:
            return seen
        deadline = session.next_deadline
        wait = max_wait_seconds
        if deadline is not None:
            wait = min(wait, max((deadline.at - clock()).total_seconds(), 0.0))
        sleep(wait)
