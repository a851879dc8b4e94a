"""The decision log's writer: append-only JSON Lines, one record a line.

Every record is one complete ``json.dumps(...) + "\\n"`` built first and written with one
``os.write`` on a descriptor opened ``O_APPEND`` (continued under the lock should the kernel
write short), under a ``threading.Lock`` (writers in one process) and ``fcntl.flock`` (writers
in other processes), then ``fsync``-ed. A crash mid-write can at worst leave the *last* line
torn; every earlier record is whole. The lines are described in
:mod:`rollback_decision.records.lines`; :mod:`rollback_decision.records.reader` reads them back.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rollback_decision.errors import DecisionLogError
from rollback_decision.records.lines import (
    Cause,
    DecisionRecord,
    Deployed,
    EventRecord,
    Opened,
    PostMortemRecord,
    Record,
    parse_record,
    record_to_dict,
)
from rollback_decision.timeline.changes import DecisionChange
from rollback_decision.timeline.events import Event
from rollback_decision.timeline.session import IncidentSession

__all__ = ["DecisionLog", "TornTailWarning", "decision_record"]


class TornTailWarning(UserWarning):
    """A writer found a torn last line and set it aside before appending (see
    :class:`DecisionLog`)."""


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
