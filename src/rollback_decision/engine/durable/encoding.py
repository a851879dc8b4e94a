"""Facts encoded into durable-rules messages, so that every comparison is exact."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from typing import Any

from rollback_decision.engine.durable.errors import DurableEngineError

__all__ = [
    "ABSENT",
    "Encoder",
    "enc_eq",
    "enc_has",
    "enc_items",
    "enc_len",
    "enc_ord",
    "order_key",
    "tag",
]


_MAX_EXACT_INT = 2**53


def tag(value: Any) -> str:
    """A value as a string that equals another's exactly when the values are equal (``==``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, int):
        return f"n:{value}"
    if isinstance(value, float):
        if math.isnan(value):
            raise DurableEngineError("a NaN fact cannot be compared faithfully")
        if value.is_integer():
            return f"n:{int(value)}"
        return f"n:{value!r}"
    if isinstance(value, str):  # StrEnum members too
        return f"s:{value}"
    if isinstance(value, (list, tuple)):
        return "l:" + json.dumps([tag(item) for item in value], ensure_ascii=False)
    raise DurableEngineError(f"a fact of type {type(value).__name__} cannot be encoded")


def order_key(value: Any) -> str | None:
    """A number as 16 hex digits whose string order is the numbers' order; None for null/NaN."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > _MAX_EXACT_INT:
            raise DurableEngineError(f"the integer {value} is too large to compare exactly")
        value = float(value)
    if not isinstance(value, float):
        raise DurableEngineError(f"cannot order a value of type {type(value).__name__}")
    if math.isnan(value):
        return None  # NaN is never less, greater or equal: like a null under ordering
    (bits,) = struct.unpack(">Q", struct.pack(">d", value + 0.0))  # -0.0 → 0.0
    bits = (~bits & 0xFFFF_FFFF_FFFF_FFFF) if bits >> 63 else (bits | 1 << 63)
    return f"{bits:016x}"


ABSENT = object()
Encoder = Callable[[Any], Any]


def enc_eq(value: Any) -> Any:
    return tag(value)


def enc_ord(value: Any) -> Any:
    key = order_key(value)
    return ABSENT if key is None else key


def enc_items(value: Any) -> Any:
    return [tag(item) for item in value] if value is not None else ABSENT


def enc_len(value: Any) -> Any:
    return len(value) if value is not None else ABSENT


def enc_has(domain: frozenset[Any], member: Any, fact: str) -> Encoder:
    def has(value: Any) -> Any:
        items = value or ()
        for item in items:
            if item not in domain:
                raise DurableEngineError(
                    f"{fact!r} holds {item!r}, outside its declared values; "
                    "a list compared with another list fact must stay within them"
                )
        return member in items

    return has
