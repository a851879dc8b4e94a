"""What a document is read into: containers that know the line of each key and item, and
how to use them (the line of a value, plain copies)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["YamlMap", "YamlSeq", "line_of", "to_plain"]


class YamlMap(dict[Any, Any]):
    """A mapping read from a document, with the 1-based line of itself and of each key."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class YamlSeq(list[Any]):
    """A list read from a document, with the 1-based line of itself and of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def line_of(node: Any, path: Sequence[str | int] = ()) -> int | None:
    """1-based line of the value at ``path`` inside ``node``, or of the nearest parent known."""
    best: int | None = None
    current = node
    for part in path:
        if isinstance(current, YamlMap) and part in current:
            best = current.key_lines.get(part) or best
            current = current[part]
        elif isinstance(current, YamlSeq) and isinstance(part, int) and 0 <= part < len(current):
            best = current.item_lines[part] or best
            current = current[part]
        else:
            break
    if best is None and isinstance(current, (YamlMap, YamlSeq)):
        best = current.line
    return best


def to_plain(node: Any) -> Any:
    """Plain ``dict``/``list``/scalars (drops the line info; aliases become copies).

    Keys other than integers and booleans become strings. Built without recursion; the size
    is bounded by the limits the document was read with.
    """
    if not isinstance(node, (dict, list)):
        return node
    root: Any = {} if isinstance(node, dict) else []
    stack: list[tuple[Any, Any]] = [(node, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, (dict, list)):
                copy: Any = {} if isinstance(value, dict) else []
                stack.append((value, copy))
                value = copy
            if isinstance(target, dict):
                plain_key = key if isinstance(key, (int, bool)) else str(key)
                target[plain_key] = value
            else:
                target.append(value)
    return root
