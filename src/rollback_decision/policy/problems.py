"""pydantic validation errors as :class:`PolicyProblem` s: written once, for every policy file.

Rule files (:mod:`.loader`) and organisation policy files (:mod:`.overlay`) both check their
shape with pydantic models; this module turns the errors into problems that name the file,
the line, the rule id and the key, with "did you mean" for unknown keys and a short excerpt of
the offending value (never the whole value, never a Python repr).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from rollback_decision.errors import PolicyProblem, did_you_mean, excerpt
from rollback_decision.policy.yamlio import YamlReadError, line_of
from rollback_decision.policy.yamlio.limits import dotted

__all__ = [
    "Locate",
    "describe_error",
    "dotted",
    "fields_at",
    "not_a_policy",
    "read_problem",
    "validation_problems",
]

#: Given the path of a problem inside a file: the rule id it is in (or None) and the key to
#: name (or None).
Locate = Callable[[tuple[str | int, ...]], tuple[str | None, str | None]]


def read_problem(file: str, exc: YamlReadError) -> PolicyProblem:
    """A policy file that cannot be read (too large, not UTF-8, not YAML), as a problem."""
    return PolicyProblem(file=file, line=exc.line, key=exc.key, message=exc.message)


def describe_error(err: Any, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """What one pydantic error says, in the words of the policy files."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key{did_you_mean(str(loc[-1]), fields_at(model, loc[:-1]))}"
    if kind == "missing":
        return "required key is missing"
    return f"{err['msg']}, got {excerpt(err['input'])}"


def validation_problems(
    exc: ValidationError,
    *,
    file: str,
    raw: Any,
    model: type[BaseModel],
    locate: Locate,
    prefix: tuple[str | int, ...] = (),
) -> Iterator[PolicyProblem]:
    """One problem per error of ``exc``, raised validating ``model`` at ``prefix`` in ``raw``."""
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = (*prefix, *loc)
        rule_id, key = locate(path)
        yield PolicyProblem(
            file=file,
            line=line_of(raw, path),
            rule_id=rule_id,
            key=key,
            message=describe_error(err, model, loc),
        )


def fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names of the model found at ``loc`` inside ``model`` (for "did you mean")."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
            continue
        args = [a for a in typing.get_args(current) if a is not type(None)]
        origin = typing.get_origin(current)
        if origin is list and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            named = [a for a in args if getattr(a, "__name__", None) == part]
            if not named:
                return []
            current = named[0]
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        models = [
            a for a in typing.get_args(current) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not models:
            return []
        current = models[0]
    return list(current.model_fields)


def not_a_policy(file: str, raw: Any, known: Sequence[str], what: str) -> PolicyProblem | None:
    """A problem when ``raw`` (a mapping) has none of the ``known`` keys: it is not a policy.

    Only its keys are named, never a value: the file may be anything readable (a credentials
    file that an ``extends`` pointed at).
    """
    if not isinstance(raw, dict) or not raw or any(key in known for key in raw):
        return None
    # Keys are named only when they look like names: a "key" can be a whole line of the file
    # (``root:$6$...:::`` reads as a mapping with one key).
    names = [key for key in raw if isinstance(key, str) and _NAME.fullmatch(key)]
    shown = ", ".join(names[:5])
    others = len(raw) - len(names[:5])
    if others:
        shown += f"{' and ' if shown else ''}{others:,} other key{'s' if others != 1 else ''}"
    return PolicyProblem(
        file=file, line=1, message=f"not {what}: none of its keys is one ({shown})"
    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,39}")
