"""A decision log grouped by incident: what metrics, post-mortems and replay read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rollback_decision.errors import DecisionLogError
from rollback_decision.records.lines import (
    DecisionRecord,
    Deployed,
    EventRecord,
    Opened,
    PostMortemRecord,
)
from rollback_decision.records.reader import LogContents, LogLine
from rollback_decision.timeline.events import DecisionAccepted, Event

__all__ = ["IncidentHistory", "LogHistory", "group_log"]


@dataclass
class IncidentHistory:
    """Everything a log holds about one incident, in log order."""

    opened: Opened
    source: str
    line: int
    events: list[EventRecord] = field(default_factory=list)
    #: the log line of each event (same file: an incident's records are in one log)
    event_lines: list[int] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    post_mortems: list[PostMortemRecord] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)

    @property
    def incident(self) -> str:
        return self.opened.incident

    @property
    def opened_at(self) -> datetime:
        return self.opened.at

    @property
    def timeline(self) -> list[Event]:
        return [e.event for e in self.events]

    def first(self, kind: str) -> Event | None:
        return next((e.event for e in self.events if e.type == kind), None)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.type == kind)

    @property
    def first_acceptance(self) -> DecisionAccepted | None:
        event = self.first("decision_accepted")
        return event if isinstance(event, DecisionAccepted) else None

    @property
    def time_to_decision_minutes(self) -> float | None:
        """``opened_at`` → the first ``decision_accepted``."""
        accepted = self.first_acceptance
        return None if accepted is None else _minutes(self.opened_at, accepted.at)

    @property
    def rolled_back(self) -> bool:
        """A rollback was started (whether it then completed or failed)."""
        return self.first("rollback_started") is not None

    @property
    def time_to_complete_minutes(self) -> float | None:
        """The first ``rollback_started`` → ``rollback_completed`` (failed attempts and retries
        between them included)."""
        started = self.first("rollback_started")
        completed = self.first("rollback_completed")
        if started is None or completed is None:
            return None
        return _minutes(started.at, completed.at)

    @property
    def data_loss(self) -> bool:
        return self.first("data_loss") is not None

    @property
    def preventable(self) -> bool | None:
        """The last post-mortem's verdict; None before one is held."""
        return self.post_mortems[-1].preventable if self.post_mortems else None

    @property
    def last_at(self) -> datetime:
        """The time of the incident's last event or decision (what a replay runs to)."""
        times = [self.opened_at, *(e.at for e in self.events), *(d.at for d in self.decisions)]
        return max(times)


@dataclass(frozen=True)
class LogHistory:
    """The log by incident (in the order they opened) and its deployments."""

    incidents: tuple[IncidentHistory, ...]
    deployments: tuple[Deployed, ...]

    def incident(self, ident: str) -> IncidentHistory | None:
        return next((i for i in self.incidents if i.incident == ident), None)

    def repeats(self) -> set[str]:
        """Incidents rolled back for an ``issue`` already rolled back by an earlier incident."""
        seen: set[str] = set()
        repeats: set[str] = set()
        for history in self.incidents:
            issue = history.opened.issue
            if not history.rolled_back or issue is None:
                continue
            if issue in seen:
                repeats.add(history.incident)
            seen.add(issue)
        return repeats


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def group_log(contents: LogContents) -> LogHistory:
    """Group records by incident. A record of an incident with no ``opened`` line before it,
    or a second ``opened`` line, is an error naming its line."""
    incidents: dict[str, IncidentHistory] = {}
    deployments: dict[str, Deployed] = {}
    links: list[tuple[LogLine, Deployed]] = []

    def fail(line: LogLine, message: str, at: str | None = None) -> DecisionLogError:
        return DecisionLogError(message, source=line.source, line=line.line, field=at)

    for line in contents.lines:
        record = line.record
        if isinstance(record, Deployed):
            deployments.setdefault(record.deployment, record)
            if record.incident is not None:
                links.append((line, record))
            continue
        if isinstance(record, Opened):
            if record.incident in incidents:
                first = incidents[record.incident]
                raise fail(
                    line,
                    f"incident {record.incident} was already opened ({first.source}:{first.line})",
                    "incident",
                )
            incidents[record.incident] = IncidentHistory(record, line.source, line.line)
            continue
        history = incidents.get(record.incident)
        if history is None:
            raise fail(
                line, f"incident {record.incident} has no 'opened' line before it", "incident"
            )
        if isinstance(record, EventRecord):
            if record.at < history.opened_at:
                raise fail(line, "the event is before its incident opened", "at")
            history.events.append(record)
            history.event_lines.append(line.line)
        elif isinstance(record, DecisionRecord):
            history.decisions.append(record)
        else:
            history.post_mortems.append(record)
    for line, deployed in links:
        assert deployed.incident is not None
        linked = incidents.get(deployed.incident)
        if linked is None:
            raise fail(line, f"incident {deployed.incident} is never opened in the log", "incident")
        if deployed.deployment not in linked.deployments:
            linked.deployments.append(deployed.deployment)
    ordered = sorted(incidents.values(), key=lambda h: h.opened_at)
    return LogHistory(tuple(ordered), tuple(deployments.values()))
