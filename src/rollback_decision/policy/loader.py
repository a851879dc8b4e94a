"""Stage 2a: read the rule files, check their shape, and merge them into one document.

Every problem is collected (file, rule id, line) before anything is raised.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rollback_decision.errors import PolicyProblem
from rollback_decision.policy.plan import CATALOGUES as PLAN_CATALOGUES
from rollback_decision.policy.problems import (
    dotted,
    not_a_policy,
    read_problem,
    validation_problems,
)
from rollback_decision.policy.spec import PolicyDocument
from rollback_decision.policy.yamlio import (
    DEFAULT_LIMITS,
    Limits,
    YamlMap,
    YamlReadError,
    line_of,
    read_bytes,
    read_document,
    to_plain,
)

__all__ = [
    "RawPolicy",
    "SourceCache",
    "SourceFile",
    "display_name",
    "read_policy_dir",
    "read_source",
    "shipped_rules_dir",
]

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


def _locate(raw: Any) -> Any:
    """Rule id and key of a path in a rule file: a rule's keys are named inside the rule."""

    def locate(path: tuple[str | int, ...]) -> tuple[str | None, str | None]:
        if len(path) >= 4 and path[0] == "tables" and path[2] == "rules":
            try:
                rule_id = raw["tables"][path[1]]["rules"][path[3]]["id"]
            except (KeyError, IndexError, TypeError):
                rule_id = None
            if isinstance(rule_id, (str, int)) and not isinstance(rule_id, bool):
                return str(rule_id), dotted(path[4:])
        return None, dotted(path)

    return locate


class SourceCache:
    """Rule files already read and checked, by display name and sha256 of their bytes.

    Parsing is the slow part of loading, and many organisation policies share one base; a
    caller that loads many policies may hand one cache to each :func:`load_policy` call. It
    is keyed by content, never by size or time stamps, holds at most ``size`` files, and
    belongs to whoever made it (nothing is cached between calls otherwise).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], SourceFile] = OrderedDict()

    def get(self, name: str, digest: str) -> SourceFile | None:
        source = self._entries.get((name, digest))
        if source is not None:
            self._entries.move_to_end((name, digest))
        return source

    def put(self, source: SourceFile) -> None:
        self._entries[(source.name, source.digest)] = source
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def read_source(
    path: Path,
    name: str,
    problems: list[PolicyProblem],
    *,
    limits: Limits = DEFAULT_LIMITS,
    cache: SourceCache | None = None,
) -> SourceFile:
    """Read one rule file and check its shape; problems are appended, not raised.

    The file is read once: its hash and its rules come from the same bytes.
    """
    try:
        data = read_bytes(path, limits)
    except YamlReadError as exc:
        problems.append(read_problem(name, exc))
        return SourceFile(name, None, None, "")
    digest = hashlib.sha256(data).hexdigest()
    if cache is not None:
        cached = cache.get(name, digest)
        if cached is not None:
            return cached
    source = _check_source(name, data, digest, problems, limits)
    if cache is not None and source.document is not None:
        cache.put(source)
    return source


def _check_source(
    name: str, data: bytes, digest: str, problems: list[PolicyProblem], limits: Limits
) -> SourceFile:
    try:
        raw = read_document(data, limits=limits, name=name)
    except YamlReadError as exc:
        problems.append(read_problem(name, exc))
        return SourceFile(name, None, None, digest)
    if raw is None:
        raw = YamlMap(1)
    if not isinstance(raw, dict):
        problems.append(
            PolicyProblem(file=name, line=1, message="a rule file must be a mapping of sections")
        )
        return SourceFile(name, raw, None, digest)
    stranger = not_a_policy(name, raw, list(PolicyDocument.model_fields), "a rule file")
    if stranger is not None:
        problems.append(stranger)
        return SourceFile(name, None, None, digest)
    try:
        document = PolicyDocument.model_validate(to_plain(raw))
    except ValidationError as exc:
        problems.extend(
            validation_problems(exc, file=name, raw=raw, model=PolicyDocument, locate=_locate(raw))
        )
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


def read_policy_dir(
    directory: Path,
    problems: list[PolicyProblem],
    *,
    limits: Limits = DEFAULT_LIMITS,
    cache: SourceCache | None = None,
) -> RawPolicy:
    """Read every ``*.yaml`` file of ``directory`` (each must be a regular file)."""
    try:
        paths = sorted(
            p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and not p.is_dir()
        )
    except OSError as exc:
        problems.append(
            PolicyProblem(
                file=display_name(directory), message=f"cannot read folder: {exc.strerror}"
            )
        )
        return merge_sources([], problems)
    if not paths:
        problems.append(PolicyProblem(file=str(directory), message="no *.yaml rule files here"))
    sources = [read_source(p, display_name(p), problems, limits=limits, cache=cache) for p in paths]
    return merge_sources(sources, problems)


def display_name(path: Path) -> str:
    """How a file is named in messages: relative to the working directory when below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except (ValueError, OSError):  # not below it, or no working directory any more
        return str(path)
