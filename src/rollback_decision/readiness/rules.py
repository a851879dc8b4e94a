"""Readiness tables: the rule tables of ``rules/readiness.yaml`` (``subject: deployment_plan``).

They are compiled by the policy compiler's own table checker, over the deployment plan's facts
(:func:`plan_fact_types`) instead of the incident's: the same condition language, operators,
templates and table semantics. On top, the readiness vocabulary: a readiness table takes the
first (or the unique) matching rule, sets ``severity`` (pass, advisory, condition, blocker) and
may set ``approval`` (an id from the ``approvals`` of ``rules/authority.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rollback_decision.facts import Change
from rollback_decision.policy.types import FactType, input_fact_types
from rollback_decision.readiness.model import (
    TEST_DOCUMENTATION_FIELDS,
    DeploymentPlan,
    Prerequisite,
    RolloutStrategy,
    Severity,
)

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.policy.checker import Checker
    from rollback_decision.policy.compiled import CompiledTable

__all__ = ["OUTPUTS", "compile_readiness", "plan_fact_types", "plan_facts"]

#: The outputs a readiness table may declare (``severity`` is required).
OUTPUTS = ("severity", "approval")
_SEVERITIES = frozenset(s.value for s in Severity)
_TYPES = frozenset({1, 2, 3, 4, 5})


def plan_fact_types() -> dict[str, FactType]:
    """The facts readiness rules read, with their types: the change's fields flattened, the
    plan's, the last rollback test's, the classification's and one per prerequisite."""
    change = {k: v for k, v in input_fact_types().items() if k in Change.model_fields}
    boolean, maybe = FactType("boolean"), FactType("boolean", None, True)
    facts: dict[str, FactType] = {
        **change,
        "performance_critical": boolean,
        "high_risk": boolean,
        "rollout_strategy": FactType("enum", frozenset(s.value for s in RolloutStrategy)),
        "low_traffic_window": maybe,
        "rollback_tested": boolean,
        "tested_in_staging": maybe,
        "production_like_data": maybe,
        "under_load": maybe,
        "final_validation": FactType("enum", frozenset({"pass", "fail"}), True),
        "test_documentation_complete": maybe,
        "missing_test_documentation": FactType("list", frozenset(TEST_DOCUMENTATION_FIELDS)),
        "rollback_time_minutes": FactType("number", None, True),
        "rollback_type": FactType("integer", _TYPES),
        "rollback_budget_minutes": FactType("number", None, True),
    }
    for prerequisite in Prerequisite:
        facts[prerequisite.value] = maybe
    return facts


def plan_facts(plan: DeploymentPlan, rollback_type: int, budget: float | None) -> dict[str, Any]:
    """The facts of ``plan`` as readiness rules read them (lists as tuples, like incidents')."""
    test = plan.final_test
    facts: dict[str, Any] = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in plan.change.__dict__.items()
    }
    missing = tuple(test.missing_documentation()) if test is not None else ()
    facts.update(
        performance_critical=plan.performance_critical,
        high_risk=plan.high_risk,
        rollout_strategy=plan.rollout_strategy.value,
        low_traffic_window=plan.low_traffic_window,
        rollback_tested=test is not None,
        tested_in_staging=(
            None if test is None or test.environment is None else test.environment == "staging"
        ),
        production_like_data=test.production_like_data if test else None,
        under_load=test.under_load if test else None,
        final_validation=test.final_validation if test else None,
        test_documentation_complete=(not missing) if test is not None else None,
        missing_test_documentation=missing,
        rollback_time_minutes=test.rollback_time_minutes if test else None,
        rollback_type=rollback_type,
        rollback_budget_minutes=budget,
    )
    for prerequisite in Prerequisite:
        facts[prerequisite.value] = plan.prerequisites.get(prerequisite)
    return facts


def compile_readiness(
    checker: Checker,
    params: Mapping[str, tuple[FactType, Any]],
    authority_ids: frozenset[str],
) -> tuple[CompiledTable, ...]:
    """Check and compile the readiness tables of ``checker``'s document; problems go to the
    checker, at the file and line of the table or rule."""
    facts = plan_fact_types()
    approvals = frozenset(checker.doc.approvals)
    out: list[CompiledTable] = []
    for spec in checker.doc.tables:
        if spec.subject != "deployment_plan":
            continue
        ok = True
        if spec.combine == "collect":
            ok = False
            checker.problem(
                "tables",
                spec.id,
                "a readiness table takes one rule per plan: combine 'first' or 'unique'",
                "combine",
            )
        severity = spec.outputs.get("severity")
        if severity is None or severity.type != "enum" or not severity.values:
            ok = False
            checker.problem(
                "tables",
                spec.id,
                "a readiness table declares 'severity: {type: enum, values: [...]}'",
                "outputs",
            )
        elif not set(severity.values) <= _SEVERITIES:
            ok = False
            checker.problem(
                "tables",
                spec.id,
                "severity values are " + ", ".join(s.value for s in Severity),
                "outputs",
                "severity",
            )
        approval = spec.outputs.get("approval")
        if approval is not None and (
            approval.type != "enum" or not set(approval.values or ()) <= approvals
        ):
            ok = False
            unknown = sorted(set(map(str, approval.values or ())) - approvals)
            checker.problem(
                "tables",
                spec.id,
                "'approval' is an enum of approval ids from 'approvals'"
                + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
                "outputs",
                "approval",
            )
        for name in spec.outputs:
            if name not in OUTPUTS:
                ok = False
                checker.problem(
                    "tables",
                    spec.id,
                    f"a readiness table sets {' and '.join(OUTPUTS)} only, not {name!r}",
                    "outputs",
                    name,
                )
        for index, rule in enumerate(spec.rules):
            sets_severity = rule.set.get("severity")
            if sets_severity not in (None, "pass") and not rule.because:
                ok = False
                checker.problem(
                    "tables",
                    spec.id,
                    "a rule that reports a finding says why: 'because' is the finding's text",
                    "rules",
                    index,
                    rule_id=rule.id,
                )
        table = checker.table(spec, dict(facts), params, authority_ids)
        if table is not None and ok:
            out.append(table)
    return tuple(out)
