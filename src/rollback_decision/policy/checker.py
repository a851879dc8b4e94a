"""Checks what the merged rules mean: every name a rule uses (facts, parameters, roles,
approvals, authorities, actions, outputs) exists and has the right type.

Every problem goes to the list the caller gives, with file, line, rule id and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from rollback_decision.decision import Action
from rollback_decision.errors import PolicyProblem, did_you_mean
from rollback_decision.policy.catalogue_checks import CatalogueChecker
from rollback_decision.policy.compiled import AUTHORITY_TEXT_FIELDS, CompiledRule, CompiledTable
from rollback_decision.policy.conditions import (
    FactScope,
    compile_condition,
    facts_read,
    parse_condition,
    unknown_fact,
)
from rollback_decision.policy.semantics import Aggregate, Combine
from rollback_decision.policy.spec import (
    OutputSpec,
    RuleSpec,
    TableSpec,
)
from rollback_decision.policy.templates import Template
from rollback_decision.policy.types import FactType
from rollback_decision.policy.yamlio import line_of

__all__ = ["Checker", "declared_type"]

COMBINE_STRATEGIES = tuple(c.value for c in Combine)
AGGREGATES = tuple(a.value for a in Aggregate)


class Checker(CatalogueChecker):
    """Checks the tables, after the catalogues they name."""

    def pipeline(self) -> list[TableSpec]:
        tables = {t.id: t for t in self.doc.tables if t.subject == "incident"}
        order = list(self.doc.pipeline or [])
        out: list[TableSpec] = []
        seen: set[str] = set()
        source = next(
            (f for f in self.raw.files if f.document and f.document.pipeline is not None), None
        )
        for index, name in enumerate(order):
            if name not in tables or name in seen:
                message = (
                    f"table {name!r} listed twice"
                    if name in seen
                    else "a readiness table (subject: deployment_plan) is not in the pipeline"
                    if any(t.id == name for t in self.doc.tables)
                    else f"unknown table {name!r}{did_you_mean(name, tables)}"
                )
                self.problems.append(
                    PolicyProblem(
                        file=source.name if source else "(policy)",
                        line=line_of(source.raw, ("pipeline", index)) if source else None,
                        key=f"pipeline.{index}",
                        message=message,
                    )
                )
                continue
            seen.add(name)
            out.append(tables[name])
        for name in tables:
            if name not in seen and self.doc.pipeline is not None:
                self.problem("tables", name, f"table {name!r} is not in the pipeline", "id")
        return out

    def table(
        self,
        spec: TableSpec,
        facts: dict[str, FactType],
        params: Mapping[str, tuple[FactType, Any]],
        authority_ids: frozenset[str],
        later: Mapping[str, str] | None = None,
    ) -> CompiledTable | None:
        """Check and compile ``spec``; ``later`` says which later table makes each derived
        fact its rules may not read yet (for the message)."""
        ok = True
        if spec.combine not in COMBINE_STRATEGIES:
            ok = False
            self.problem(
                "tables",
                spec.id,
                f"unknown combine strategy {spec.combine!r}"
                f"{did_you_mean(spec.combine, COMBINE_STRATEGIES)}; "
                f"expected one of {', '.join(COMBINE_STRATEGIES)}",
                "combine",
            )
        outputs: dict[str, FactType] = {}
        aggregates: dict[str, Aggregate] = {}
        for name, out in spec.outputs.items():
            ftype = self.output_type(spec, name, out, authority_ids)
            if name in facts:
                ok = False
                self.problem(
                    "tables",
                    spec.id,
                    f"output {name!r} would replace an existing fact",
                    "outputs",
                    name,
                )
            if ftype is None:
                ok = False
                continue
            outputs[name] = ftype
            if spec.combine == "collect":
                if out.aggregate not in AGGREGATES:
                    ok = False
                    agg = out.aggregate or ""
                    self.problem(
                        "tables",
                        spec.id,
                        f"a collect table says how to aggregate {name!r}: "
                        f"one of {', '.join(AGGREGATES)}"
                        + (f", got {agg!r}{did_you_mean(agg, AGGREGATES)}" if agg else ""),
                        "outputs",
                        name,
                    )
                elif ftype.kind not in Aggregate(out.aggregate).kinds:
                    ok = False
                    self.problem(
                        "tables",
                        spec.id,
                        f"cannot aggregate {ftype.describe()} with {out.aggregate!r}",
                        "outputs",
                        name,
                        "aggregate",
                    )
                else:
                    aggregates[name] = Aggregate(out.aggregate)
            elif out.aggregate is not None:
                ok = False
                self.problem(
                    "tables",
                    spec.id,
                    f"only collect tables aggregate; this table combines by {spec.combine!r}",
                    "outputs",
                    name,
                    "aggregate",
                )
        known_text = {*facts, *outputs, *params}
        if "authority" in facts or "authority" in outputs:
            known_text |= {f"authority.{f}" for f in AUTHORITY_TEXT_FIELDS}
        rules: list[CompiledRule] = []
        for index, rule in enumerate(spec.rules):
            scope = FactScope(facts, later or {})
            compiled = self.rule(spec, index, rule, scope, outputs, params, known_text)
            if compiled is None:
                ok = False
            else:
                rules.append(compiled)
        if not ok:
            return None
        return CompiledTable(
            id=spec.id,
            section=spec.section,
            combine=Combine(spec.combine),
            outputs=MappingProxyType(outputs),
            aggregates=MappingProxyType(aggregates),
            rules=tuple(rules),
        )

    def output_type(
        self, spec: TableSpec, name: str, out: OutputSpec, authority_ids: frozenset[str]
    ) -> FactType | None:
        ftype = declared_type(out, authority_ids, self.catalogue_ids)
        if ftype is None and out.type == "list":
            of = out.of or ""
            self.problem(
                "tables",
                spec.id,
                "a list output names the catalogue its ids come from: 'of' is one of "
                + ", ".join(self.catalogue_ids)
                + (f", got {of!r}{did_you_mean(of, self.catalogue_ids)}" if of else ""),
                "outputs",
                name,
            )
        elif ftype is None:
            self.problem("tables", spec.id, "an enum output lists its values", "outputs", name)
        return ftype

    def rule(
        self,
        table: TableSpec,
        index: int,
        rule: RuleSpec,
        facts: Mapping[str, FactType],
        outputs: Mapping[str, FactType],
        params: Mapping[str, tuple[FactType, Any]],
        known_text: set[str],
    ) -> CompiledRule | None:
        before = len(self.problems)
        base = ("rules", index)

        def report(message: str, path: tuple[str | int, ...]) -> None:
            self.problem("tables", table.id, message, *base, *path, rule_id=rule.id)

        condition = parse_condition(rule.when, facts, params, report)
        sets: list[tuple[str, Any, str | None]] = []
        for name, value in rule.set.items():
            here = ("set", name)
            if name not in outputs:
                if name in table.outputs:
                    continue  # its declaration is broken; already reported
                report(
                    f"sets {name!r}, which is not an output of table {table.id!r}"
                    f"{did_you_mean(name, outputs)}",
                    here,
                )
                continue
            otype = outputs[name]
            if isinstance(value, dict) and set(value) == {"param"}:
                pname = str(value["param"])
                if pname not in params:
                    report(f"unknown parameter {pname!r}{did_you_mean(pname, params)}", here)
                    continue
                ptype, pvalue = params[pname]
                if not otype.accepts(pvalue):
                    report(
                        f"{name!r} is {otype.describe()}; parameter {pname!r} is "
                        f"{ptype.describe()}",
                        here,
                    )
                    continue
                sets.append((name, tuple(pvalue) if isinstance(pvalue, list) else pvalue, None))
            elif isinstance(value, dict) and set(value) == {"fact"}:
                fname = str(value["fact"])
                if fname not in facts:
                    report(unknown_fact(fname, facts), here)
                    continue
                ftype = facts[fname]
                compatible = ftype.kind == otype.kind or (
                    ftype.kind in ("number", "integer") and otype.kind in ("number", "integer")
                )
                if ftype.kind == "enum" and otype.kind == "enum":
                    compatible = (ftype.values or set()) <= (otype.values or set())
                if not compatible:
                    report(
                        f"{name!r} is {otype.describe()}; fact {fname!r} is {ftype.describe()}",
                        here,
                    )
                    continue
                sets.append((name, None, fname))
            else:
                if (
                    isinstance(value, int)
                    and not isinstance(value, bool)
                    and otype.kind == "number"
                ):
                    value = float(value)
                if otype.kind == "list" and otype.ref is not None and isinstance(value, list):
                    unknown = [v for v in value if v not in (otype.values or ())]
                    for item in unknown:
                        report(
                            f"unknown id {item!r} in {otype.ref}"
                            f"{did_you_mean(str(item), otype.values or ())}",
                            here,
                        )
                    if unknown:
                        continue
                if not otype.accepts(value):
                    hint = (
                        did_you_mean(value, map(str, otype.values or ()))
                        if isinstance(value, str)
                        else ""
                    )
                    report(f"{name!r} must be {otype.describe()}, got {value!r}{hint}", here)
                    continue
                # Facts are hashable: a list literal is kept as a tuple.
                sets.append((name, tuple(value) if isinstance(value, list) else value, None))
        if table.combine != "collect":
            missing = [o for o in outputs if o not in rule.set]
            if missing:
                report(
                    f"must set every output of the table; missing {', '.join(missing)}", ("set",)
                )

        def template(text: str | None, key: str, names: set[str]) -> Template | None:
            if text is None:
                return None
            return Template.parse(text, names, lambda m: report(m, (key,)))

        because = template(rule.because, "because", known_text)
        if_not = template(rule.if_not, "if_not", known_text - set(outputs))
        if rule.if_not is not None and table.combine in ("unique", "collect"):
            report("'if_not' is said only by rules of first-match tables", ("if_not",))
        if len(self.problems) > before:
            return None
        return CompiledRule(
            id=rule.id,
            index=index,
            section=rule.section or table.section,
            condition=condition,
            predicate=compile_condition(condition),
            sets=tuple(sets),
            because=because,
            if_not=if_not,
            reads=facts_read(condition),
        )


def declared_type(
    out: OutputSpec,
    authority_ids: frozenset[str],
    catalogues: Mapping[str, frozenset[str]] | None = None,
) -> FactType | None:
    """The fact type an output declares (None for an enum without values, or a list of ids
    from an unknown catalogue)."""
    if out.type == "enum":
        return FactType("enum", frozenset(out.values), out.nullable) if out.values else None
    if out.type == "integer":
        return FactType("integer", frozenset(out.values) if out.values else None, out.nullable)
    if out.type == "action":
        return FactType("enum", frozenset(a.value for a in Action), out.nullable)
    if out.type == "authority":
        return FactType("ref", authority_ids, out.nullable, ref="authorities")
    if out.type == "list":
        if catalogues is None or out.of is None or out.of not in catalogues:
            return None
        return FactType("list", catalogues[out.of], out.nullable, ref=out.of)
    return FactType(out.type, None, out.nullable)
