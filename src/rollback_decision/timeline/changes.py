"""What a session reports: the changes of its decision and why, its open deadlines, the
warnings of clocks that ran out, the decisions accepted; and how a time is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rollback_decision.decision import Action, Decision

__all__ = [
    "Acceptance",
    "Cause",
    "Deadline",
    "DecisionChange",
    "RollbackState",
    "TimelineWarning",
    "format_time",
]

RollbackState = Literal["none", "running", "completed", "failed"]


def format_time(moment: datetime, zone: datetime | None = None) -> str:
    """ISO 8601, in the offset of ``zone`` (the timeline's ``opened_at``) when given; UTC as Z."""
    if zone is not None and zone.tzinfo is not None:
        moment = moment.astimezone(zone.tzinfo)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True)
class Cause:
    """Why the decision changed: an event (its index; None for the opening facts) or a clock."""

    event: int | None = None
    clock: str | None = None
    #: the event's type (for reports; not part of the JSON form)
    event_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"clock": self.clock} if self.clock is not None else {"event": self.event}

    def describe(self) -> str:
        if self.clock is not None:
            return f"clock {self.clock}"
        if self.event is None:
            return "opened"
        return f"event {self.event}" + (f" ({self.event_type})" if self.event_type else "")


@dataclass(frozen=True)
class DecisionChange:
    """The decision changed (its action or rollback type) at ``at``, because of ``cause``."""

    at: datetime
    cause: Cause
    decision: Decision

    @property
    def action(self) -> Action:
        return self.decision.action

    @property
    def rollback_type(self) -> int | None:
        return self.decision.rollback_type


@dataclass(frozen=True)
class Deadline:
    """An open clock: when it is due, its rule id, and what it is."""

    at: datetime
    rule_id: str
    text: str


@dataclass(frozen=True)
class TimelineWarning:
    """A clock ran out and its rule warns."""

    at: datetime
    rule_id: str
    text: str


@dataclass(frozen=True)
class Acceptance:
    """``decision_accepted``: who accepted which action, when."""

    at: datetime
    by: str
    role: str
    action: Action
    event: int
