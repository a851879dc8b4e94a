"""The decision log: append-only JSON Lines, one record a line.

Each line is an event of the timeline format (:mod:`rollback_decision.timeline.events`) with
the ``incident`` id added, or one of these::

    {"type": "opened", "incident", "at", "facts": {...}, "issue": "optional root problem key"}
    {"type": "deployed", "at", "deployment": "id", "incident": "optional"}
    {"type": "decision", "incident", "at", "action", "rollback_type", "cause",
     "policy": {"name", "version", "content_hash"}, "rules": [rule ids, optional]}
    {"type": "post_mortem", "incident", "at", "preventable": bool, "action_items": [...]}

``cause`` is the timeline's: ``{"event": INDEX}`` (null for the opening facts) or
``{"clock": RULE_ID}``. ``rules`` (the rule ids of the decision's rationale) is written by
:class:`DecisionLog`; logs from other tools may leave it out.

Writing (:class:`DecisionLog`): every record is one complete ``json.dumps(...) + "\\n"`` built
first and written with one ``os.write`` on a descriptor opened ``O_APPEND`` (continued under
the lock should the kernel write short), under a ``threading.Lock`` (writers in one process)
and ``fcntl.flock`` (writers in other processes), then ``fsync``-ed. A crash mid-write can at
worst leave the *last* line torn; every earlier record is whole.

Reading (:func:`read_log`): lines are streamed and each is checked against its type's model
(unknown keys refused, times ISO 8601 with a zone). A last line without its newline, or not
valid JSON, is a *torn tail*: it is reported (:class:`TornTail`, file and line), never dropped
silently and never taken as a record. Any other bad line is a :class:`DecisionLogError`
naming its line.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from rollback_decision.decision import Action, PolicyIdentity
from rollback_decision.errors import DecisionLogError, TimelineError, did_you_mean
from rollback_decision.timeline.events import EVENT_MODELS, Event, parse_event, parse_time
from rollback_decision.timeline.session import (
    DecisionChange,
    IncidentSession,
    format_time,
)

__all__ = [
    "LINE_TYPES",
    "ActionItem",
    "DecisionLog",
    "DecisionRecord",
    "Deployed",
    "EventRecord",
    "LogContents",
    "LogLine",
    "Opened",
    "PostMortemRecord",
    "Record",
    "TornTail",
    "TornTailWarning",
    "decision_record",
    "parse_record",
    "read_log",
    "read_logs",
    "record_to_dict",
]


def _time(value: Any) -> datetime:
    if not isinstance(value, (str, datetime)):
        raise ValueError(f"a time is an ISO 8601 string with a zone offset, got {value!r}")
    return parse_time(value)


#: An ISO 8601 time with a zone offset (a string in the log; naive times are refused).
LogTime = Annotated[datetime, BeforeValidator(_time)]

_LINE = ConfigDict(frozen=True, extra="forbid")


class Opened(BaseModel):
    """``opened``: an incident opened with the facts known then; ``issue`` names the root
    problem (what a repeat rollback repeats)."""

    model_config = _LINE
    type: Literal["opened"] = "opened"
    incident: str = Field(min_length=1)
    at: LogTime
    facts: dict[str, Any] = Field(default_factory=dict)
    issue: str | None = Field(default=None, min_length=1)


class Deployed(BaseModel):
    """``deployed``: a deployment, with the incident it caused when there is one."""

    model_config = _LINE
    type: Literal["deployed"] = "deployed"
    at: LogTime
    deployment: str = Field(min_length=1)
    incident: str | None = Field(default=None, min_length=1)


class Cause(BaseModel):
    """Why a decision changed: ``{"event": INDEX}`` (null: the opening facts) or
    ``{"clock": RULE_ID}``."""

    model_config = _LINE
    event: int | None = Field(default=None, ge=0)
    clock: str | None = Field(default=None, min_length=1)


class DecisionRecord(BaseModel):
    """``decision``: the recommendation changed (written by a session each time it does)."""

    model_config = _LINE
    type: Literal["decision"] = "decision"
    incident: str = Field(min_length=1)
    at: LogTime
    action: Action
    rollback_type: int | None = Field(ge=1, le=5)
    cause: Cause
    policy: PolicyIdentity
    rules: list[str] | None = None


class ActionItem(BaseModel):
    """An action item ("ROLLBACK POST-MORTEM › ACTION ITEMS › Each Action Item")."""

    model_config = _LINE
    description: str = Field(min_length=1)
    owner: str | None = None
    due: str | None = None
    priority: str | None = None
    success_criteria: str | None = None
    category: str | None = None


class PostMortemRecord(BaseModel):
    """``post_mortem``: held; whether the rollback was preventable, and the action items (a
    text or an :class:`ActionItem` each)."""

    model_config = _LINE
    type: Literal["post_mortem"] = "post_mortem"
    incident: str = Field(min_length=1)
    at: LogTime
    preventable: bool
    action_items: list[str | ActionItem] = Field(default_factory=list)


@dataclass(frozen=True)
class EventRecord:
    """A timeline event of ``incident`` (its index in the incident's stream is its order in
    the log)."""

    incident: str
    event: Event

    @property
    def at(self) -> datetime:
        return self.event.at

    @property
    def type(self) -> str:
        return self.event.type


Record = Opened | Deployed | DecisionRecord | PostMortemRecord | EventRecord

_MODELS: Mapping[str, type[BaseModel]] = {
    "opened": Opened,
    "deployed": Deployed,
    "decision": DecisionRecord,
    "post_mortem": PostMortemRecord,
}
#: Every line type: the log's own and the timeline's events.
LINE_TYPES: tuple[str, ...] = (*_MODELS, *EVENT_MODELS)


def record_to_dict(record: Record) -> dict[str, Any]:
    """The JSON form of a record (what one line holds)."""
    if isinstance(record, EventRecord):
        data = record.event.model_dump(mode="json")
        data = {k: v for k, v in data.items() if v is not None}
        data["at"] = format_time(record.event.at)
        return {"type": data.pop("type"), "incident": record.incident, **data}
    data = record.model_dump(mode="json", exclude_none=False)
    data["at"] = format_time(record.at)
    if isinstance(record, Deployed) and record.incident is None:
        del data["incident"]
    if isinstance(record, Opened) and record.issue is None:
        del data["issue"]
    if isinstance(record, DecisionRecord):
        if record.rules is None:
            del data["rules"]
        data["cause"] = (
            {"clock": record.cause.clock}
            if record.cause.clock is not None
            else {"event": record.cause.event}
        )
    if isinstance(record, PostMortemRecord):
        data["action_items"] = [
            item
            if isinstance(item, str)
            else {k: v for k, v in item.model_dump().items() if v is not None}
            for item in record.action_items
        ]
    return {"type": data.pop("type"), **data}


def parse_record(raw: Any, *, source: str | None = None, line: int | None = None) -> Record:
    """Check one decision-log line (already JSON-decoded) against its type."""

    def fail(message: str, at: str | None = None) -> DecisionLogError:
        return DecisionLogError(message, source=source, line=line, field=at)

    if not isinstance(raw, Mapping):
        raise fail(f"a line is a JSON object with 'type', got {type(raw).__name__}")
    kind = raw.get("type")
    if kind is None:
        raise fail("field required: the line type, one of " + ", ".join(LINE_TYPES), "type")
    if not isinstance(kind, str) or kind not in LINE_TYPES:
        raise fail(
            f"unknown line type {kind!r}{did_you_mean(str(kind), LINE_TYPES)}; "
            f"expected one of {', '.join(LINE_TYPES)}",
            "type",
        )
    if kind in EVENT_MODELS:
        data = dict(raw)
        incident = data.pop("incident", None)
        if not isinstance(incident, str) or not incident:
            raise fail(f"field required: the incident id of the {kind} event", "incident")
        try:
            event = parse_event(data, 0)
        except TimelineError as exc:
            raise fail(exc.message, exc.field) from None
        return EventRecord(incident, event)
    try:
        record = _MODELS[kind].model_validate(dict(raw))
    except ValidationError as exc:
        err = min(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        where = ".".join(str(p) for p in err["loc"]) or None
        model = _MODELS[kind]
        if err["type"] == "extra_forbidden":
            known = [f for f in model.model_fields if f != "type"]
            name = str(err["loc"][-1])
            message = f"unknown field{did_you_mean(name, known)}; a {kind} line has " + ", ".join(
                known
            )
        elif err["type"] == "missing":
            message = "field required"
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {err.get('input')!r}"
        raise fail(message, where) from None
    assert isinstance(record, (Opened, Deployed, DecisionRecord, PostMortemRecord))
    return record


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogLine:
    """A record and where it was read (file, 1-based line)."""

    source: str
    line: int
    record: Record


@dataclass(frozen=True)
class TornTail:
    """The last line of a log is torn (no newline) or not valid JSON: a writer crashed while
    appending it. It is not taken as a record."""

    source: str
    line: int
    reason: str
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: torn last line ({self.reason}); it is not read"


class TornTailWarning(UserWarning):
    """A writer found a torn last line and set it aside before appending (see
    :class:`DecisionLog`)."""


@dataclass(frozen=True)
class LogContents:
    """What was read: the records in file order, and the torn tails found (one per file at
    most)."""

    lines: tuple[LogLine, ...]
    torn: tuple[TornTail, ...] = field(default=())

    @property
    def records(self) -> list[Record]:
        return [line.record for line in self.lines]


def _iter_lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes without the newline, had a newline), streamed."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.endswith(b"\n"):
                yield number, raw[:-1], True
            else:
                yield number, raw, False


def read_log(path: str | os.PathLike[str]) -> LogContents:
    """Read one decision log; see the module docstring for what is an error and what a torn
    tail."""
    file = Path(path)
    source = str(path)
    if file.is_dir() or not file.exists():
        raise DecisionLogError("no such decision log file", source=source)
    lines: list[LogLine] = []
    torn: list[TornTail] = []
    pending: tuple[int, bytes, str] | None = None  # an invalid line: torn if it is the last
    for number, raw, ended in _iter_lines(file):
        if pending is not None:
            raise DecisionLogError(pending[2], source=source, line=pending[0])
        if not ended:
            torn.append(TornTail(source, number, "no newline at its end", _show(raw)))
            break
        if not raw.strip():
            pending = (number, raw, "empty line")
            continue
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            pending = (number, raw, f"not valid JSON ({exc})")
            continue
        lines.append(LogLine(source, number, parse_record(data, source=source, line=number)))
    if pending is not None:
        torn.append(TornTail(source, pending[0], pending[2], _show(pending[1])))
    return LogContents(tuple(lines), tuple(torn))


def read_logs(paths: Iterable[str | os.PathLike[str]]) -> LogContents:
    """Read several logs, in the order given."""
    lines: list[LogLine] = []
    torn: list[TornTail] = []
    for path in paths:
        contents = read_log(path)
        lines.extend(contents.lines)
        torn.extend(contents.torn)
    return LogContents(tuple(lines), tuple(torn))


def _show(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= 80 else text[:77] + "..."


# -- writing --------------------------------------------------------------------------------


class DecisionLog:
    """An append-only decision log, safe for several writers (threads and processes).

    ``fsync=False`` leaves durability to the operating system (faster; a power cut may lose
    the last records, never corrupt earlier ones). Use as a context manager or :meth:`close`.

    Before each append, under the lock, the writer checks that the file ends with a newline.
    If a crashed writer left a torn last line, it is moved to ``PATH.torn`` (with its line
    number) and cut from the log, with a :class:`TornTailWarning`, so that the new record does
    not run on from it.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self._path = Path(path)
        self._fsync = fsync
        self._lock = threading.Lock()
        created = not self._path.exists()
        try:
            self._fd: int | None = os.open(
                self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            raise DecisionLogError(
                f"cannot open for appending: {exc.strerror}", source=str(path)
            ) from None
        if created and fsync:
            # A new file's directory entry is durable only once its directory is synced.
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def append(self, record: Record | Mapping[str, Any]) -> None:
        """Append one record (a model or its JSON form, checked first)."""
        parsed = (
            record
            if isinstance(record, (Opened, Deployed, DecisionRecord, PostMortemRecord, EventRecord))
            else parse_record(record, source=str(self._path))
        )
        data = (
            json.dumps(record_to_dict(parsed), ensure_ascii=False, separators=(", ", ": ")) + "\n"
        ).encode("utf-8")
        self._write(data)

    def _write(self, data: bytes) -> None:
        with self._lock:
            fd = self._fd
            if fd is None:
                raise DecisionLogError("the log is closed", source=str(self._path))
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                self._set_aside_torn_tail(fd)
                view = memoryview(data)
                while view:  # a short write (disk nearly full, a signal) goes on where it stopped
                    written = os.write(fd, view)
                    view = view[written:]
                if self._fsync:
                    os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _set_aside_torn_tail(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        content = os.pread(fd, size, 0)
        cut = content.rfind(b"\n") + 1
        line = content.count(b"\n", 0, cut) + 1
        torn = self._path.with_name(self._path.name + ".torn")
        with torn.open("ab") as side:
            side.write(f"# {self._path.name}:{line}\n".encode() + content[cut:] + b"\n")
        os.ftruncate(fd, cut)
        warnings.warn(
            TornTailWarning(
                f"{self._path}:{line}: a torn last line (a writer crashed mid-line) was moved "
                f"to {torn.name}"
            ),
            stacklevel=4,
        )

    # -- sessions ------------------------------------------------------------------------

    def attach(
        self, session: IncidentSession, *, incident: str | None = None, issue: str | None = None
    ) -> None:
        """Record ``session`` from now on: its ``opened`` line and first decision at once, then
        every event it applies and every change of its decision.

        Attach before the first event (the log holds the whole timeline). ``incident``
        defaults to the session's id; ``issue`` names the root problem.
        """
        ident = incident or session.incident_id
        if not ident:
            raise DecisionLogError(
                "a session needs an incident id to be logged (incident=...)",
                source=str(self._path),
            )
        if session.events_applied or len(session.changes) > 1:
            raise DecisionLogError(
                f"attach the log to incident {ident} before its first event",
                source=str(self._path),
            )
        opened = Opened(
            incident=ident, at=session.opened_at, facts=session.opening_facts, issue=issue
        )
        self.append(opened)
        self.append(decision_record(ident, session.changes[0]))

        def observer(
            _session: IncidentSession, event: Event | None, changes: list[DecisionChange]
        ) -> None:
            # Clocks due before the event ran out first; then the event and what it changed.
            for change in changes:
                if change.cause.clock is not None:
                    self.append(decision_record(ident, change))
            if event is not None:
                self.append(EventRecord(ident, event))
            for change in changes:
                if change.cause.clock is None:
                    self.append(decision_record(ident, change))

        session.observe(observer)


def decision_record(incident: str, change: DecisionChange) -> DecisionRecord:
    """The ``decision`` line of a change of a session's decision."""
    decision = change.decision
    return DecisionRecord(
        incident=incident,
        at=change.at,
        action=decision.action,
        rollback_type=decision.rollback_type,
        cause=Cause(event=change.cause.event, clock=change.cause.clock),
        policy=decision.policy,
        rules=decision.rule_ids,
    )
