"""Checks of a policy's catalogues: parameters, authorities, actions and rollback types.

Every problem goes to the list the caller gives, with file, line and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollback_decision.decision import Action, Authority
from rollback_decision.errors import PolicyProblem, did_you_mean
from rollback_decision.policy.loader import RawPolicy
from rollback_decision.policy.plan import catalogue_ids
from rollback_decision.policy.spec import ActionSpec, ParamRef
from rollback_decision.policy.types import FactType, parameter_type

__all__ = ["CatalogueChecker"]


class CatalogueChecker:
    """Checks the catalogues; :class:`~rollback_decision.policy.checker.Checker` adds tables."""

    def __init__(self, raw: RawPolicy, problems: list[PolicyProblem]) -> None:
        self.raw = raw
        self.doc = raw.document
        self.problems = problems
        self.catalogue_ids = catalogue_ids(raw.document)
        self.authority_ranks: dict[str, int | None] = {}

    def problem(
        self,
        section: str,
        ident: str,
        message: str,
        *subpath: str | int,
        rule_id: str | None = None,
        key: str | None = None,
    ) -> None:
        try:
            file, line = self.raw.where(section, ident, *subpath)
        except KeyError:
            file, line = "(policy)", None
        if key is None:
            if section == "tables" and rule_id is not None:
                # Inside a rule: the key is relative to the rule, which is named already.
                key = ".".join(str(p) for p in subpath[2:]) or None
            else:
                key = ".".join(str(p) for p in (section, ident, *subpath))
        self.problems.append(
            PolicyProblem(file=file, line=line, rule_id=rule_id, key=key, message=message)
        )

    # -- parameters ---------------------------------------------------------------------------

    def parameters(self) -> dict[str, tuple[FactType, Any]]:
        roles = frozenset(self.doc.roles)
        out: dict[str, tuple[FactType, Any]] = {}
        for name, spec in self.doc.parameters.items():
            ptype = parameter_type(spec.type, roles)
            if ptype is None:
                choices = [
                    "number",
                    "integer",
                    "boolean",
                    "string",
                    "role",
                    "list[symptom]",
                    "list[component]",
                    "list[role]",
                    "list[action]",
                    "list[string]",
                ]
                self.problem(
                    "parameters",
                    name,
                    f"unknown parameter type {spec.type!r}{did_you_mean(spec.type, choices)}",
                    "type",
                )
                continue
            value = spec.default
            if ptype.kind == "number" and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            bounds, key = spec.bounds_problem(), "min"
            if bounds is None and ptype.accepts(value):
                outside = spec.out_of_bounds(value)
                bounds, key = (f"default {outside}, got {value:g}" if outside else None), "default"
            if bounds is not None:
                self.problem("parameters", name, bounds, key)
                out[name] = (ptype, None)  # still declared, as below
                continue
            if not ptype.accepts(value):
                self.problem(
                    "parameters",
                    name,
                    f"default must be {ptype.describe()}, got {value!r}"
                    + (
                        did_you_mean(str(value), map(str, ptype.values or ()))
                        if isinstance(value, str)
                        else ""
                    ),
                    "default",
                )
                # Still declared (with no value), so its uses are not reported as unknown.
                out[name] = (ptype, None)
                continue
            out[name] = (ptype, tuple(value) if isinstance(value, list) else value)
        return out

    def resolve(
        self, value: Any, params: Mapping[str, tuple[FactType, Any]], where: tuple[str, str, str]
    ) -> Any:
        if isinstance(value, ParamRef):
            if value.param not in params:
                self.problem(
                    where[0],
                    where[1],
                    f"unknown parameter {value.param!r}{did_you_mean(value.param, params)}",
                    where[2],
                )
                return None
            return params[value.param][1]
        return value

    # -- catalogues ---------------------------------------------------------------------------

    def authorities(self, params: Mapping[str, tuple[FactType, Any]]) -> dict[str, Authority]:
        roles = self.doc.roles
        out: dict[str, Authority] = {}
        for ident, spec in self.doc.authorities.items():
            decided_by = self.resolve(spec.decided_by, params, ("authorities", ident, "decided_by"))
            min_approvers = self.resolve(
                spec.min_approvers, params, ("authorities", ident, "min_approvers")
            )
            approvers = self.resolve(spec.approvers, params, ("authorities", ident, "approvers"))
            notify = self.resolve(spec.notify, params, ("authorities", ident, "notify"))
            ok = True
            for key, names in (
                ("decided_by", [decided_by] if decided_by is not None else []),
                ("approvers", list(approvers or [])),
                ("notify", list(notify or [])),
            ):
                for role in names:
                    if role not in roles:
                        ok = False
                        self.problem(
                            "authorities",
                            ident,
                            f"unknown role {role!r}{did_you_mean(str(role), roles)}",
                            key,
                        )
            if spec.approval not in self.doc.approvals:
                ok = False
                self.problem(
                    "authorities",
                    ident,
                    f"unknown approval {spec.approval!r}"
                    f"{did_you_mean(spec.approval, self.doc.approvals)}",
                    "approval",
                )
            if not isinstance(min_approvers, int) or isinstance(min_approvers, bool):
                ok = False
                self.problem(
                    "authorities",
                    ident,
                    f"min_approvers must be a whole number, got {min_approvers!r}",
                    "min_approvers",
                )
            if not ok or decided_by is None:
                continue
            out[ident] = Authority(
                situation=spec.situation,
                decided_by=decided_by,
                decided_by_name=roles[decided_by].name,
                approval=spec.approval,
                approval_name=self.doc.approvals[spec.approval].name,
                min_approvers=min_approvers,
                approvers=list(approvers or []),
                notify=list(notify or []),
                notify_names=[roles[r].name for r in notify or []],
                section=spec.section,
            )
            self.authority_ranks[ident] = spec.rank
        if any(spec.rank is not None for spec in self.doc.authorities.values()):
            for ident, spec in self.doc.authorities.items():
                if spec.rank is None:
                    self.problem(
                        "authorities",
                        ident,
                        "every authority needs a rank once one has one (verify compares them)",
                    )
        return out

    def actions(self) -> dict[Action, ActionSpec]:
        out: dict[Action, ActionSpec] = {}
        values = [a.value for a in Action]
        for ident, spec in self.doc.actions.items():
            if ident not in values:
                self.problem(
                    "actions", ident, f"unknown action {ident!r}{did_you_mean(ident, values)}"
                )
                continue
            out[Action(ident)] = spec
        missing = [a.value for a in Action if a not in out]
        if missing and self.doc.actions:
            first = next(iter(self.doc.actions))
            self.problem(
                "actions", first, f"actions not described: {', '.join(missing)}", key="actions"
            )
        elif missing:
            self.problems.append(
                PolicyProblem(
                    file="(policy)", key="actions", message="no rule file defines 'actions'"
                )
            )
        return out

    def rollback_types(self) -> None:
        present = set(self.doc.rollback_types)
        if present != {1, 2, 3, 4, 5}:
            detail = f"has {sorted(present)}" if present else "is missing"
            self.problems.append(
                PolicyProblem(
                    file="(policy)",
                    key="rollback_types",
                    message=f"must describe types 1, 2, 3, 4 and 5; {detail}",
                )
            )

    # -- tables -------------------------------------------------------------------------------
