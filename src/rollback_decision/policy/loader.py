"""Stage 2a: read the rule files, check their shape, and merge them into one document.

Every problem is collected (file, rule id, line) before anything is raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rollback_decision.errors import PolicyProblem, did_you_mean
from rollback_decision.policy.plan import CATALOGUES as PLAN_CATALOGUES
from rollback_decision.policy.spec import PolicyDocument
from rollback_decision.policy.yamlio import YamlReadError, line_of, read_yaml, to_plain

__all__ = ["RawPolicy", "SourceFile", "display_name", "read_policy_dir", "shipped_rules_dir"]

#: Sections that map ids to entries; an id may appear in one file only.
MAPPING_SECTIONS = (
    "parameters",
    "roles",
    "approvals",
    "authorities",
    "actions",
    "rollback_types",
    # The rollback plan: its phases, and the catalogues tables select from by id.
    "phases",
    *PLAN_CATALOGUES,
    # The clocks incident timelines run (rules/clocks.yaml).
    "clocks",
)


def shipped_rules_dir() -> Path:
    """The rules shipped with the package (inside the wheel, or beside ``src/`` in a checkout)."""
    packaged = resources.files("rollback_decision") / "_rules"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "rules"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - broken installation
        "the shipped rules are missing from this installation of rollback_decision"
    )


@dataclass
class SourceFile:
    """One rule file as read: its display name, raw tree (with lines) and checked document."""

    name: str
    raw: Any
    document: PolicyDocument | None
    digest: str


@dataclass
class RawPolicy:
    """Every rule file merged, with where each entry came from."""

    files: list[SourceFile]
    document: PolicyDocument
    #: (section, id) -> (file, path inside that file) for error reports.
    origins: dict[tuple[str, str], tuple[SourceFile, tuple[str | int, ...]]] = field(
        default_factory=dict
    )
    #: table id -> (file, index of the table in that file's ``tables`` list)
    table_origins: dict[str, tuple[SourceFile, int]] = field(default_factory=dict)
    #: (table id, rule index) -> (file, path of the rule in that file), for rules that an
    #: organisation policy moved, replaced or added (see :mod:`.overlay`).
    rule_origins: dict[tuple[str, int], tuple[SourceFile, tuple[str | int, ...]]] = field(
        default_factory=dict
    )

    def rule_origin(self, table: str, index: int) -> tuple[SourceFile, tuple[str | int, ...]]:
        """The file a table's rule comes from, and its path there."""
        if (table, index) in self.rule_origins:
            return self.rule_origins[(table, index)]
        source, position = self.table_origins[table]
        return source, ("tables", position, "rules", index)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        # By file name, not path: the same rules hash the same wherever they are installed.
        for source in sorted(self.files, key=lambda s: Path(s.name).name):
            digest.update(Path(source.name).name.encode())
            digest.update(b"\0")
            digest.update(source.digest.encode())
        return digest.hexdigest()

    def where(self, section: str, ident: str, *subpath: str | int) -> tuple[str, int | None]:
        """File name and line of an entry (and of a key inside it)."""
        if section == "tables":
            rule = subpath[1] if len(subpath) > 1 and subpath[0] == "rules" else None
            if isinstance(rule, int) and (ident, rule) in self.rule_origins:
                source, base = self.rule_origins[(ident, rule)]
                path: tuple[str | int, ...] = (*base, *subpath[2:])
            else:
                source, index = self.table_origins[ident]
                path = ("tables", index, *subpath)
        else:
            source, base = self.origins[(section, ident)]
            path = (*base, *subpath)
        return source.name, line_of(source.raw, path)


def _rule_id_at(raw: Any, loc: Sequence[Any]) -> str | None:
    if len(loc) >= 4 and loc[0] == "tables" and loc[2] == "rules":
        try:
            rid = raw["tables"][loc[1]]["rules"][loc[3]]["id"]
        except (KeyError, IndexError, TypeError):
            return None
        return str(rid)
    return None


def _shape_problems(name: str, raw: Any, exc: ValidationError) -> Iterable[PolicyProblem]:
    known = set(PolicyDocument.model_fields)
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            parent_fields = _fields_at(loc[:-1])
            message = f"unknown key{did_you_mean(str(loc[-1]), parent_fields or known)}"
        elif err["type"] == "missing":
            message = "required key is missing"
        else:
            message = f"{err['msg']}, got {err['input']!r}"
        rule_id = _rule_id_at(raw, loc)
        if rule_id is not None:
            key = ".".join(str(p) for p in loc[4:])
        yield PolicyProblem(
            file=name,
            line=line_of(raw, loc),
            rule_id=rule_id,
            key=key or None,
            message=message,
        )


def _fields_at(loc: Sequence[Any]) -> list[str]:
    """Field names of the spec model at ``loc`` (for "did you mean" on unknown keys)."""
    from rollback_decision.policy import spec

    if not loc:
        return list(PolicyDocument.model_fields)
    head = loc[0]
    if head == "tables":
        if len(loc) == 2:
            return list(spec.TableSpec.model_fields)
        if len(loc) == 4 and loc[2] == "rules":
            return list(spec.RuleSpec.model_fields)
        if len(loc) == 4 and loc[2] == "outputs":
            return list(spec.OutputSpec.model_fields)
    models: dict[str, type[BaseModel]] = {
        "parameters": spec.ParameterSpec,
        "roles": spec.RoleSpec,
        "approvals": spec.ApprovalSpec,
        "authorities": spec.AuthoritySpec,
        "actions": spec.ActionSpec,
        "rollback_types": spec.RollbackTypeSpec,
        "policy": spec.PolicyMeta,
        "phases": spec.PhaseSpec,
        "procedures": spec.ProcedureSpec,
        "checklists": spec.ChecklistSpec,
        "monitoring": spec.MonitoringSpec,
        "warnings": spec.WarningSpec,
        "stakeholder_groups": spec.StakeholderGroupSpec,
        "messages": spec.MessageSpec,
        "communication_plans": spec.CommunicationPlanSpec,
        "post_mortems": spec.PostMortemSpec,
        "clocks": spec.ClockSpec,
    }
    model = models.get(str(head))
    if model is None:
        return []
    if head == "policy" and len(loc) == 1:
        return list(model.model_fields)
    if head == "procedures" and len(loc) == 4 and loc[2] == "steps":
        return list(spec.StepSpec.model_fields)
    if head == "clocks" and len(loc) == 3 and loc[2] == "on_expiry":
        return list(spec.ClockExpirySpec.model_fields)
    return list(model.model_fields) if len(loc) == 2 else []


def read_source(path: Path, name: str, problems: list[PolicyProblem]) -> SourceFile:
    """Read one YAML file and check its shape; problems are appended, not raised."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(PolicyProblem(file=name, message=f"cannot read file: {exc.strerror}"))
        return SourceFile(name, None, None, "")
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = read_yaml(path)
    except YamlReadError as exc:
        problems.append(PolicyProblem(file=name, line=exc.line, message=exc.message))
        return SourceFile(name, None, None, digest)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(
            PolicyProblem(file=name, line=1, message="a rule file must be a mapping of sections")
        )
        return SourceFile(name, raw, None, digest)
    try:
        document = PolicyDocument.model_validate(to_plain(raw))
    except ValidationError as exc:
        problems.extend(_shape_problems(name, raw, exc))
        return SourceFile(name, raw, None, digest)
    return SourceFile(name, raw, document, digest)


def merge_sources(sources: list[SourceFile], problems: list[PolicyProblem]) -> RawPolicy:
    """Merge the documents of ``sources``; an id defined twice is a problem."""
    merged: dict[str, Any] = {name: {} for name in MAPPING_SECTIONS}
    merged["tables"] = []
    raw_policy = RawPolicy(files=sources, document=PolicyDocument())
    singletons: dict[str, SourceFile] = {}
    for source in sources:
        doc = source.document
        if doc is None:
            continue
        for single in ("policy", "pipeline"):
            if getattr(doc, single) is None:
                continue
            if single in singletons:
                problems.append(
                    PolicyProblem(
                        file=source.name,
                        line=line_of(source.raw, (single,)),
                        key=single,
                        message=f"defined again (first in {singletons[single].name})",
                    )
                )
                continue
            singletons[single] = source
            merged[single] = getattr(doc, single)
        for section in MAPPING_SECTIONS:
            for ident, entry in getattr(doc, section).items():
                key = (section, str(ident))
                if key in raw_policy.origins:
                    first = raw_policy.origins[key][0].name
                    problems.append(
                        PolicyProblem(
                            file=source.name,
                            line=line_of(source.raw, (section, ident)),
                            key=f"{section}.{ident}",
                            message=f"defined again (first in {first})",
                        )
                    )
                    continue
                raw_policy.origins[key] = (source, (section, ident))
                merged[section][ident] = entry
        for index, table in enumerate(doc.tables):
            if table.id in raw_policy.table_origins:
                first = raw_policy.table_origins[table.id][0].name
                problems.append(
                    PolicyProblem(
                        file=source.name,
                        line=line_of(source.raw, ("tables", index, "id")),
                        key=f"tables.{table.id}",
                        message=f"table defined again (first in {first})",
                    )
                )
                continue
            raw_policy.table_origins[table.id] = (source, index)
            merged["tables"].append(table)
    for single in ("policy", "pipeline"):
        if single not in singletons and sources:
            problems.append(
                PolicyProblem(
                    file=sources[0].name if len(sources) == 1 else "(policy)",
                    key=single,
                    message=f"no rule file defines {single!r}",
                )
            )
    raw_policy.document = PolicyDocument.model_construct(**merged)
    return raw_policy


def read_policy_dir(directory: Path, problems: list[PolicyProblem]) -> RawPolicy:
    """Read every ``*.yaml`` file of ``directory``."""
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not paths:
        problems.append(PolicyProblem(file=str(directory), message="no *.yaml rule files here"))
    sources = [read_source(p, display_name(p), problems) for p in paths]
    return merge_sources(sources, problems)


def display_name(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
