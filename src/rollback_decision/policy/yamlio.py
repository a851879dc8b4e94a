"""Safe YAML reading that remembers where each value came from.

ruamel.yaml's round-trip loader builds plain containers (no arbitrary objects) and records the
line of every key and item; we keep those positions so that errors can say ``file:line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

__all__ = ["YamlReadError", "line_of", "read_yaml", "read_yaml_text", "to_plain"]


class YamlReadError(Exception):
    """The text is not YAML; ``line`` is 1-based where the parser knows it."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml_text(text: str) -> Any:
    """Parse YAML (or JSON, a subset of it); containers keep their line numbers."""
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlReadError(f"not valid YAML: {problem}", line) from None
    except YAMLError as exc:
        raise YamlReadError(f"not valid YAML: {exc}", None) from None


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlReadError(f"cannot read file: {exc}", None) from None
    return read_yaml_text(text)


def line_of(node: Any, path: Sequence[str | int] = ()) -> int | None:
    """1-based line of the value at ``path`` inside ``node``, or of the nearest parent known."""
    best: int | None = None
    current = node
    for part in path:
        if isinstance(current, CommentedMap) and part in current:
            best = current.lc.key(part)[0] + 1
            current = current[part]
        elif (
            isinstance(current, CommentedSeq) and isinstance(part, int) and 0 <= part < len(current)
        ):
            best = current.lc.item(part)[0] + 1
            current = current[part]
        else:
            break
    if best is None and isinstance(current, (CommentedMap, CommentedSeq)):
        best = current.lc.line + 1
    return best


def to_plain(node: Any) -> Any:
    """Plain ``dict``/``list``/scalars from ruamel's containers (drops the line info)."""
    if isinstance(node, dict):
        return {
            str(k) if not isinstance(k, (int, bool)) else k: to_plain(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
