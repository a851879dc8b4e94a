"""Stage 2 of the pipeline: the policy as data — read, checked and compiled once.

``load_policy()`` returns a :class:`Policy` ready to decide with; any problem in the rule
files raises one :class:`~rollback_decision.errors.PolicyError` listing them all.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from rollback_decision.errors import PolicyError, PolicyProblem
from rollback_decision.policy.compiler import CompiledRule, CompiledTable, Policy, compile_policy
from rollback_decision.policy.loader import read_policy_dir, shipped_rules_dir
from rollback_decision.policy.overlay import read_org_policy

__all__ = ["CompiledRule", "CompiledTable", "Policy", "default_policy", "load_policy"]


def load_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """Read, validate and compile a policy.

    ``path`` is a folder of rule files (``*.yaml``), or an organisation policy file that
    ``extends`` the shipped policy or another policy (see :mod:`.overlay`); None means the
    rules shipped with the package. Raises :class:`PolicyError` with every problem found.
    """
    if path is None:
        return default_policy()
    return _load(Path(path))


@functools.cache
def default_policy() -> Policy:
    """The shipped policy, compiled once per process."""
    return _load(shipped_rules_dir())


def _load(path: Path) -> Policy:
    problems: list[PolicyProblem] = []
    if not path.exists():
        raise PolicyError([PolicyProblem(file=str(path), message="no such file or folder")])
    if path.is_dir():
        raw = read_policy_dir(path, problems)
    else:
        org = read_org_policy(path, problems)
        if org is None:
            raise PolicyError(problems)
        raw = org
    if problems:
        # Meaning is checked only once every file has the right shape: a broken file would
        # otherwise show up again as a cascade of unknown names.
        raise PolicyError(problems)
    policy = compile_policy(raw, problems)
    if problems or policy is None:
        raise PolicyError(problems or [PolicyProblem(file=str(path), message="not a policy")])
    return policy
