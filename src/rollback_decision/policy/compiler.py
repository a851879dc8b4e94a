"""Stage 2b: check what the merged rules mean, then compile them once into a ``Policy``.

Checks: every name a rule uses (facts, parameters, roles, approvals, authorities, actions,
outputs) exists and has the right type; tables are ordered so that each reads only the
incident and the outputs of tables before it; every Decision field is produced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from rollback_decision.decision import Action, Authority, PolicyIdentity
from rollback_decision.errors import PolicyProblem, did_you_mean
from rollback_decision.policy.clocks import ClockCatalogue, compile_clocks
from rollback_decision.policy.conditions import (
    Condition,
    Predicate,
    compile_condition,
    facts_read,
    parse_condition,
)
from rollback_decision.policy.loader import RawPolicy
from rollback_decision.policy.plan import (
    PlanCatalogue,
    catalogue_ids,
    check_plan_outputs,
    compile_plan,
)
from rollback_decision.policy.semantics import Aggregate, Combine
from rollback_decision.policy.spec import (
    ActionSpec,
    OutputSpec,
    ParamRef,
    PolicyDocument,
    RollbackTypeSpec,
    RuleSpec,
    TableSpec,
)
from rollback_decision.policy.templates import Template
from rollback_decision.policy.types import FactType, input_fact_types, parameter_type
from rollback_decision.policy.yamlio import line_of
from rollback_decision.runtime import Runtime

__all__ = ["CompiledRule", "CompiledTable", "Policy", "compile_policy", "text_getter"]

COMBINE_STRATEGIES = tuple(c.value for c in Combine)
AGGREGATES = tuple(a.value for a in Aggregate)

#: Facts the engine reads into the Decision, with the type each must have.
DECISION_FACTS = {
    "action": "action",
    "authority": "authority",
    "rollback_type": "integer",
    "rollback_eta": "number",
    "rollback_eta_estimated": "boolean",
}
#: Fields of an authority row that texts may use as ``{authority.FIELD}``.
AUTHORITY_TEXT_FIELDS = (
    "situation",
    "decided_by",
    "approval",
    "min_approvers",
    "approvers",
    "notify",
)


def text_getter(policy: Policy, name: str) -> Callable[[Mapping[str, Any]], Any]:
    """How a text placeholder reads its value from a decision's facts: a fact, a parameter,
    or ``{authority.FIELD}`` (one of :data:`AUTHORITY_TEXT_FIELDS`) of the authority row."""
    head, _, field = name.partition(".")
    if not field:
        if head in policy.parameters and head not in policy.producers:
            value = policy.parameters[head]
            return lambda facts: facts.get(head, value)
        return lambda facts: facts[head]
    roles = policy.role_names
    rows: dict[str, Any] = {}
    for ident, authority in policy.authorities.items():
        if field == "decided_by":
            rows[ident] = authority.decided_by_name
        elif field == "approval":
            rows[ident] = authority.approval_name
        elif field in ("approvers", "notify"):
            rows[ident] = [roles[r] for r in getattr(authority, field)]
        else:
            rows[ident] = getattr(authority, field)
    return lambda facts: rows[facts[head]]


@dataclass(frozen=True)
class CompiledRule:
    id: str
    index: int
    section: str
    condition: Condition
    predicate: Predicate
    #: (output, literal value or None, fact to copy or None)
    sets: tuple[tuple[str, Any, str | None], ...]
    because: Template | None
    if_not: Template | None
    #: facts the condition reads
    reads: frozenset[str]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: engines key caches on it
class CompiledTable:
    id: str
    section: str
    combine: Combine
    outputs: Mapping[str, FactType]
    aggregates: Mapping[str, Aggregate]
    rules: tuple[CompiledRule, ...]

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """Every fact a condition of this table reads, sorted: what its matches depend on."""
        return tuple(sorted(set().union(*(rule.reads for rule in self.rules))))

    def rule(self, rule_id: str) -> CompiledRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@dataclass(frozen=True)
class Policy:
    """A loaded, validated and compiled policy. Build it with :func:`load_policy`."""

    identity: PolicyIdentity
    parameters: Mapping[str, Any]
    tables: tuple[CompiledTable, ...]
    authorities: Mapping[str, Authority]
    actions: Mapping[Action, ActionSpec]
    rollback_types: Mapping[int, RollbackTypeSpec]
    role_names: Mapping[str, str]
    document: PolicyDocument
    #: which table produces each derived fact
    producers: Mapping[str, str]
    #: the plan's catalogues, pre-built (procedures, checklists, monitoring, ...)
    plan: PlanCatalogue | None = None
    #: the clocks incident timelines run (``rules/clocks.yaml``)
    clocks: ClockCatalogue = field(default_factory=lambda: ClockCatalogue(()))
    #: each authority's ``rank`` (None: unranked); the more severe the situation, the higher
    authority_ranks: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    #: the deployment readiness tables (``subject: deployment_plan``), in file order
    readiness: tuple[CompiledTable, ...] = ()
    #: everything remembered for this policy (see :mod:`rollback_decision.runtime`)
    runtime: Runtime = field(default_factory=Runtime, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.identity.name

    def table(self, table_id: str) -> CompiledTable:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def __repr__(self) -> str:
        ident = self.identity
        return f"<Policy {ident.name} {ident.version} {ident.content_hash[:12]}>"


class _Checker:
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
    ) -> CompiledTable | None:
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
            compiled = self.rule(spec, index, rule, facts, outputs, params, known_text)
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
                    report(f"unknown fact {fname!r}{did_you_mean(fname, facts)}", here)
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


def compile_policy(raw: RawPolicy, problems: list[PolicyProblem]) -> Policy | None:
    """Check and compile ``raw``; on problems, append them and return None."""
    checker = _Checker(raw, problems)
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
    for spec in checker.pipeline():
        table = checker.table(spec, facts, params, authority_ids)
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
