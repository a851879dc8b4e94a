"""Stage 2 of the pipeline: the policy as data — read, checked and compiled once.

``load_policy()`` returns a :class:`Policy` ready to decide with; any problem in the rule
files raises one :class:`~rollback_decision.errors.PolicyError` listing them all.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import ValidationError

from rollback_decision.errors import PolicyError, PolicyProblem, excerpt
from rollback_decision.policy.compiler import CompiledRule, CompiledTable, Policy, compile_policy
from rollback_decision.policy.loader import SourceCache, read_policy_dir, shipped_rules_dir
from rollback_decision.policy.overlay import read_org_policy
from rollback_decision.policy.yamlio import DEFAULT_LIMITS, Limits

__all__ = [
    "CompiledRule",
    "CompiledTable",
    "Policy",
    "SourceCache",
    "default_policy",
    "load_policy",
]


def load_policy(
    path: str | os.PathLike[str] | None = None,
    *,
    max_bytes: int | None = None,
    allow_extends_outside: bool = False,
    cache: SourceCache | None = None,
) -> Policy:
    """Read, validate and compile a policy.

    ``path`` is a folder of rule files (``*.yaml``), or an organisation policy file that
    ``extends`` the shipped policy or another policy (see :mod:`.overlay`); None means the
    rules shipped with the package. Raises :class:`PolicyError` with every problem found.

    Each file is read once, must be a regular file of at most ``max_bytes`` bytes (default
    1 MiB), and is refused past the nesting and alias limits of
    :class:`~rollback_decision.policy.yamlio.Limits`. ``extends`` stays inside the folder of
    the file that names it unless ``allow_extends_outside``. A ``cache`` (a
    :class:`SourceCache` the caller keeps) reuses rule files already read with the same bytes.
    """
    if path is None:
        return default_policy()
    limits = DEFAULT_LIMITS.with_max_bytes(max_bytes)
    return _load(
        Path(path), limits=limits, allow_extends_outside=allow_extends_outside, cache=cache
    )


@functools.cache
def default_policy() -> Policy:
    """The shipped policy, compiled once per process."""
    return _load(shipped_rules_dir())


def _load(
    path: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    allow_extends_outside: bool = False,
    cache: SourceCache | None = None,
) -> Policy:
    problems: list[PolicyProblem] = []
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or "not a usable path"
        raise PolicyError([PolicyProblem(file=str(path), message=reason)]) from None
    if not exists:
        raise PolicyError([PolicyProblem(file=str(path), message="no such file or folder")])
    if is_dir:
        raw = read_policy_dir(path, problems, limits=limits, cache=cache)
    else:
        org = read_org_policy(
            path,
            problems,
            limits=limits,
            allow_extends_outside=allow_extends_outside,
            cache=cache,
        )
        if org is None:
            raise PolicyError(problems)
        raw = org
    if problems:
        # Meaning is checked only once every file has the right shape: a broken file would
        # otherwise show up again as a cascade of unknown names.
        raise PolicyError(problems)
    try:
        policy = compile_policy(raw, problems)
    except ValidationError as exc:
        # A value the checks let through but a typed result refuses (a negative approver
        # count in a rules folder that declares no bounds): still a problem of the policy.
        raise PolicyError([_built_problem(path, exc)]) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        # A combination the checks did not foresee: refused as a problem of this policy
        # (callers get the typed error they catch), and named as a gap in the checks.
        message = (
            f"cannot be compiled ({type(exc).__name__}: {excerpt(str(exc))[1:-1]}); the "
            "checks missed what is wrong here, please report it"
        )
        raise PolicyError([PolicyProblem(file=str(path), message=message)]) from None
    if problems or policy is None:
        raise PolicyError(problems or [PolicyProblem(file=str(path), message="not a policy")])
    return policy


def _built_problem(path: Path, exc: ValidationError) -> PolicyProblem:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in err["loc"])
    return PolicyProblem(
        file=str(path),
        key=f"{exc.title}.{where}" if where else exc.title,
        message=f"{err['msg']}, got {excerpt(err.get('input'))} (declare the parameter's "
        "bounds with min/max to have it named where it is set)",
    )
