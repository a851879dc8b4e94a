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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
]


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

    def __init__(self, *, source: str | None, field: str | None, message: str) -> None:
        self.source = source
        self.problems: list[tuple[str | None, str]] = [(field, message)]
        super().__init__(self._render())

    @classmethod
    def from_problems(
        cls, source: str | None, problems: Sequence[tuple[str | None, str]]
    ) -> IncidentError:
        first_field, first_message = problems[0]
        error = cls(source=source, field=first_field, message=first_message)
        error.problems = list(problems)
        error.args = (error._render(),)
        return error

    @property
    def field(self) -> str | None:
        return self.problems[0][0]

    def _render(self) -> str:
        where = f"{self.source}: " if self.source else ""
        parts = [
            f"field {field!r}: {message}" if field else message for field, message in self.problems
        ]
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


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy: where it is and what was expected."""

    file: str
    message: str
    line: int | None = None
    rule_id: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = []
        if self.rule_id:
            what.append(f"rule {self.rule_id!r}")
        if self.key:
            what.append(f"key {self.key!r}")
        detail = f" {', '.join(what)}:" if what else ""
        return f"{where}:{detail} {self.message}"


class PolicyError(RollbackDecisionError):
    """A policy could not be loaded. ``problems`` holds every problem found, not just the first."""

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the policy"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


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
