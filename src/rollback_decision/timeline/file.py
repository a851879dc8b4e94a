"""Timeline files (YAML or JSON), replaying them, and the text report.

::

    incident: INC-2041                 # optional id
    opened_at: 2026-03-02T14:00:00Z    # ISO 8601 with a zone offset; naive times are an error
    facts:                             # Incident fields known when it was opened
      change: {components: [application_code]}
    events:                            # in time order (equal times keep file order)
      - {at: 2026-03-02T14:03:00Z, type: facts, set: {related_to_deployment: true}}
      - {at: 2026-03-02T14:04:00Z, type: fix_eta, minutes: 10}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rollback_decision.errors import TimelineError, did_you_mean
from rollback_decision.policy import Policy
from rollback_decision.timeline.changes import format_time
from rollback_decision.timeline.events import Event, parse_event, parse_time
from rollback_decision.timeline.session import IncidentSession

__all__ = ["Timeline", "load_timeline", "parse_timeline", "render_text", "replay"]

_KEYS = ("incident", "opened_at", "facts", "events")


@dataclass(frozen=True)
class Timeline:
    """A timeline as read: checked in form (each event's type and fields), not yet applied."""

    opened_at: datetime
    facts: Mapping[str, Any]
    events: tuple[Event, ...]
    incident: str | None = None
    source: str | None = None


def parse_timeline(data: Any, *, source: str | None = None) -> Timeline:
    """Check a timeline's form; :class:`TimelineError` names the event and field at fault."""

    def fail(message: str, field: str | None = None) -> TimelineError:
        return TimelineError(message, source=source, field=field)

    if not isinstance(data, Mapping):
        raise fail(f"a timeline is a mapping with {', '.join(_KEYS)}, got {type(data).__name__}")
    for key in data:
        if key not in _KEYS:
            raise fail(
                f"unknown key{did_you_mean(str(key), _KEYS)}; a timeline has " + ", ".join(_KEYS),
                str(key),
            )
    if "opened_at" not in data:
        raise fail(
            "field required: when the incident opened (ISO 8601 with an offset)", "opened_at"
        )
    try:
        opened = parse_time(data["opened_at"], what="opened_at")
    except ValueError as exc:
        raise fail(str(exc), "opened_at") from None
    incident = data.get("incident")
    if incident is not None and not isinstance(incident, (str, int)):
        raise fail(f"the incident id is a string, got {incident!r}", "incident")
    facts = data.get("facts") or {}
    if not isinstance(facts, Mapping):
        raise fail(f"facts are a mapping of Incident fields, got {facts!r}", "facts")
    raw_events = data.get("events") or []
    if not isinstance(raw_events, Sequence) or isinstance(raw_events, str):
        raise fail(f"events are a list, got {raw_events!r}", "events")
    events = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(parse_event(raw, index))
        except TimelineError as exc:
            raise _with_source(exc, source) from None
    return Timeline(
        opened_at=opened,
        facts=dict(facts),
        events=tuple(events),
        incident=None if incident is None else str(incident),
        source=source,
    )


def load_timeline(path: str | Path, *, max_bytes: int | None = None) -> Timeline:
    """Read a timeline file (YAML or JSON; ``-`` for standard input), with the limits every
    input file has (:class:`~rollback_decision.policy.yamlio.Limits`; ``max_bytes`` default
    1 MiB)."""
    from rollback_decision.policy.yamlio import (
        DEFAULT_LIMITS,
        YamlReadError,
        read_input,
        to_plain,
    )

    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        raw = read_input(path, DEFAULT_LIMITS.with_max_bytes(max_bytes))
    except YamlReadError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise TimelineError(where + exc.message, source=name, field=exc.key) from None
    if raw is None:
        raise TimelineError("the file is empty; a timeline needs at least opened_at", source=name)
    return parse_timeline(to_plain(raw), source=name)


def replay(
    timeline: Timeline, *, policy: Policy | None = None, until: datetime | None = None
) -> IncidentSession:
    """A session fed the timeline's events up to ``until`` (default: the last event), with time
    advanced to then, so the clocks due by then have run out."""
    try:
        session = IncidentSession(
            timeline.opened_at, timeline.facts, policy=policy, incident_id=timeline.incident
        )
        if until is not None and until < timeline.opened_at:
            raise TimelineError(
                f"--at {format_time(until)} is before the incident opened "
                f"({format_time(timeline.opened_at)})",
                field="at",
            )
        end = timeline.opened_at
        for event in timeline.events:
            if until is not None and event.at > until:
                break
            session.apply(event)
            end = event.at
        session.advance_to(until if until is not None else max(end, session.now))
    except TimelineError as exc:
        raise _with_source(exc, timeline.source) from None
    return session


def _with_source(exc: TimelineError, source: str | None) -> TimelineError:
    if source is None or exc.source is not None:
        return exc
    return TimelineError(
        exc.message, source=source, index=exc.index, field=exc.field, event_type=exc.event_type
    )


def render_text(session: IncidentSession, *, source: str | None = None) -> str:
    """One line per decision change (time, action, cause), then warnings and open deadlines."""
    fmt = session.to_dict()
    name = session.incident_id or source or "incident"
    lines = [f"Timeline of {name}: opened {fmt['opened_at']}, shown at {fmt['at']}", ""]
    lines.append("Decision changes:")
    width = max(len(_label(c.action.value, c.rollback_type)) for c in session.changes)
    for change, row in zip(session.changes, fmt["changes"], strict=True):
        label = _label(change.action.value, change.rollback_type)
        lines.append(f"  {row['at']}  {label:<{width}}  {change.cause.describe()}")
    if fmt["warnings"]:
        lines += ["", "Warnings:"]
        lines += [f"  {w['at']}  {w['text']} [{w['rule_id']}]" for w in fmt["warnings"]]
    lines += ["", "Open deadlines:"]
    if fmt["deadlines"]:
        lines += [f"  {d['at']}  {d['text']} [{d['rule_id']}]" for d in fmt["deadlines"]]
    else:
        lines.append("  none")
    decision = session.decision
    final = _label(decision.action.value, decision.rollback_type)
    authority = decision.authority
    if authority is not None:
        final += f"; {authority.situation}: decided by {authority.decided_by_name}"
    lines += ["", f"Now: {final}", ""]
    return "\n".join(lines)


def _label(action: str, rollback_type: int | None) -> str:
    return action if rollback_type is None else f"{action} (type {rollback_type})"
