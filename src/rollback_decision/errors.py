"""One root for every error the library raises on purpose.

``RollbackDecisionError``
  ├── ``IncidentError`` (also a ``ValueError``): an incident that does not fit the facts
  ├── ``PolicyError``: a policy that cannot be loaded; carries every ``PolicyProblem`` found
  ├── ``TimelineError`` (also a ``ValueError``): an incident timeline event that cannot apply
  ├── ``DecisionLogError`` (also a ``ValueError``): a decision log line that cannot be read
  ├── ``DecisionError``: the policy did not decide an incident (a gap or an overlap)
  └── ``EngineUnavailableError``: an optional engine asked for but not installed
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DecisionError",
    "DecisionLogError",
    "EngineUnavailableError",
    "IncidentError",
    "PolicyError",
    "PolicyProblem",
    "RollbackDecisionError",
    "TimelineError",
    "did_you_mean",
    "escape",
    "excerpt",
]

#: Characters never printed as they are: C0 and C1 controls (but not tab and newline, which
#: callers that print several lines keep), DEL, line and paragraph separators, the byte order
#: mark, the bidirectional overrides that can make a terminal show text out of order, and
#: lone surrogates (undecodable bytes of a file name) that no terminal encoding can print.
_UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_LINE_BREAKS = re.compile(r"[\t\n]")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, limit: int | None = None, *, keep_lines: bool = False) -> str:
    """``text`` safe for one line of a terminal: control characters as ``\\xNN``, cut to
    ``limit`` characters (saying how many more there were).

    ``keep_lines`` keeps newlines and tabs (for multi-line reports).
    """
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"… ({len(text) - limit:,} more characters)"
        text = text[:limit]
    text = _UNPRINTABLE.sub(lambda m: _escaped(m.group()), text)
    if not keep_lines:
        text = _LINE_BREAKS.sub(lambda m: _escaped(m.group()), text)
    return text + cut


def _container(
    value: Mapping[Any, Any] | list[Any] | tuple[Any, ...], limit: int, depth: int
) -> str:
    """A short list or mapping written out (``['a', 1]``), else named by its size."""
    size = len(value)
    if size <= 10 and depth < 3:
        inner = depth + 1
        if isinstance(value, Mapping):
            parts = [
                f"{excerpt(k, limit, _depth=inner)}: {excerpt(v, limit, _depth=inner)}"
                for k, v in value.items()
            ]
            text = "{" + ", ".join(parts) + "}"
        else:
            text = "[" + ", ".join(excerpt(v, limit, _depth=inner) for v in value) + "]"
        if len(text) <= limit:
            return text
    kind = "mapping" if isinstance(value, Mapping) else "list"
    noun = "key" if kind == "mapping" else "item"
    return f"a {kind} of {size:,} {noun}{'s' if size != 1 else ''}"


def excerpt(value: Any, limit: int = 80, *, _depth: int = 0) -> str:
    """How an offending value is shown in a message: short, escaped, never a Python repr.

    Strings are quoted (and cut to ``limit`` characters), numbers and booleans are written
    as in YAML and JSON, anything else is named by its kind.
    """
    if isinstance(value, str):
        return "'" + escape(value, limit) + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        digits = str(value) if abs(value) < 10**limit else None
        return digits if digits is not None else "a number too long to show"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else {"nan": ".nan"}.get(str(value), str(value))
    if isinstance(value, (Mapping, list, tuple)):
        return _container(value, limit, _depth)
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value):,} bytes"
    return f"a value of type {escape(type(value).__name__, 40)}"


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(str(name), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class RollbackDecisionError(Exception):
    """Root of every error this library raises on purpose."""


class IncidentError(RollbackDecisionError, ValueError):
    """An incident that does not fit the facts model.

    ``problems`` lists ``(field, message)`` pairs, the field as a dotted path
    (``change.components.0``); ``source`` names the file when there is one.
    """

    def __init__(
        self, *, source: str | None, field: str | None, message: str, line: int | None = None
    ) -> None:
        self.source = source
        #: 1-based line of the (first) problem in the file, where it is known.
        self.line = line
        self.problems: list[tuple[str | None, str]] = [(field, message)]
        super().__init__(self._render())

    @classmethod
    def from_problems(
        cls,
        source: str | None,
        problems: Sequence[tuple[str | None, str]],
        *,
        line: int | None = None,
    ) -> IncidentError:
        first_field, first_message = problems[0]
        error = cls(source=source, field=first_field, message=first_message, line=line)
        error.problems = list(problems)
        error.args = (error._render(),)
        return error

    @property
    def field(self) -> str | None:
        return self.problems[0][0]

    def _render(self) -> str:
        where = ""
        if self.source:
            where = escape(self.source, 200)
            where += f":{self.line}: " if self.line is not None else ": "
        shown = self.problems[:_SHOWN]
        parts = [
            f"field '{escape(field, 120)}': {escape(message, 400)}"
            if field
            else escape(message, 400)
            for field, message in shown
        ]
        if len(self.problems) > len(shown):
            parts.append(f"and {len(self.problems) - len(shown):,} more problems")
        return f"{where}invalid incident: " + "; ".join(parts)


class TimelineError(RollbackDecisionError, ValueError):
    """A timeline (or one of its events) that cannot be applied; nothing was changed.

    ``index`` is the event's place in the stream (None: the timeline itself, e.g. its
    ``opened_at``), ``field`` the field at fault, ``event_type`` the event's type when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        index: int | None = None,
        field: str | None = None,
        event_type: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.index = index
        self.field = field
        self.event_type = event_type
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.source}: " if self.source else ""
        what = "invalid timeline"
        if self.index is not None:
            what += f": event {self.index}" + (f" ({self.event_type})" if self.event_type else "")
        if self.field:
            what += f": field {self.field!r}"
        return f"{where}{what}: {self.message}"


class DecisionLogError(RollbackDecisionError, ValueError):
    """A decision log (JSON Lines) that cannot be read or written: ``source`` names the file,
    ``line`` the line (1-based; None: the file itself), ``field`` the field at fault."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.source or "decision log"
        field = f"field {self.field!r}: " if self.field else ""
        if self.line is None:
            return f"{where}: {field}{self.message}"
        return f"{where}:{self.line}: invalid decision log line: {field}{self.message}"


#: Problems shown in one message; the exception's ``problems`` holds them all.
_SHOWN = 20


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy: where it is and what was expected."""

    file: str
    message: str
    line: int | None = None
    rule_id: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        """One line: ``file:line: rule 'id', key 'path': message``, control characters
        escaped and every part cut short (a value in a message is never shown whole)."""
        name = escape(self.file, 200)
        where = name if self.line is None else f"{name}:{self.line}"
        what = []
        if self.rule_id:
            what.append(f"rule '{escape(self.rule_id, 120)}'")
        if self.key:
            what.append(f"key '{escape(self.key, 120)}'")
        detail = f" {', '.join(what)}:" if what else ""
        return f"{where}:{detail} {escape(self.message, 400)}"


class PolicyError(RollbackDecisionError):
    """A policy could not be loaded. ``problems`` holds every problem found, not just the first."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the policy"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))

    def one_line(self) -> str:
        """The problems on one line (for a command's error message), the first ones in full."""
        shown = self.problems[:_SHOWN]
        count = len(self.problems)
        if count == 1:
            return str(shown[0])
        text = f"{count:,} problems in the policy: " + "; ".join(str(p) for p in shown)
        if count > len(shown):
            text += f"; and {count - len(shown):,} more"
        return text


class DecisionError(RollbackDecisionError):
    """The policy could not decide an incident: no rule matched, or a unique table matched twice.

    This is a defect of the policy, not of the incident; ``rollback-decision verify`` finds it
    before any incident does.
    """

    def __init__(self, table: str, message: str) -> None:
        self.table = table
        super().__init__(f"table {table!r}: {message}")


class EngineUnavailableError(RollbackDecisionError):
    """An engine was asked for that cannot run here (e.g. durable-rules is not installed)."""
