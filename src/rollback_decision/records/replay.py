"""Replay a decision log under another policy: which incidents would have been decided
differently — how an organisation tests a policy change against its own history.

Each incident's timeline is rebuilt from the log (its ``opened`` line and its events, in log
order) and run through an :class:`~rollback_decision.IncidentSession` under the policy, up to
the incident's last logged record, so the clocks due by then run out as they did. Its decision
changes are compared with the logged ``decision`` lines: at every moment either changed, the
decision in effect (action and rollback type); the first moment they differ is reported with
the rules that changed (the rule ids of the two decisions' rationale that only one of them
has; the logged ids are those the log holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rollback_decision.errors import DecisionLogError, TimelineError
from rollback_decision.policy import Policy
from rollback_decision.records.history import IncidentHistory, LogHistory, group_log
from rollback_decision.records.lines import DecisionRecord
from rollback_decision.records.reader import LogContents
from rollback_decision.timeline.changes import DecisionChange, format_time
from rollback_decision.timeline.session import IncidentSession

__all__ = ["Difference", "ReplayReport", "replay_incident", "replay_log"]


@dataclass(frozen=True)
class Difference:
    """The first decision of an incident that differs under the new policy. ``recorded`` or
    ``new`` is None where one side has no decision there (one made more changes)."""

    incident: str
    at: datetime
    recorded_action: str | None
    recorded_rollback_type: int | None
    new_action: str | None
    new_rollback_type: int | None
    rules_removed: tuple[str, ...]
    rules_added: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "at": format_time(self.at),
            "recorded": _side(self.recorded_action, self.recorded_rollback_type),
            "new": _side(self.new_action, self.new_rollback_type),
            "rules_removed": list(self.rules_removed),
            "rules_added": list(self.rules_added),
        }


def _side(action: str | None, rollback_type: int | None) -> dict[str, Any] | None:
    return None if action is None else {"action": action, "rollback_type": rollback_type}


def _label(action: str | None, rollback_type: int | None) -> str:
    if action is None:
        return "(no decision)"
    return action if rollback_type is None else f"{action} (type {rollback_type})"


@dataclass(frozen=True)
class ReplayReport:
    """The incidents replayed and those whose decisions differ."""

    policy: str
    incidents: int
    differences: tuple[Difference, ...]
    #: incidents the log holds no ``decision`` line of: nothing to compare
    unrecorded: tuple[str, ...] = ()

    @property
    def differ(self) -> bool:
        return bool(self.differences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "incidents": self.incidents,
            "differences": [d.to_dict() for d in self.differences],
            "unrecorded": list(self.unrecorded),
        }

    def render_text(self) -> str:
        count = len(self.differences)
        lines = [
            f"Replayed {self.incidents} incidents under {self.policy}: "
            + (f"{count} decided differently" if count else "no decision differs")
        ]
        if self.unrecorded:
            lines.append(
                "Not compared (the log holds no decision of them): " + ", ".join(self.unrecorded)
            )
        for d in self.differences:
            lines += [
                "",
                f"{d.incident} at {format_time(d.at)}:",
                f"  recorded: {_label(d.recorded_action, d.recorded_rollback_type)}",
                f"  new:      {_label(d.new_action, d.new_rollback_type)}",
            ]
            if d.rules_removed:
                lines.append("  rules no longer applied: " + ", ".join(d.rules_removed))
            if d.rules_added:
                lines.append("  rules newly applied:     " + ", ".join(d.rules_added))
        return "\n".join(lines) + "\n"


def replay_incident(history: IncidentHistory, policy: Policy) -> list[DecisionChange]:
    """The decision changes of ``history``'s timeline under ``policy``."""
    try:
        session = IncidentSession(
            history.opened_at, history.opened.facts, policy=policy, incident_id=history.incident
        )
        for record in history.events:
            session.apply(record.event)
        session.advance_to(max(history.last_at, session.now))
    except TimelineError as exc:
        line = history.line if exc.index is None else history.event_lines[exc.index]
        raise DecisionLogError(
            f"incident {history.incident} cannot be replayed: {exc}",
            source=history.source,
            line=line,
        ) from None
    return session.changes


def _difference(
    history: IncidentHistory, recorded: list[DecisionRecord], new: list[DecisionChange]
) -> Difference | None:
    """The first moment at which the decision in effect (the last change at or before it)
    differs, on action or rollback type."""
    moments = sorted({r.at for r in recorded} | {c.at for c in new})
    for moment in moments:
        old = next((r for r in reversed(recorded) if r.at <= moment), None)
        change = next((c for c in reversed(new) if c.at <= moment), None)
        old_key = None if old is None else (old.action, old.rollback_type)
        new_key = None if change is None else (change.action, change.rollback_type)
        if old_key == new_key:
            continue
        old_rules = list(old.rules or []) if old is not None else []
        new_rules = change.decision.rule_ids if change is not None else []
        return Difference(
            incident=history.incident,
            at=moment,
            recorded_action=None if old is None else old.action.value,
            recorded_rollback_type=None if old is None else old.rollback_type,
            new_action=None if change is None else change.action.value,
            new_rollback_type=None if change is None else change.rollback_type,
            rules_removed=tuple(r for r in old_rules if r not in new_rules),
            rules_added=tuple(r for r in new_rules if r not in old_rules),
        )
    return None


def replay_log(contents: LogContents | LogHistory, policy: Policy) -> ReplayReport:
    """Re-decide every incident of the log under ``policy``."""
    history = group_log(contents) if isinstance(contents, LogContents) else contents
    differences = []
    unrecorded = []
    for incident in history.incidents:
        changes = replay_incident(incident, policy)  # a timeline that cannot replay is an error
        if not incident.decisions:
            unrecorded.append(incident.incident)
            continue
        found = _difference(incident, incident.decisions, changes)
        if found is not None:
            differences.append(found)
    ident = policy.identity
    return ReplayReport(
        f"{ident.name} {ident.version}",
        len(history.incidents),
        tuple(differences),
        tuple(unrecorded),
    )
