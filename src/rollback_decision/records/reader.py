"""Reading decision logs back.

Lines are streamed and each is checked against its type's model (unknown keys refused, times
ISO 8601 with a zone). A last line without its newline, or not valid JSON, is a *torn tail*: it
is reported (:class:`TornTail`, file and line), never dropped silently and never taken as a
record. Any other bad line is a :class:`~rollback_decision.errors.DecisionLogError` naming its
line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rollback_decision.errors import DecisionLogError
from rollback_decision.records.lines import Record, parse_record

__all__ = ["LogContents", "LogLine", "TornTail", "read_log", "read_logs"]


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
