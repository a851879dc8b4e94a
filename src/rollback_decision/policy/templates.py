"""Texts with ``{name}`` placeholders, checked when the policy loads.

A placeholder names a fact, a parameter, or a field of a referenced catalogue entry
(``{authority.decided_by}``). Substitution is plain text replacement: no attribute access,
no format specs, nothing evaluated. ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import EnumType
from functools import cached_property
from typing import Any

from rollback_decision.errors import did_you_mean

__all__ = ["Template", "format_value"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")


def format_value(value: Any) -> str:
    """How a fact reads in a sentence."""
    if value is None:
        return "unknown"
    exact = _BY_TYPE.get(type(value))  # the usual types, looked up rather than tested
    if exact is not None:
        return exact(value)
    if isinstance(type(value), EnumType):  # an enum's member (an Enum, without its slow check)
        return str(value._value_)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (list, tuple, frozenset, set)):
        return _items(value)
    return str(value)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _number(value: float) -> str:
    return f"{value:g}"


def _items(value: Any) -> str:
    return ", ".join(map(format_value, value)) or "none"


#: What :func:`format_value` gives a value of exactly one of these types (bool cannot be
#: subclassed; subclasses of the others go through its tests).
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: str,
    int: str,
    bool: _yes_no,
    float: _number,
    tuple: _items,
    list: _items,
}


@dataclass(frozen=True)
class Template:
    text: str
    names: tuple[str, ...]

    @classmethod
    def parse(
        cls,
        text: str,
        known: Collection[str],
        report: Callable[[str], None],
    ) -> Template:
        names: list[str] = []
        for match in _PLACEHOLDER.finditer(text):
            name = match.group(1)
            if name is None:
                continue
            if not _NAME.fullmatch(name):
                report(f"placeholder {{{name}}} is not a name (letters, digits, _ and one '.')")
            elif name not in known:
                report(f"unknown placeholder {{{name}}}{did_you_mean(name, known)}")
            else:
                names.append(name)
        return cls(text, tuple(dict.fromkeys(names)))

    @property
    def is_static(self) -> bool:
        return not self.names

    @cached_property
    def _pieces(self) -> tuple[tuple[str, str | None], ...]:
        """The text split once into (literal text, placeholder name or None) pieces."""
        pieces: list[tuple[str, str | None]] = []
        literal: list[str] = []
        at = 0
        for match in _PLACEHOLDER.finditer(self.text):
            literal.append(self.text[at : match.start()])
            at = match.end()
            name = match.group(1)
            if name is None:
                literal.append(match.group(0)[0])
            else:
                pieces.append(("".join(literal), name))
                literal = []
        literal.append(self.text[at:])
        pieces.append(("".join(literal), None))
        return tuple(pieces)

    def render(self, values: Mapping[str, Any]) -> str:
        return "".join(
            literal + (format_value(values[name]) if name is not None else "")
            for literal, name in self._pieces
        )
