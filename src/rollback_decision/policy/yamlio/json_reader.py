"""JSON documents, read by the json module within the same limits as YAML; its errors are
worded as JSON errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from rollback_decision.errors import escape
from rollback_decision.policy.yamlio.limits import (
    MAX_NUMBER_LENGTH,
    Limits,
    YamlReadError,
    dotted,
)

__all__ = ["JsonSyntaxError", "parse_json"]


class JsonSyntaxError(YamlReadError):
    """Text that starts like JSON and is not JSON."""


class _Refused:
    """A JSON value refused where it was read; reported with its path by :func:`_check_tree`."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _json_number(text: str, convert: Callable[[str], Any]) -> Any:
    if len(text) > MAX_NUMBER_LENGTH:
        return _Refused(
            f"a number of {len(text):,} characters (at most {MAX_NUMBER_LENGTH} are read)"
        )
    value = convert(text)
    if isinstance(value, float) and not math.isfinite(value):
        return _Refused(f"{escape(text, 40)} is not a finite number")
    return value


def _json_constant(text: str) -> Any:
    return _Refused(f"{text} is not a number JSON allows")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise YamlReadError(f"not valid JSON: duplicate key {escape(repr(key), 80)}")
        out[key] = value
    return out


def parse_json(text: str, limits: Limits) -> Any:
    try:
        data = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=lambda s: _json_number(s, int),
            parse_float=lambda s: _json_number(s, float),
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise JsonSyntaxError(message, exc.lineno) from None
    except RecursionError:
        raise YamlReadError(
            f"nested deeper than the limit of {limits.max_depth} levels (max_depth)"
        ) from None
    _check_tree(data, limits)
    return data


def _check_tree(data: Any, limits: Limits) -> None:
    """Depth, size and refused values of a JSON tree, walked without recursion."""
    count = 0
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise YamlReadError(f"more than the limit of {limits.max_nodes:,} values (max_nodes)")
        if isinstance(node, _Refused):
            raise YamlReadError(f"not valid JSON: {node.message}", None, dotted(path))
        if isinstance(node, (dict, list)):
            if len(path) >= limits.max_depth:
                raise YamlReadError(
                    f"nested deeper than the limit of {limits.max_depth} levels (max_depth)"
                )
            if count + len(stack) + len(node) > limits.max_nodes:
                raise YamlReadError(
                    f"more than the limit of {limits.max_nodes:,} values (max_nodes)"
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, (*path, key)) for key, child in reversed(list(items)))
