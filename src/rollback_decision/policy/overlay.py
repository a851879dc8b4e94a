"""Organisation policies: one YAML file layered over the shipped policy (or another policy).

A firm says what differs from the policy it ``extends``, and nothing else::

    extends: default                 # the shipped rules; or a path (relative to this file) to
                                     # another organisation policy file or to a rules folder
    policy:                          # this policy's identity on every decision (optional)
      name: acme-trading-rollback
      version: "2026.1"
    parameters:                      # values of parameters declared in rules/parameters.yaml
      fix_forward_window_minutes: 10
      critical_min_approvers: 3
    roles:                           # any catalogue section: change fields of an entry by id
      executive: {name: Head of Trading}
    add:                             # new catalogue entries (roles, approvals, parameters, ...)
      roles:
        trading_desk: {name: Trading desk}
    rules:                           # rules of the decision tables, by id
      disable: [tree.7.fix_faster]
      replace:
        - {id: tree.6.high_risk, when: ..., set: ..., because: ...}
      add:
        - {table: impact, before: impact.reported, id: acme.impact.x, when: ..., set: ...}

The overlay is applied to the merged rule files *before* the compiler runs, so the result is
checked exactly like the shipped rules; every entry the file changes is recorded as coming
from it, so a problem in an override is reported at the organisation file's line.

Mistakes that only an overlay can make (an unknown parameter, rule or entry id, a value of
the wrong type, a cycle of ``extends``, a missing base) are reported here, with "did you
mean" where a near name exists. Every problem of every file in the chain is collected before
anything is raised.
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from rollback_decision.errors import PolicyProblem, did_you_mean, excerpt
from rollback_decision.policy import loader
from rollback_decision.policy.loader import (
    RawPolicy,
    SourceCache,
    SourceFile,
    display_name,
    read_policy_dir,
)
from rollback_decision.policy.problems import dotted, not_a_policy, validation_problems
from rollback_decision.policy.spec import PolicyDocument, PolicyMeta, RuleSpec
from rollback_decision.policy.types import parameter_type
from rollback_decision.policy.yamlio import (
    DEFAULT_LIMITS,
    Limits,
    YamlReadError,
    line_of,
    read_bytes,
    read_document,
    to_plain,
)

__all__ = [
    "DEFAULT_BASE",
    "MAX_EXTENDS",
    "AddedRuleSpec",
    "OrgPolicySpec",
    "RuleChanges",
    "catalogue_sections",
    "read_org_policy",
]

#: The value of ``extends`` that names the shipped policy.
DEFAULT_BASE = "default"
#: Most organisation policy files one chain of ``extends`` may go through.
MAX_EXTENDS = 16

_STRICT = ConfigDict(extra="forbid", frozen=True)


class AddedRuleSpec(RuleSpec):
    """A new rule, and where it goes: ``before`` or ``after`` a rule of ``table``, else last.

    In a first-match table ending with a catch-all rule, a rule placed last would never
    match; it must say ``before``.
    """

    table: str
    before: str | None = None
    after: str | None = None

    def rule(self) -> RuleSpec:
        """The rule itself, without its placement."""
        return RuleSpec.model_validate(
            self.model_dump(exclude={"table", "before", "after"}, exclude_unset=True)
        )


class RuleChanges(BaseModel):
    """Changes to the rules of the decision tables, by rule id.

    Applied in this order: ``replace`` (in place, same id), ``disable``, then ``add``.
    """

    model_config = _STRICT
    disable: list[str] = Field(default_factory=list, description="Ids of rules to drop.")
    replace: list[RuleSpec] = Field(
        default_factory=list, description="Whole rules; each id names the rule it replaces."
    )
    add: list[AddedRuleSpec] = Field(default_factory=list, description="New rules.")


class OrgPolicySpec(BaseModel):
    """The fixed keys of an organisation policy file.

    Besides these, the file may hold one key per catalogue section of the rules (``roles``,
    ``approvals``, ``authorities``, ``actions``, ``rollback_types``, and any section added to
    the rules later): a mapping of existing ids to the fields that change.
    """

    model_config = _STRICT
    extends: str = Field(
        description="'default' (the shipped policy), or a path relative to this file: another "
        "organisation policy file, or a folder of rule files."
    )
    policy: PolicyMeta | None = Field(
        default=None, description="Name and version on every decision made under this policy."
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values of declared parameters, by name."
    )
    add: dict[str, dict[Any, Any]] = Field(
        default_factory=dict,
        description="New catalogue entries: section -> id -> the whole entry.",
    )
    rules: RuleChanges = Field(default_factory=RuleChanges)


def catalogue_sections() -> tuple[str, ...]:
    """Sections of the rules whose entries an organisation may change by id."""
    return tuple(s for s in loader.MAPPING_SECTIONS if s != "parameters")


def _entry_type(section: str) -> tuple[Any, type[BaseModel]] | None:
    """Key type and entry model of a mapping section of :class:`PolicyDocument`."""
    info = PolicyDocument.model_fields.get(section)
    if info is None:
        return None
    args = typing.get_args(info.annotation)
    if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return args[0], args[1]
    return None


def _noun(section: str) -> str:
    irregular = {"authorities": "authority", "rollback_types": "rollback type"}
    return irregular.get(section, section[:-1] if section.endswith("s") else section)


@dataclass
class OrgFile:
    """One organisation policy file as read."""

    path: Path
    source: SourceFile
    spec: OrgPolicySpec | None
    #: catalogue section -> id -> fields that change (plain values)
    changes: dict[str, dict[Any, Any]] = field(default_factory=dict)
    #: rules.OP -> position in the file of each valid change (when some were invalid)
    rule_positions: dict[str, list[int]] = field(default_factory=dict)

    def rule_path(self, op: str, index: int) -> tuple[str | int, ...]:
        """Path in the file of the ``index``-th valid change of ``rules.OP``."""
        positions = self.rule_positions.get(op)
        return ("rules", op, positions[index] if positions else index)

    def problem(
        self,
        path: Sequence[str | int],
        message: str,
        *,
        key: str | None = None,
        rule_id: str | None = None,
    ) -> PolicyProblem:
        return PolicyProblem(
            file=self.source.name,
            line=line_of(self.source.raw, path),
            rule_id=rule_id,
            key=key if key is not None else ".".join(str(p) for p in path) or None,
            message=message,
        )


# -- reading the chain ------------------------------------------------------------------------


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
        _apply(raw, org, problems)
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
        problems.append(PolicyProblem(file=name, line=exc.line, key=exc.key, message=exc.message))
        return OrgFile(path, SourceFile(name, None, None, ""), None)
    # Read once: the hash and the changes come from the same bytes.
    source = SourceFile(name, None, None, hashlib.sha256(data).hexdigest())
    org = OrgFile(path, source, None)
    try:
        raw = read_document(data, limits=limits, name=name)
    except YamlReadError as exc:
        problems.append(PolicyProblem(file=name, line=exc.line, key=exc.key, message=exc.message))
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
                problems.append(org.problem((key,), f"expected a mapping of {_noun(key)} ids"))
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
        problems.extend(_validation_problems(org, exc, (), OrgPolicySpec))
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


# -- pydantic errors as problems ----------------------------------------------------------------


def _validation_problems(
    org: OrgFile, exc: ValidationError, prefix: tuple[str | int, ...], model: type[BaseModel]
) -> Iterable[PolicyProblem]:
    return validation_problems(
        exc,
        file=org.source.name,
        raw=org.source.raw,
        model=model,
        prefix=prefix,
        locate=lambda path: (_rule_id_at(org.source.raw, path), dotted(path)),
    )


def _rule_id_at(raw: Any, path: Sequence[str | int]) -> str | None:
    if len(path) >= 3 and path[0] == "rules" and path[1] in ("replace", "add"):
        try:
            rule_id = raw["rules"][path[1]][path[2]]["id"]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(rule_id, (str, int)) and not isinstance(rule_id, bool):
            return str(rule_id)
    return None


# -- applying one file ---------------------------------------------------------------------------


def _apply(raw: RawPolicy, org: OrgFile, problems: list[PolicyProblem]) -> None:
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
    tables = _change_rules(raw, org, document, problems)
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
    typed = _entry_type(section)
    if not changes or typed is None:
        return None
    _, model = typed
    entries: dict[Any, Any] = dict(getattr(raw.document, section))
    ids = {str(k): k for k in entries}
    noun = _noun(section)
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
            problems.extend(_validation_problems(org, exc, path, model))
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
    typed = _entry_type(section)
    if section not in allowed or typed is None:
        problems.append(
            org.problem(where, f"no section {section!r} to add to{did_you_mean(section, allowed)}")
        )
        return None
    key_type, model = typed
    entries: dict[Any, Any] = dict(update.get(section, getattr(raw.document, section)))
    ids = {str(k) for k in entries}
    adapter: TypeAdapter[dict[Any, Any]] = TypeAdapter(dict[key_type, model])  # type: ignore[valid-type]
    noun = _noun(section)
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
            problems.extend(_validation_problems(org, exc, where, model))
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


# -- rules ---------------------------------------------------------------------------------------

_Origin = tuple[SourceFile, tuple[str | int, ...]]


def _change_rules(
    raw: RawPolicy, org: OrgFile, document: PolicyDocument, problems: list[PolicyProblem]
) -> list[Any]:
    """The tables with ``org``'s rule changes applied; rule origins updated in ``raw``."""
    spec = org.spec
    tables = list(document.tables)
    if spec is None or not (spec.rules.disable or spec.rules.replace or spec.rules.add):
        return tables
    work: dict[str, list[tuple[RuleSpec, _Origin]]] = {}
    for table in tables:
        work[table.id] = [
            (rule, raw.rule_origin(table.id, index)) for index, rule in enumerate(table.rules)
        ]
    home = {rule.id: tid for tid, rules in work.items() for rule, _ in rules}
    changes = spec.rules

    def unknown(rid: str) -> str:
        return f"unknown rule {rid!r}{did_you_mean(rid, home)}"

    replaced: set[str] = set()
    for index, rule in enumerate(changes.replace):
        path = org.rule_path("replace", index)
        if rule.id not in home:
            problems.append(org.problem((*path, "id"), unknown(rule.id), rule_id=rule.id))
            continue
        if rule.id in replaced:
            problems.append(org.problem(path, "replaced twice in this file", rule_id=rule.id))
            continue
        replaced.add(rule.id)
        rules = work[home[rule.id]]
        at = next(i for i, (r, _) in enumerate(rules) if r.id == rule.id)
        rules[at] = (rule, (org.source, path))

    disabled: set[str] = set()
    for index, rid in enumerate(changes.disable):
        path = org.rule_path("disable", index)
        if rid not in home:
            problems.append(org.problem(path, unknown(rid), rule_id=rid))
            continue
        if rid in replaced or rid in disabled:
            what = "replaced" if rid in replaced else "disabled"
            problems.append(org.problem(path, f"already {what} in this file", rule_id=rid))
            continue
        disabled.add(rid)
        rules = work[home[rid]]
        rules[:] = [(r, o) for r, o in rules if r.id != rid]
        if not rules:
            problems.append(
                org.problem(path, f"disables every rule of table {home[rid]!r}", rule_id=rid)
            )

    combine = {table.id: table.combine for table in tables}
    for index, added in enumerate(changes.add):
        path = org.rule_path("add", index)
        problem = _place(work, combine, home, disabled, added, (org.source, path))
        if problem is not None:
            key, message = problem
            problems.append(org.problem((*path, key), message, rule_id=added.id))
            continue
        home[added.id] = added.table

    out = []
    for table in tables:
        rules = work[table.id]
        for stale in [k for k in raw.rule_origins if k[0] == table.id]:
            del raw.rule_origins[stale]
        for index, (_, origin) in enumerate(rules):
            raw.rule_origins[(table.id, index)] = origin
        if [r for r, _ in rules] != list(table.rules):
            table = table.model_copy(update={"rules": [r for r, _ in rules]})
        out.append(table)
    return out


def _place(
    work: dict[str, list[tuple[RuleSpec, _Origin]]],
    combine: Mapping[str, str],
    home: Mapping[str, str],
    disabled: set[str],
    added: AddedRuleSpec,
    origin: _Origin,
) -> tuple[str, str] | None:
    """Insert ``added`` into its table; or return (key, message) saying why not."""
    if added.table not in work:
        return "table", f"unknown table {added.table!r}{did_you_mean(added.table, work)}"
    if added.id in home:
        return "id", (
            f"rule id {added.id!r} is already used in table {home[added.id]!r}; "
            "to change that rule, list it under 'rules: replace:'"
        )
    if added.before is not None and added.after is not None:
        return "before", "say 'before' or 'after', not both"
    rules = work[added.table]
    rule = added.rule()
    anchor = added.before if added.before is not None else added.after
    if anchor is None:
        last = rules[-1][0] if rules else None
        if combine[added.table] == "first" and last is not None and not last.when:
            return "table", (
                f"the rule would never match: table {added.table!r} takes the first match and "
                f"ends with the catch-all rule {last.id!r}; place it with 'before: {last.id}'"
            )
        rules.append((rule, origin))
        return None
    key = "before" if added.before is not None else "after"
    ids = [r.id for r, _ in rules]
    if anchor not in ids:
        if anchor in disabled:
            return key, f"rule {anchor!r} is disabled in this file"
        where = f" (it is in table {home[anchor]!r})" if anchor in home else ""
        return key, (
            f"no rule {anchor!r} in table {added.table!r}{where}"
            f"{did_you_mean(anchor, ids) if not where else ''}"
        )
    at = ids.index(anchor) + (1 if key == "after" else 0)
    rules.insert(at, (rule, origin))
    return None
