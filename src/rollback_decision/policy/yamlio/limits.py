"""The limits every input is read within, and the one error a document that cannot be read
raises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_NUMBER_LENGTH",
    "Limits",
    "YamlReadError",
    "dotted",
    "too_large",
]

#: Longest number (in characters, as written) that is read; longer ones are refused.
MAX_NUMBER_LENGTH = 100


@dataclass(frozen=True)
class Limits:
    """How much of an input is read and built before it is refused."""

    #: Bytes of one file or of standard input.
    max_bytes: int = 1 << 20
    #: Levels of nested mappings and lists.
    max_depth: int = 64
    #: Values (mappings, lists, scalars) in one document, every alias expanded.
    max_nodes: int = 10_000
    #: Aliases (``*name``) in one document.
    max_aliases: int = 1_000

    def with_max_bytes(self, max_bytes: int | None) -> Limits:
        if max_bytes is None:
            return self
        return Limits(max_bytes, self.max_depth, self.max_nodes, self.max_aliases)


DEFAULT_LIMITS = Limits()


class YamlReadError(Exception):
    """The input cannot be read as a document; ``line`` is 1-based where it is known.

    ``message`` is already safe to print: values are short excerpts with control characters
    escaped.
    """

    def __init__(self, message: str, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        #: Dotted path of the value in the document (``change.components.0``), where known.
        self.key = key


def dotted(path: Sequence[Any]) -> str | None:
    return ".".join(str(part) for part in path) or None


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n:,} bytes"


def too_large(limits: Limits) -> YamlReadError:
    return YamlReadError(
        f"larger than the input size limit of {_size(limits.max_bytes)} (max_bytes)"
    )
