"""``assess_readiness``: may this deployment go out, and under what conditions?

The rollback type comes from the policy's own classification tables (the same rules that
classify an incident's change); the readiness findings from the readiness tables of
``rules/readiness.yaml``, evaluated with the one table semantics
(:func:`rollback_decision.policy.semantics.outcome`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from rollback_decision.engine.core import incident_facts
from rollback_decision.errors import DecisionError, IncidentError, did_you_mean
from rollback_decision.facts import Change, Incident, read_document_input
from rollback_decision.facts import _explain as _explain_incident
from rollback_decision.policy import Policy, default_policy
from rollback_decision.policy.compiler import CompiledTable
from rollback_decision.policy.semantics import outcome
from rollback_decision.policy.spec import ParamRef
from rollback_decision.readiness.model import (
    DeploymentPlan,
    ReadinessFinding,
    ReadinessResult,
    RollbackTest,
    Severity,
    Verdict,
)
from rollback_decision.readiness.rules import plan_facts

__all__ = [
    "DeploymentPlanError",
    "assess_readiness",
    "load_plan",
    "parse_plan",
    "render_readiness",
    "rollback_type_of",
]


class DeploymentPlanError(IncidentError):
    """A deployment plan that does not fit the model (or names an unknown approval)."""

    def _render(self) -> str:
        text = super()._render()
        head, sep, tail = text.rpartition("invalid incident: ")
        return head + "invalid deployment plan: " + tail if sep else text


def _matches(table: CompiledTable, facts: Mapping[str, Any]) -> list[int]:
    return [rule.index for rule in table.rules if rule.predicate(facts)]


def _run(table: CompiledTable, facts: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """The rule that fired and the table's outputs (a gap or overlap is a policy defect)."""
    result = outcome(table, _matches(table, facts), facts)
    if result.values is None:
        raise DecisionError(table.id, result.message(table))
    return result.fired[0], dict(zip(table.outputs, result.values, strict=True))


def rollback_type_of(change: Change, policy: Policy) -> tuple[int, float | None]:
    """The rollback type ``change`` will have under ``policy``'s classification, and that
    type's time budget in minutes (None for type 5)."""
    facts = incident_facts(Incident(related_to_deployment=True, change=change))
    producer = policy.producers["rollback_type"]
    for table in policy.tables:
        result = outcome(table, _matches(table, facts), facts)
        if result.values is None:
            raise DecisionError(table.id, result.message(table))
        facts.update(zip(table.outputs, result.values, strict=True))
        if table.id == producer:
            break
    rtype = int(facts["rollback_type"])
    budget = policy.rollback_types[rtype].budget_minutes
    if isinstance(budget, ParamRef):
        budget = policy.parameters[budget.param]
    return rtype, None if budget is None else float(budget)


def assess_readiness(
    plan: DeploymentPlan | Mapping[str, Any], policy: Policy | None = None
) -> ReadinessResult:
    """Assess ``plan`` (a :class:`DeploymentPlan` or a mapping of its fields) under ``policy``
    (default: the shipped policy): ``ready``, ``conditional`` (may go out once the listed
    approvals or conditions are met) or ``blocked``, with every finding and why."""
    plan = parse_plan(plan)
    policy = policy if policy is not None else default_policy()
    for index, approval in enumerate(plan.approvals):
        if approval not in policy.document.approvals:
            raise DeploymentPlanError(
                source=None,
                field=f"approvals.{index}",
                message=f"unknown approval {approval!r}"
                f"{did_you_mean(approval, policy.document.approvals)}",
            )
    rtype, budget = rollback_type_of(plan.change, policy)
    facts = plan_facts(plan, rtype, budget)
    texts: dict[str, Any] = {**policy.parameters, **facts}
    held = set(plan.approvals)
    findings: list[ReadinessFinding] = []
    required: list[str] = []
    for table in policy.readiness:
        fired, outputs = _run(table, facts)
        severity = Severity(outputs["severity"])
        needs: str | None = outputs.get("approval")
        if needs is not None and needs not in required:
            required.append(needs)
        if severity is Severity.PASS:
            continue
        rule = table.rules[fired]
        text = rule.because.render({**texts, **outputs}) if rule.because else rule.id
        findings.append(
            ReadinessFinding(
                rule_id=rule.id,
                table=table.id,
                section=rule.section,
                severity=severity,
                text=" ".join(text.split()),
                approval=needs,
                met=needs is not None and needs in held,
            )
        )
    verdict: Verdict = "ready"
    if any(f.severity is Severity.BLOCKER for f in findings):
        verdict = "blocked"
    elif any(f.severity is Severity.CONDITION and not f.met for f in findings):
        verdict = "conditional"
    test = plan.final_test
    return ReadinessResult(
        verdict=verdict,
        findings=findings,
        rollback_type=rtype,
        rollback_type_name=policy.rollback_types[rtype].name,
        rollback_budget_minutes=budget,
        required_approvals=required,
        missing_approvals=[a for a in required if a not in held],
        missing_test_documentation=test.missing_documentation() if test else [],
        policy=policy.identity,
    )


# -- reading plans ------------------------------------------------------------------------------


def parse_plan(
    data: DeploymentPlan | Mapping[str, Any], *, source: str | None = None, raw: Any = None
) -> DeploymentPlan:
    """Validate ``data`` into a :class:`DeploymentPlan`, naming the bad field on failure."""
    if isinstance(data, DeploymentPlan):
        return data
    if not isinstance(data, Mapping):
        raise DeploymentPlanError(
            source=source, field=None, message="expected a mapping of deployment plan fields"
        )
    try:
        return DeploymentPlan.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems: list[tuple[str | None, str]] = [
            (".".join(str(p) for p in err["loc"]) or "(top level)", _explain(err)) for err in errors
        ]
        line = _line_of(raw, tuple(errors[0]["loc"])) if raw is not None else None
        raise DeploymentPlanError.from_problems(source, problems, line=line) from None
    except RecursionError:
        raise DeploymentPlanError(
            source=source, field=None, message="nested too deeply to be a deployment plan"
        ) from None


def _explain(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        loc: Sequence[Any] = err["loc"]
        model: type[BaseModel] = DeploymentPlan
        if loc and loc[0] == "change":
            model = Change
        elif loc and loc[0] == "rollback_tests":
            model = RollbackTest
        return "unknown field" + did_you_mean(str(loc[-1]), model.model_fields)
    if err["type"] == "enum" and err["loc"] and err["loc"][0] == "prerequisites":
        choices = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        return "unknown prerequisite" + did_you_mean(str(err["input"]), choices)
    return _explain_incident(err)


def load_plan(path: str, *, max_bytes: int | None = None) -> DeploymentPlan:
    """Read a deployment plan from a YAML or JSON file (``-`` for standard input), with the
    limits incident files are read with."""
    name, plain, raw = read_document_input(
        path,
        max_bytes=max_bytes,
        error=DeploymentPlanError,
        empty="the deployment plan is empty (a plan with every field at its default is {})",
    )
    return parse_plan(plain, source=name, raw=raw)


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    from rollback_decision.policy.yamlio import line_of

    return line_of(raw, loc)


def render_readiness(result: ReadinessResult, *, source: str | None = None) -> str:
    """``result`` as a report to read in a terminal or a pipeline log."""
    budget = result.rollback_budget_minutes
    lines = [
        f"readiness: {result.verdict.upper()}" + (f" ({source})" if source else ""),
        f"rollback type {result.rollback_type} ({result.rollback_type_name})"
        + (f", budget {budget:g} min" if budget is not None else ", no rollback: fix forward"),
    ]
    if result.required_approvals:
        missing = set(result.missing_approvals)
        lines.append(
            "approvals: "
            + ", ".join(
                f"{a} ({'missing' if a in missing else 'granted'})"
                for a in result.required_approvals
            )
        )
    if result.missing_test_documentation:
        lines.append("test documentation missing: " + ", ".join(result.missing_test_documentation))
    for finding in result.findings:
        met = " (met)" if finding.met else ""
        lines.append(f"- {finding.severity.value}{met}: {finding.text}")
        lines.append(f"    [{finding.rule_id}] {finding.section}")
    ident = result.policy
    lines.append(f"policy: {ident.name} {ident.version} ({ident.content_hash[:12]})")
    return "\n".join(lines) + "\n"
