"""What an organisation policy file may say (its fixed keys and the shape of its changes), and
one file as read."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rollback_decision.errors import PolicyProblem
from rollback_decision.policy import loader
from rollback_decision.policy.loader import SourceFile
from rollback_decision.policy.problems import dotted, validation_problems
from rollback_decision.policy.spec import PolicyDocument, PolicyMeta, RuleSpec
from rollback_decision.policy.yamlio import line_of

__all__ = [
    "DEFAULT_BASE",
    "MAX_EXTENDS",
    "AddedRuleSpec",
    "OrgFile",
    "OrgPolicySpec",
    "RuleChanges",
    "catalogue_sections",
    "entry_noun",
    "entry_type",
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


def entry_type(section: str) -> tuple[Any, type[BaseModel]] | None:
    """Key type and entry model of a mapping section of :class:`PolicyDocument`."""
    info = PolicyDocument.model_fields.get(section)
    if info is None:
        return None
    args = typing.get_args(info.annotation)
    if len(args) == 2 and isinstance(args[1], type) and issubclass(args[1], BaseModel):
        return args[0], args[1]
    return None


def entry_noun(section: str) -> str:
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

    def validation_problems(
        self, exc: ValidationError, prefix: tuple[str | int, ...], model: type[BaseModel]
    ) -> Iterable[PolicyProblem]:
        """The problems of a pydantic error of a part of this file, at their lines."""
        return validation_problems(
            exc,
            file=self.source.name,
            raw=self.source.raw,
            model=model,
            prefix=prefix,
            locate=lambda path: (_rule_id_at(self.source.raw, path), dotted(path)),
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
