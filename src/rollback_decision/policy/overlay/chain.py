"""Reading an organisation policy file and the chain of files it ``extends``, down to a rules
folder; the files are then applied over the rules, nearest first."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rollback_decision.errors import PolicyProblem, did_you_mean, excerpt
from rollback_decision.policy import loader
from rollback_decision.policy.loader import (
    RawPolicy,
    SourceCache,
    SourceFile,
    display_name,
    read_policy_dir,
)
from rollback_decision.policy.overlay.layer import apply_org_file
from rollback_decision.policy.overlay.spec import (
    DEFAULT_BASE,
    MAX_EXTENDS,
    OrgFile,
    OrgPolicySpec,
    catalogue_sections,
    entry_noun,
)
from rollback_decision.policy.problems import not_a_policy, read_problem
from rollback_decision.policy.spec import PolicyDocument
from rollback_decision.policy.yamlio import (
    DEFAULT_LIMITS,
    Limits,
    YamlReadError,
    read_bytes,
    read_document,
    to_plain,
)

__all__ = ["read_org_policy"]


def read_org_policy(
    path: Path,
    problems: list[PolicyProblem],
    *,
    limits: Limits = DEFAULT_LIMITS,
    allow_extends_outside: bool = False,
    cache: SourceCache | None = None,
) -> RawPolicy | None:
    """Read the organisation policy file ``path``, its chain of bases, and apply it.

    Returns the merged rules ready to compile, or None when nothing could be merged; every
    problem is appended to ``problems``. ``extends`` may only name a file or folder inside
    the folder of the file that says it (or ``default``), unless ``allow_extends_outside``;
    a chain goes through at most :data:`MAX_EXTENDS` files.
    """
    chain: list[OrgFile] = []
    try:
        start = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        problems.append(
            PolicyProblem(file=display_name(path), message="cannot read file: a symlink loop")
        )
        return None
    base = _read_chain(start, problems, chain, limits, allow_extends_outside)
    chain.reverse()  # the file nearest the rules first
    if base is None:
        return None
    before = len(problems)
    raw = read_policy_dir(base, problems, limits=limits, cache=cache)
    if len(problems) > before:
        return raw  # a broken base: its problems would only cascade through the overlays
    for org in chain:
        apply_org_file(raw, org, problems)
    return raw


def _read_chain(
    path: Path,
    problems: list[PolicyProblem],
    chain: list[OrgFile],
    limits: Limits,
    allow_outside: bool,
) -> Path | None:
    """Read ``path`` and the files it extends into ``chain`` (outermost first).

    Returns the rules folder at the root of the chain, or None when the chain is broken.
    """
    seen: list[Path] = []
    current = path
    while True:
        org = _read_org_file(current, problems, limits)
        chain.append(org)
        seen.append(current)
        raw = org.source.raw
        target = raw.get("extends") if isinstance(raw, dict) else None
        if not isinstance(target, str):
            return None  # reported by the shape check
        if not target.strip():
            problems.append(org.problem(("extends",), f"name the base: '{DEFAULT_BASE}' or a path"))
            return None
        if target == DEFAULT_BASE:
            return loader.shipped_rules_dir()
        if len(seen) >= MAX_EXTENDS:
            problems.append(
                org.problem(
                    ("extends",),
                    f"'extends' goes through more than {MAX_EXTENDS} files (the limit)",
                )
            )
            return None
        try:
            resolved = (current.parent / target).resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            reason = "not a usable path" if isinstance(exc, ValueError) else "a symlink loop"
            problems.append(org.problem(("extends",), f"cannot follow {excerpt(target)}: {reason}"))
            return None
        if resolved in seen:
            names = [display_name(p) for p in seen[seen.index(resolved) :]]
            names.append(display_name(resolved))
            problems.append(
                org.problem(("extends",), "'extends' forms a cycle: " + " -> ".join(names))
            )
            return None
        if not allow_outside and not resolved.is_relative_to(current.parent):
            problems.append(
                org.problem(
                    ("extends",),
                    f"{excerpt(target)} is outside the folder of this file; 'extends' names a "
                    f"file or folder beside it or below it, or '{DEFAULT_BASE}' "
                    "(allow_extends_outside=True, --allow-extends-outside, lifts this)",
                )
            )
            return None
        try:
            is_dir, exists = resolved.is_dir(), resolved.exists()
        except OSError as exc:
            reason = exc.strerror or "cannot be read"
            problems.append(org.problem(("extends",), f"cannot follow {excerpt(target)}: {reason}"))
            return None
        if is_dir:
            return resolved
        if not exists:
            problems.append(org.problem(("extends",), _missing(target, resolved)))
            return None
        current = resolved


def _missing(target: str, resolved: Path) -> str:
    siblings: list[str] = []
    try:
        if resolved.parent.is_dir():
            siblings = [
                p.name for _, p in zip(range(1000), resolved.parent.iterdir(), strict=False)
            ]
    except OSError:
        siblings = []
    hint = did_you_mean(resolved.name, siblings)
    return (
        f"no such file or folder: {excerpt(target)} (looked for {display_name(resolved)}){hint}; "
        f"'{DEFAULT_BASE}' means the shipped policy"
    )


def _read_org_file(path: Path, problems: list[PolicyProblem], limits: Limits) -> OrgFile:
    name = display_name(path)
    try:
        data = read_bytes(path, limits)
    except YamlReadError as exc:
        problems.append(read_problem(name, exc))
        return OrgFile(path, SourceFile(name, None, None, ""), None)
    # Read once: the hash and the changes come from the same bytes.
    source = SourceFile(name, None, None, hashlib.sha256(data).hexdigest())
    org = OrgFile(path, source, None)
    try:
        raw = read_document(data, limits=limits, name=name)
    except YamlReadError as exc:
        problems.append(read_problem(name, exc))
        return org
    if not isinstance(raw, dict):
        problems.append(
            PolicyProblem(
                file=name,
                line=1,
                message="an organisation policy is a mapping with 'extends' and what it changes",
            )
        )
        return org
    known = [*OrgPolicySpec.model_fields, *catalogue_sections(), *PolicyDocument.model_fields]
    stranger = not_a_policy(name, raw, known, "an organisation policy")
    if stranger is not None:
        problems.append(stranger)  # its values are never shown: it may be any file
        return org
    source.raw = raw
    plain: dict[str, Any] = to_plain(raw)
    if "extends" not in plain and _looks_like_rule_file(plain):
        problems.append(
            org.problem(
                ("extends",),
                "this is a rule file, not an organisation policy (it has no 'extends'): "
                "pass the folder that holds it",
            )
        )
        return org
    fixed = list(OrgPolicySpec.model_fields)
    catalogues = catalogue_sections()
    for key in list(plain):
        if key in catalogues:
            changes = plain.pop(key)
            if changes is None:
                continue
            if not isinstance(changes, dict):
                problems.append(org.problem((key,), f"expected a mapping of {entry_noun(key)} ids"))
                continue
            org.changes[key] = changes
        elif key not in fixed:
            del plain[key]
            hint = did_you_mean(str(key), [*fixed, *catalogues])
            if not hint and key in ("tables", "pipeline"):
                hint = (
                    "; an organisation policy changes rules under 'rules:' (disable, replace, add)"
                )
            problems.append(org.problem((key,), f"unknown key{hint}"))
    try:
        org.spec = OrgPolicySpec.model_validate(plain)
    except ValidationError as exc:
        problems.extend(org.validation_problems(exc, (), OrgPolicySpec))
        org.spec = _valid_part(plain, exc, org)
    return org


def _looks_like_rule_file(plain: Mapping[str, Any]) -> bool:
    declarations = plain.get("parameters")
    return bool({"tables", "pipeline"} & set(plain)) or (
        isinstance(declarations, dict)
        and any(isinstance(v, dict) and "type" in v for v in declarations.values())
    )


def _valid_part(plain: dict[str, Any], exc: ValidationError, org: OrgFile) -> OrgPolicySpec | None:
    """What is valid of a file with shape problems, so that its other mistakes show too.

    A bad rule change drops only that change (its position is kept in ``org.rule_positions``
    for error reports); any other bad key drops that key.
    """
    drop_rules: dict[str, set[int]] = {}
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        if len(loc) >= 3 and loc[0] == "rules" and isinstance(loc[2], int):
            drop_rules.setdefault(str(loc[1]), set()).add(loc[2])
        elif loc:
            plain.pop(str(loc[0]), None)
    rules = plain.get("rules")
    if isinstance(rules, dict):
        for op, bad in drop_rules.items():
            items = rules.get(op)
            if isinstance(items, list):
                kept = [i for i in range(len(items)) if i not in bad]
                rules[op] = [items[i] for i in kept]
                org.rule_positions[op] = kept
    try:
        return OrgPolicySpec.model_validate(plain)
    except ValidationError:
        return None
