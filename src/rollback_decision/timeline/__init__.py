"""Incident timelines: events over time, the policy's clocks, decisions that change.

:class:`IncidentSession` is fed events one by one (:meth:`~IncidentSession.apply`) and moved on
in time (:meth:`~IncidentSession.advance_to`); :func:`replay` builds one from a timeline file
(:func:`load_timeline`); :func:`run_live` drives one from the real clock. The clocks are rules
of the policy (``rules/clocks.yaml``); :func:`clock_rules` lists them.
"""

from rollback_decision.policy import Policy, default_policy
from rollback_decision.policy.clocks import ClockListing
from rollback_decision.timeline.changes import (
    Acceptance,
    Cause,
    Deadline,
    DecisionChange,
    TimelineWarning,
    format_time,
)
from rollback_decision.timeline.events import EVENT_FIELDS, EVENT_MODELS, Event, parse_event
from rollback_decision.timeline.file import (
    Timeline,
    load_timeline,
    parse_timeline,
    render_text,
    replay,
)
from rollback_decision.timeline.live import run_live, utc_now
from rollback_decision.timeline.session import IncidentSession

__all__ = [
    "EVENT_FIELDS",
    "EVENT_MODELS",
    "Acceptance",
    "Cause",
    "ClockListing",
    "Deadline",
    "DecisionChange",
    "Event",
    "IncidentSession",
    "Timeline",
    "TimelineWarning",
    "clock_rules",
    "format_time",
    "load_timeline",
    "parse_event",
    "parse_timeline",
    "render_text",
    "replay",
    "run_live",
    "utc_now",
]


def clock_rules(policy: Policy | None = None) -> list[ClockListing]:
    """Every clock of ``policy`` (default: the shipped one): id, section and text."""
    return (policy if policy is not None else default_policy()).clocks.listing()
