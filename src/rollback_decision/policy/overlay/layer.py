"""Applying one organisation policy file over the merged rules: catalogue entries changed and
added, parameter values set (each checked against its declared type), the policy's identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from rollback_decision.errors import PolicyProblem, did_you_mean, excerpt
from rollback_decision.policy.loader import RawPolicy
from rollback_decision.policy.overlay.rule_changes import change_rules
from rollback_decision.policy.overlay.spec import (
    OrgFile,
    catalogue_sections,
    entry_noun,
    entry_type,
)
from rollback_decision.policy.spec import PolicyDocument, PolicyMeta
from rollback_decision.policy.types import parameter_type

__all__ = ["apply_org_file"]


def apply_org_file(raw: RawPolicy, org: OrgFile, problems: list[PolicyProblem]) -> None:
    """Layer ``org`` over ``raw`` in place; its problems are appended in line order."""
    found: list[PolicyProblem] = []
    _layer(raw, org, found)
    problems.extend(sorted(found, key=lambda p: (p.file != org.source.name, p.line or 0)))


def _layer(raw: RawPolicy, org: OrgFile, problems: list[PolicyProblem]) -> None:
    spec = org.spec
    if spec is None:
        return
    base_meta = raw.document.policy
    update: dict[str, Any] = {}
    for section in catalogue_sections():
        entries = _change_entries(raw, org, section, problems)
        if entries is not None:
            update[section] = entries
    for section, added in spec.add.items():
        entries = _add_entries(raw, org, section, added, update, problems)
        if entries is not None:
            update[section] = entries
    document = raw.document.model_copy(update=update)
    parameters = _set_parameters(raw, org, document, problems)
    tables = change_rules(raw, org, document, problems)
    raw.document = document.model_copy(
        update={"parameters": parameters, "tables": tables, "policy": _meta(org, base_meta)}
    )
    raw.files.append(org.source)


def _meta(org: OrgFile, base: PolicyMeta | None) -> PolicyMeta:
    spec = org.spec
    if spec is not None and spec.policy is not None:
        own = spec.policy
        if own.source:
            return own
        return own.model_copy(update={"source": f"{org.source.name}, extends {spec.extends}"})
    base_name = base.name if base else "policy"
    return PolicyMeta(
        name=f"{base_name}+{org.path.stem}",
        version=base.version if base else "0",
        title=base.title if base else "",
        source=f"{org.source.name}, extends {spec.extends if spec else '?'}",
    )


def _change_entries(
    raw: RawPolicy, org: OrgFile, section: str, problems: list[PolicyProblem]
) -> dict[Any, Any] | None:
    """Entries of ``section`` with the fields ``org`` changes (None when it changes none)."""
    changes = org.changes.get(section)
    typed = entry_type(section)
    if not changes or typed is None:
        return None
    _, model = typed
    entries: dict[Any, Any] = dict(getattr(raw.document, section))
    ids = {str(k): k for k in entries}
    noun = entry_noun(section)
    for ident, fields in changes.items():
        path: tuple[str | int, ...] = (section, ident)
        if str(ident) not in ids:
            problems.append(
                org.problem(
                    path,
                    f"unknown {noun} {ident!r}{did_you_mean(str(ident), ids)}; "
                    f"a new {noun} goes under 'add: {section}:'",
                )
            )
            continue
        if not isinstance(fields, dict):
            problems.append(
                org.problem(path, f"expected a mapping of the {noun}'s fields to change")
            )
            continue
        key = ids[str(ident)]
        try:
            entry = model.model_validate({**entries[key].model_dump(), **fields})
        except ValidationError as exc:
            problems.extend(org.validation_problems(exc, path, model))
            continue
        entries[key] = entry
        raw.origins[(section, str(key))] = (org.source, path)
    return entries


def _add_entries(
    raw: RawPolicy,
    org: OrgFile,
    section: str,
    added: dict[Any, Any],
    update: Mapping[str, Any],
    problems: list[PolicyProblem],
) -> dict[Any, Any] | None:
    """Entries of ``section`` with the new entries of ``org``."""
    where: tuple[str | int, ...] = ("add", section)
    allowed = ("parameters", *catalogue_sections())
    typed = entry_type(section)
    if section not in allowed or typed is None:
        problems.append(
            org.problem(where, f"no section {section!r} to add to{did_you_mean(section, allowed)}")
        )
        return None
    key_type, model = typed
    entries: dict[Any, Any] = dict(update.get(section, getattr(raw.document, section)))
    ids = {str(k) for k in entries}
    adapter: TypeAdapter[dict[Any, Any]] = TypeAdapter(dict[key_type, model])  # type: ignore[valid-type]
    noun = entry_noun(section)
    for ident, entry in added.items():
        path = (*where, ident)
        if str(ident) in ids:
            first = "the base policy"
            if (section, str(ident)) in raw.origins:
                file, line = raw.where(section, str(ident))
                first = file if line is None else f"{file}:{line}"
            how = (
                "set its value under 'parameters:'"
                if section == "parameters"
                else f"change it under '{section}:'"
            )
            problems.append(
                org.problem(path, f"{noun} {ident!r} is already defined (in {first}); {how}")
            )
            continue
        try:
            ((key, value),) = adapter.validate_python({ident: entry}).items()
        except ValidationError as exc:
            problems.extend(org.validation_problems(exc, where, model))
            continue
        entries[key] = value
        raw.origins[(section, str(key))] = (org.source, path)
    return entries


def _set_parameters(
    raw: RawPolicy, org: OrgFile, document: PolicyDocument, problems: list[PolicyProblem]
) -> dict[str, Any]:
    """Declared parameters with the values ``org`` gives, each checked against its type."""
    params = dict(document.parameters)
    spec = org.spec
    if spec is None:
        return params
    roles = frozenset(document.roles)
    for name, value in spec.parameters.items():
        path = ("parameters", name)
        declared = params.get(name)
        if declared is None:
            problems.append(
                org.problem(path, f"unknown parameter {name!r}{did_you_mean(name, params)}")
            )
            continue
        ptype = parameter_type(declared.type, roles)
        if ptype is None:
            continue  # a broken declaration: the compiler reports it where it is
        checked = value
        if ptype.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
            checked = float(value)
        if not ptype.accepts(checked):
            file, line = raw.where("parameters", name)
            at = f"{file}:{line}" if line is not None else file
            problems.append(
                org.problem(
                    path,
                    f"must be {ptype.describe()} (declared as {declared.type!r} in {at}), "
                    f"got {excerpt(value)}{_nearest_item(value, ptype.values)}",
                )
            )
            continue
        outside = declared.out_of_bounds(checked)
        if outside is not None:
            file, line = raw.where("parameters", name)
            at = f"{file}:{line}" if line is not None else file
            problems.append(
                org.problem(path, f"{outside} (declared in {at}), got {excerpt(value)}")
            )
            continue
        params[name] = declared.model_copy(update={"default": checked})
    return params


def _nearest_item(value: Any, allowed: frozenset[Any] | None) -> str:
    """ " (did you mean ...)" for the first string of ``value`` not in ``allowed``."""
    if not allowed:
        return ""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str) and item not in allowed:
            hint = did_you_mean(item, map(str, allowed))
            return f"; {item!r} is not one of them{hint}" if isinstance(value, list) else hint
    return ""
