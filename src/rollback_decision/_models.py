"""Building result models from values the library has already checked.

Pydantic's ``model_construct`` skips validation but still does per-field work in Python;
the engine builds many small immutable results (rationale steps, plan steps, warnings) from
values that were checked when the policy compiled, so it sets their fields directly, as
``model_construct`` does in the end. Every field must be given: there are no defaults here.

Every model built here has all its fields set, so the models of one class share one set of
field names (:func:`every_field`) as their fields-set rather than each holding a copy:
first-sight decisions keep thousands of these models, and the copies were a large share of
what they allocated. Pydantic only reads that set, and copies it before changing a copy's
(``model_copy(update=...)``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["built", "every_field"]

M = TypeVar("M", bound=BaseModel)
_new = object.__new__
# The slots every pydantic model has, set through their descriptors (no attribute lookup).
_dict = BaseModel.__dict__["__dict__"].__set__
_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_private = BaseModel.__dict__["__pydantic_private__"].__set__


def every_field(cls: type[BaseModel]) -> set[str]:
    """The names of every field of ``cls``: the fields-set its :func:`built` models share
    (make it once, beside the code that builds them)."""
    return set(cls.model_fields)


def built(cls: type[M], fields: dict[str, Any], every: set[str] | None = None) -> M:
    """An instance of ``cls`` holding ``fields`` (all of them, already valid), unvalidated;
    ``every`` is :func:`every_field` of ``cls``, shared (default: a set of its own)."""
    model: M = _new(cls)
    _dict(model, fields)
    _fields_set(model, every if every is not None else set(fields))
    _extra(model, None)
    _private(model, None)
    return model
