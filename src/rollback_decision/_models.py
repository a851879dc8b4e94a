"""Building result models from values the library has already checked.

Pydantic's ``model_construct`` skips validation but still does per-field work in Python;
the engine builds many small immutable results (rationale steps, plan steps, warnings) from
values that were checked when the policy compiled, so it sets their fields directly, as
``model_construct`` does in the end. Every field must be given: there are no defaults here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built"]

M = TypeVar("M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__
# The slots every pydantic model has, set through their descriptors (no attribute lookup).
_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_private = BaseModel.__dict__["__pydantic_private__"].__set__


def built(cls: type[M], fields: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``fields`` (all of them, already valid), unvalidated."""
    model: M = _new(cls)
    _set(model, "__dict__", fields)
    _fields_set(model, set(fields))
    _extra(model, None)
    _private(model, None)
    return model
