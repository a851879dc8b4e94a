"""Stage 2b: check what the merged rules mean, then compile them once into a ``Policy``.

Checks: every name a rule uses (facts, parameters, roles, approvals, authorities, actions,
outputs) exists and has the right type; tables are ordered so that each reads only the
incident and the outputs of tables before it; every Decision field is produced.
"""

from __future__ import annotations

from types import MappingProxyType

from rollback_decision.decision import PolicyIdentity
from rollback_decision.errors import PolicyProblem
from rollback_decision.policy.checker import Checker, declared_type
from rollback_decision.policy.clocks import compile_clocks
from rollback_decision.policy.compiled import (
    DECISION_FACTS,
    CompiledRule,
    CompiledTable,
    Policy,
    text_getter,
)
from rollback_decision.policy.loader import RawPolicy
from rollback_decision.policy.plan import check_plan_outputs, compile_plan
from rollback_decision.policy.types import input_fact_types

__all__ = ["CompiledRule", "CompiledTable", "Policy", "compile_policy", "text_getter"]


def compile_policy(raw: RawPolicy, problems: list[PolicyProblem]) -> Policy | None:
    """Check and compile ``raw``; on problems, append them and return None."""
    checker = Checker(raw, problems)
    doc = raw.document
    params = checker.parameters()
    authorities = checker.authorities(params)
    actions = checker.actions()
    checker.rollback_types()
    facts = dict(input_fact_types())
    producers: dict[str, str] = {}
    compiled: list[CompiledTable] = []
    failed: set[str] = set()
    rule_ids: dict[str, str] = {}
    for spec in doc.tables:
        for index, rule in enumerate(spec.rules):
            if rule.id in rule_ids:
                checker.problem(
                    "tables",
                    spec.id,
                    f"rule id {rule.id!r} is used again (first in table {rule_ids[rule.id]!r})",
                    "rules",
                    index,
                    "id",
                    rule_id=rule.id,
                )
            rule_ids.setdefault(rule.id, spec.id)
    authority_ids = frozenset(doc.authorities)
    pipeline = checker.pipeline()
    made_by: dict[str, str] = {}
    for spec in pipeline:
        for name in spec.outputs:
            made_by.setdefault(name, spec.id)
    for spec in pipeline:
        later = {n: t for n, t in made_by.items() if n not in facts and t != spec.id}
        table = checker.table(spec, facts, params, authority_ids, later)
        for name, out in spec.outputs.items():
            ftype = declared_type(out, authority_ids, checker.catalogue_ids)
            if name not in facts and ftype is not None:
                # Declared even when the table failed, so later tables are checked against
                # it instead of reporting a cascade of unknown names.
                facts[name] = ftype
                producers[name] = spec.id
        if table is not None:
            compiled.append(table)
        else:
            failed.add(spec.id)
    for name, kind in DECISION_FACTS.items():
        if producers.get(name) in failed:
            continue
        produced = facts.get(name) if name in producers else None
        expected = {"action": "enum", "authority": "ref"}.get(kind, kind)
        if produced is None:
            problems.append(
                PolicyProblem(
                    file="(policy)",
                    key=name,
                    message=f"no table in the pipeline produces {name!r}, which the decision needs",
                )
            )
        elif produced.kind != expected and not (
            expected == "number" and produced.kind == "integer"
        ):
            problems.append(
                PolicyProblem(
                    file="(policy)",
                    key=name,
                    message=f"{name!r} must be of type {kind}, but is {produced.describe()}",
                )
            )
    for name, message in check_plan_outputs(facts, producers):
        problems.append(PolicyProblem(file="(policy)", key=name, message=message))
    plan = compile_plan(doc, facts, params, checker.problem)
    clocks = compile_clocks(doc, params, checker.problem)
    from rollback_decision.readiness.rules import compile_readiness  # readiness reads Policy

    readiness = compile_readiness(checker, params, authority_ids)
    if problems or doc.policy is None:
        return None
    identity = PolicyIdentity(
        name=doc.policy.name, version=doc.policy.version, content_hash=raw.content_hash
    )
    return Policy(
        identity=identity,
        parameters=MappingProxyType({k: v for k, (_, v) in params.items()}),
        tables=tuple(compiled),
        authorities=MappingProxyType(authorities),
        authority_ranks=MappingProxyType(checker.authority_ranks),
        actions=MappingProxyType(actions),
        rollback_types=MappingProxyType(dict(doc.rollback_types)),
        role_names=MappingProxyType({k: r.name for k, r in doc.roles.items()}),
        document=doc,
        producers=MappingProxyType(producers),
        plan=plan,
        clocks=clocks,
        readiness=readiness,
    )
