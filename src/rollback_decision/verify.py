"""Prove what a policy does: ``verify_policy`` (gaps, overlaps, dead rules, invariants) and
``diff_policies`` (which decisions change), both over the whole discretised fact space.

See :mod:`rollback_decision.space` for how the space is built and walked.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from rollback_decision.decision import Action, Decision, PolicyIdentity
from rollback_decision.engine.core import (
    DECISION_OUTPUTS,
    Matcher,
    build_decision,
    incident_facts,
)
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Incident
from rollback_decision.invariants import INVARIANTS, Invariant
from rollback_decision.policy import CompiledTable, Policy, default_policy
from rollback_decision.policy.semantics import Aggregate, Combine
from rollback_decision.space import (
    FactSpace,
    TableEval,
    Walk,
    WalkClass,
    _classes,
    incident_from_assignment,
    minimal_mapping,
    split_tables,
    table_needs,
)

__all__ = [
    "DiffReport",
    "Finding",
    "Transition",
    "VerifyReport",
    "diff_policies",
    "verify_policy",
]

FindingKind = Literal["gap", "overlap", "shadowed", "unreachable", "invariant"]
EngineChoice = str | Matcher


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a policy, with the smallest incident that shows it (if any)."""

    kind: FindingKind
    subject: str
    message: str
    #: how many incidents of the discretised space show it
    count: int
    #: the smallest such incident, as a mapping of its non-default fields
    example: Mapping[str, Any] | None
    section: str | None = None

    def incident(self) -> Incident | None:
        return Incident.model_validate(self.example) if self.example is not None else None

    def render(self) -> str:
        head = f"{self.kind}: {self.subject}: {self.message}"
        if self.count:
            head += f" ({self.count:,} incidents)"
        if self.example is not None:
            head += f"\n    e.g. {_show(self.example)}"
        return head

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "count": self.count,
            "example": self.example,
            "section": self.section,
        }


def _show(example: Mapping[str, Any]) -> str:
    return (
        json.dumps(example, ensure_ascii=False, sort_keys=False) if example else "{} (all defaults)"
    )


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found, how large the space was and how long it took."""

    policy: PolicyIdentity
    engine: str
    space_size: int
    classes: int
    table_evaluations: int
    seconds: float
    domains: tuple[str, ...]
    fixed_facts: tuple[str, ...]
    invariants: tuple[str, ...]
    findings: tuple[Finding, ...]
    #: tables the decision does not depend on, checked rule by rule (see ``_check_sinks``)
    sink_tables: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def render_text(self) -> str:
        ident = self.policy
        lines = [
            f"verify: policy {ident.name} {ident.version} ({ident.content_hash[:12]}), "
            f"engine {self.engine}",
            f"space: {self.space_size:,} incidents in {self.classes:,} classes "
            f"({self.table_evaluations:,} table evaluations), {self.seconds:.2f} s",
            "facts:",
            *(f"  {d}" for d in self.domains),
            f"invariants: {', '.join(self.invariants)}",
        ]
        if self.sink_tables:
            lines.append(
                f"tables the decision does not depend on, checked rule by rule over every "
                f"reachable decision: {', '.join(self.sink_tables)}"
            )
        if self.ok:
            lines.append(
                "no findings: no gaps, no overlaps, every rule can fire, every invariant holds"
            )
        else:
            lines.append(f"{len(self.findings)} finding{'s' if len(self.findings) != 1 else ''}:")
            lines += [f"  {f.render()}" for f in self.findings]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.model_dump(mode="json"),
            "engine": self.engine,
            "space_size": self.space_size,
            "classes": self.classes,
            "table_evaluations": self.table_evaluations,
            "seconds": self.seconds,
            "domains": list(self.domains),
            "fixed_facts": list(self.fixed_facts),
            "invariants": list(self.invariants),
            "sink_tables": list(self.sink_tables),
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Transition:
    """Incidents whose decision changes from ``old`` to ``new`` (``None``: no decision)."""

    what: Literal["action", "authority", "rollback_type"]
    old: str | None
    new: str | None
    count: int
    example: Mapping[str, Any]

    def render(self) -> str:
        return (
            f"{_name(self.old)} → {_name(self.new)}: {self.count:,} incidents\n"
            f"    e.g. {_show(self.example)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "count": self.count,
            "example": self.example,
        }


def _name(value: str | None) -> str:
    return "(none)" if value is None else value


@dataclass(frozen=True)
class DiffReport:
    """Which decisions change between two policies, over the same discretised space."""

    old: PolicyIdentity
    new: PolicyIdentity
    space_size: int
    classes: int
    seconds: float
    transitions: tuple[Transition, ...]
    #: gaps or overlaps of either policy (they leave incidents undecided)
    findings: tuple[Finding, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.transitions or self.findings)

    def of(self, what: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.what == what)

    def counts(self, what: str = "action") -> dict[tuple[str | None, str | None], int]:
        """``{(old, new): incidents}`` for one kind of transition."""
        return {(t.old, t.new): t.count for t in self.of(what)}

    def render_text(self) -> str:
        def ident(p: PolicyIdentity) -> str:
            return f"{p.name} {p.version} ({p.content_hash[:12]})"

        lines = [
            f"diff: {ident(self.old)} → {ident(self.new)}",
            f"space: {self.space_size:,} incidents in {self.classes:,} classes, "
            f"{self.seconds:.2f} s",
        ]
        titles = {
            "action": "decisions that change",
            "authority": "authorities that change",
            "rollback_type": "rollback types that change",
        }
        for what, title in titles.items():
            found = self.of(what)
            if not found:
                lines.append(f"{title}: none")
                continue
            total = sum(t.count for t in found)
            lines.append(f"{title}: {total:,} incidents")
            lines += [f"  {t.render()}" for t in found]
        if self.findings:
            lines.append("incidents left undecided:")
            lines += [f"  {f.render()}" for f in self.findings]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.model_dump(mode="json"),
            "new": self.new.model_dump(mode="json"),
            "space_size": self.space_size,
            "classes": self.classes,
            "seconds": self.seconds,
            "changed": self.changed,
            "transitions": [t.to_dict() for t in self.transitions],
            "findings": [f.to_dict() for f in self.findings],
        }


# -- verify -------------------------------------------------------------------------------------


def _resolve_engine(engine: EngineChoice, policy: Policy) -> tuple[str, Matcher | None]:
    if callable(engine):
        return getattr(engine, "__name__", "custom"), engine
    if engine == "native":
        return "native", None  # the walk evaluates the compiled conditions itself
    from rollback_decision.engine import matcher_for

    return engine, matcher_for(engine, policy)


def verify_policy(
    policy: Policy | None = None,
    *,
    engine: EngineChoice = "native",
    invariants: Sequence[Invariant] = INVARIANTS,
) -> VerifyReport:
    """Check ``policy`` (default: the shipped one) over its whole discretised fact space.

    Reports gaps (no rule of a first or unique table decides), overlaps (several rules of a
    unique table match), rules that can never fire (never match, or always shadowed by an
    earlier rule) and invariant violations, each with the smallest incident that shows it.
    ``engine`` is an engine name or a :data:`~rollback_decision.engine.core.Matcher`.
    """
    policy = policy if policy is not None else default_policy()
    started = time.perf_counter()
    engine_name, matcher = _resolve_engine(engine, policy)
    core, sinks = split_tables(policy, DECISION_OUTPUTS)
    interface = sorted(
        {
            n
            for t in sinks
            for n in table_needs(t)
            if policy.producers.get(n) in {c.id for c in core}
        }
    )
    space = FactSpace([policy], [core])
    keep = frozenset().union(*(i.reads for i in invariants if i.scope == "incident"))
    walk = Walk(
        space,
        [matcher],
        keep=frozenset(keep),
        outputs=tuple(dict.fromkeys([*DECISION_OUTPUTS, *interface])),
        tables=[core],
    )
    walk.run()
    findings: list[Finding] = []
    findings += _structural(policy, walk, 0, tables=core)
    findings += _check_invariants(policy, walk, invariants)
    full_space = FactSpace([policy]) if sinks else space
    evaluated = walk.evaluated
    if sinks:
        count, sink_findings = _check_sinks(policy, matcher, walk, sinks, full_space)
        findings += sink_findings
        evaluated += count
    seconds = time.perf_counter() - started
    return VerifyReport(
        policy=policy.identity,
        engine=engine_name,
        space_size=walk.total(),
        classes=len(walk.final),
        table_evaluations=evaluated,
        seconds=seconds,
        domains=tuple(d.describe() for d in full_space.domains.values()),
        fixed_facts=tuple(d.name for d in full_space.domains.values() if not d.read),
        invariants=tuple(i.name for i in invariants),
        findings=tuple(findings),
        sink_tables=tuple(t.id for t in sinks),
    )


def _offer(into: dict[tuple[Any, ...], WalkClass], key: tuple[Any, ...], cls: WalkClass) -> None:
    """Add a class as one combination (weight 1): sinks count combinations, not incidents."""
    seen = into.get(key)
    if seen is None:
        into[key] = WalkClass(1, cls.assignment, cls.cost)
    elif cls.cost < seen.cost:
        seen.assignment, seen.cost = cls.assignment, cls.cost


def _check_sinks(
    policy: Policy,
    matcher: Matcher | None,
    core_walk: Walk,
    sinks: Sequence[CompiledTable],
    full_space: FactSpace,
) -> tuple[int, list[Finding]]:
    """Tables nothing in the decision depends on (plans, communication).

    Each sees every reachable combination of the decision facts it reads (from the walk) with
    every value of the incident facts it reads, as if those were independent; facts made by
    earlier sinks range over every combination of the values their rules can set. That
    over-approximates what reaches a sink: a rule that never fires here never fires at all.
    A collect table is checked rule by rule (can the rule fire?); a first or unique table as a
    whole, and a gap there is confirmed on a real incident before it is reported as certain.
    Returns the number of evaluations and the findings.
    """
    core_ids = {t.id for t in core_walk.tables[0]} if core_walk.tables else set()
    index = {c: i for i, c in enumerate(core_walk.columns)}
    projections: dict[tuple[str, ...], dict[tuple[Any, ...], WalkClass]] = {}

    def rows(names: tuple[str, ...]) -> dict[tuple[Any, ...], WalkClass]:
        found = projections.get(names)
        if found is None:
            found = projections[names] = {}
            for key, cls in core_walk.final.items():
                _offer(found, tuple(key[index[(0, n)]] for n in names), cls)
        return found

    made: dict[str, tuple[Any, ...]] = {}  # values of facts set by earlier sinks
    findings: list[Finding] = []
    evaluated = 0
    for table in sinks:
        if table.combine is not Combine.COLLECT:
            count, found = _walk_sink_table(policy, matcher, table, core_ids, rows, made)
            evaluated += count
            findings += found
            continue
        contributions: dict[str, list[Any]] = {name: [] for name in table.outputs}
        for rule in table.rules:
            needs = table_needs(replace(table, rules=(rule,)))
            space = FactSpace([policy], [[replace(table, rules=(rule,))]])
            from_core = tuple(n for n in needs if policy.producers.get(n) in core_ids)
            from_sinks = tuple(n for n in needs if n in policy.producers and n not in from_core)
            inputs = tuple(n for n in needs if n not in policy.producers)
            copies = any(source is not None for _, _, source in rule.sets)
            fired = False
            for row in rows(from_core):
                base = dict(zip(from_core, row, strict=True))
                domains: list[Sequence[Any]] = [made.get(n, (None,)) for n in from_sinks]
                for name in inputs:
                    domain = space.domains[name]
                    if domain.values is not None:
                        domains.append(domain.values)
                    else:
                        extra = [
                            v
                            for k, v in base.items()
                            if k in space.number_partners(name)
                            and isinstance(v, (int, float))
                            and not isinstance(v, bool)
                        ]
                        domains.append(space.number_points(name, extra))
                for combo in itertools.product(*domains):
                    facts = {**base, **dict(zip((*from_sinks, *inputs), combo, strict=True))}
                    evaluated += 1
                    if not rule.predicate(facts):
                        continue
                    fired = True
                    for name, value, source in rule.sets:
                        contributions[name].append(facts[source] if source is not None else value)
                    if not copies:
                        break
                if fired and not copies:
                    break
            if not fired:
                findings.append(
                    Finding(
                        kind="unreachable",
                        subject=f"rule {rule.id!r}",
                        message=f"never fires: its condition holds for no reachable decision "
                        f"and facts of table {table.id!r}",
                        count=0,
                        example=None,
                        section=rule.section,
                    )
                )
        for name in table.outputs:
            made[name] = _reachable(
                table.aggregates[name],
                contributions[name],
                table.outputs[name].nullable,
                full_space.list_sets(name),
            )
    return evaluated, findings


def _reachable(
    how: Aggregate, values: list[Any], nullable: bool, sets: Sequence[frozenset[Any]]
) -> tuple[Any, ...]:
    """Every value a collected output can take, given the values its rules can contribute."""
    empty: Any = how.of((), nullable)
    if how is Aggregate.UNION or any(isinstance(v, (list, tuple)) for v in values):
        items = list(dict.fromkeys(i for v in values for i in (v or ())))
        options: list[list[tuple[Any, ...]]] = [
            [(), (members[0],)] for members in _classes(items, sets)
        ]
        out = [tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*options)]
        return tuple(dict.fromkeys([empty, *out[1:]] if out else [empty]))
    distinct = list(dict.fromkeys(values))
    if how is Aggregate.SUM and len(distinct) <= 12:
        sums = {
            sum(c) for r in range(1, len(distinct) + 1) for c in itertools.combinations(distinct, r)
        }
        return (empty, *sorted(sums))
    if how in (Aggregate.ANY, Aggregate.ALL):
        return (False, True)
    return (empty, *distinct)


def _walk_sink_table(
    policy: Policy,
    matcher: Matcher | None,
    table: CompiledTable,
    core_ids: set[str],
    rows: Callable[[tuple[str, ...]], dict[tuple[Any, ...], WalkClass]],
    made: Mapping[str, tuple[Any, ...]],
) -> tuple[int, list[Finding]]:
    needs = table_needs(table)
    from_core = tuple(n for n in needs if policy.producers.get(n) in core_ids)
    from_sinks = tuple(n for n in needs if n in policy.producers and n not in from_core)
    columns = [(0, n) for n in (*from_core, *from_sinks)]
    start: dict[tuple[Any, ...], WalkClass] = {}
    for row, cls in rows(from_core).items():
        for combo in itertools.product(*(made.get(n, (None,)) for n in from_sinks)):
            _offer(start, (*row, *combo), cls)
    walk = Walk(
        FactSpace([policy], [[table]]),
        [matcher],
        outputs=(),
        tables=[[table]],
        start_columns=columns,
        start=start,
    )
    walk.run()
    from rollback_decision.engine import native
    from rollback_decision.engine.core import run

    out: list[Finding] = []
    for found in _structural(policy, walk, 0, tables=[table]):
        if found.kind in ("gap", "overlap") and found.example is not None:
            try:
                run(policy, Incident.model_validate(found.example), matcher or native.match)
                confirmed = False
            except DecisionError:
                confirmed = True
            if not confirmed:
                found = replace(
                    found,
                    message=found.message + " (possibly: this combination of decision and "
                    "facts may not be reachable)",
                )
        out.append(found)
    return walk.evaluated, out


def _structural(
    policy: Policy,
    walk: Walk,
    p: int,
    label: str = "",
    tables: Sequence[CompiledTable] | None = None,
) -> list[Finding]:
    out: list[Finding] = []
    for found in walk.findings:
        if found.policy != p:
            continue
        table = policy.table(found.table)
        if found.kind == "gap":
            message = f"no rule of this {table.combine}-match table decides"
            rules = ""
        else:
            message = f"several rules of this unique table match: {', '.join(found.rules)}"
            rules = ""
        out.append(
            Finding(
                kind="gap" if found.kind == "gap" else "overlap",
                subject=f"{label}table {found.table!r}{rules}",
                message=message,
                count=found.example.weight,
                example=minimal_mapping(found.example.assignment),
                section=table.section,
            )
        )
    undecided = any(f.policy == p for f in walk.findings)
    for table in tables if tables is not None else policy.tables:
        for rule in table.rules:
            key = (p, table.id, rule.index)
            if key in walk.fired:
                continue
            shadow = walk.shadowed.get(key)
            if shadow is not None:
                winner, example = shadow
                out.append(
                    Finding(
                        kind="shadowed",
                        subject=f"{label}rule {rule.id!r}",
                        message=f"never fires: wherever it matches, the earlier rule "
                        f"{table.rules[winner].id!r} of table {table.id!r} decides first",
                        count=example.weight,
                        example=minimal_mapping(example.assignment),
                        section=rule.section,
                    )
                )
            else:
                extra = " (or only where an earlier table left a gap)" if undecided else ""
                out.append(
                    Finding(
                        kind="unreachable",
                        subject=f"{label}rule {rule.id!r}",
                        message=f"never fires: its condition holds for no incident that reaches "
                        f"table {table.id!r}{extra}",
                        count=0,
                        example=None,
                        section=rule.section,
                    )
                )
    return out


def light_decision(
    policy: Policy, facts: Mapping[str, Any], cache: dict[tuple[Any, ...], Decision] | None = None
) -> Decision:
    """The decision fields invariants read (no rationale or plan), straight from the facts."""
    key = tuple(facts.get(name) for name in DECISION_OUTPUTS)
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = build_decision(policy, dict(zip(DECISION_OUTPUTS, key, strict=True)))
        if cache is not None:
            cache[key] = found
    return found


class _Oracle:
    """Decides derived incidents with the walk's memoised tables (same semantics, no text)."""

    def __init__(self, policy: Policy, walk: Walk, p: int) -> None:
        self.policy = policy
        self.decisions: dict[tuple[Any, ...], Decision] = {}
        tables = walk.tables[p] if walk.tables is not None else policy.tables
        self.evals: list[TableEval] = [
            walk.evals.get((p, t.id)) or TableEval(t, walk.matchers[p]) for t in tables
        ]

    def facts(self, incident: Incident) -> dict[str, Any]:
        facts = incident_facts(incident)
        for ev in self.evals:
            result = ev(ev.pick(facts))
            if result.values is None:
                raise DecisionError(ev.table.id, f"the verifier found a {result.problem}")
            facts.update(zip(ev.outputs, result.values, strict=True))
        return facts

    def __call__(self, incident: Incident) -> Decision:
        return light_decision(self.policy, self.facts(incident), self.decisions)


def _check_invariants(policy: Policy, walk: Walk, invariants: Sequence[Invariant]) -> list[Finding]:
    from rollback_decision.engine import decide

    oracle = _Oracle(policy, walk, 0)
    derived = [(i, name) for i, (ns, name) in enumerate(walk.columns) if ns == 0]
    per_incident = [i for i in invariants if i.scope == "incident"]
    per_outcome = [i for i in invariants if i.scope == "outcome"]
    violations: dict[str, tuple[WalkClass, str]] = {}
    outcomes: dict[tuple[Any, ...], WalkClass] = {}

    def note(invariant: Invariant, cls: WalkClass, message: str) -> None:
        seen = violations.get(invariant.name)
        if seen is None:
            violations[invariant.name] = (WalkClass(cls.weight, cls.assignment, cls.cost), message)
        else:
            if cls.cost < seen[0].cost:
                violations[invariant.name] = (seen[0], message)
            seen_cls = violations[invariant.name][0]
            seen_cls.offer(cls.weight, cls.assignment, cls.cost)

    for key, cls in walk.final.items():
        facts = {name: key[i] for i, name in derived}
        incident = incident_from_assignment(cls.assignment)
        decision = light_decision(policy, facts, oracle.decisions)
        for invariant in per_incident:
            message = invariant.check(policy, incident, decision, oracle)
            if message is not None:
                note(invariant, cls, message)
        outcome = (
            decision.action,
            facts.get("authority"),
            decision.rollback_type,
            decision.rollback_eta_minutes,
            decision.rollback_eta_estimated,
        )
        seen_outcome = outcomes.get(outcome)
        if seen_outcome is None:
            outcomes[outcome] = WalkClass(cls.weight, cls.assignment, cls.cost)
        else:
            seen_outcome.offer(cls.weight, cls.assignment, cls.cost)
    if per_outcome:
        for cls in outcomes.values():
            incident = incident_from_assignment(cls.assignment)
            full = decide(Incident.model_validate(incident.model_dump()), policy=policy)
            for invariant in per_outcome:
                message = invariant.check(policy, incident, full, oracle)
                if message is not None:
                    note(invariant, cls, message)
    out: list[Finding] = []
    for invariant in invariants:
        found = violations.get(invariant.name)
        if found is None:
            continue
        cls, message = found
        out.append(
            Finding(
                kind="invariant",
                subject=f"invariant {invariant.name!r}",
                message=message,
                count=cls.weight,
                example=minimal_mapping(cls.assignment),
                section=invariant.section,
            )
        )
    return out


# -- diff ---------------------------------------------------------------------------------------


def diff_policies(old: Policy, new: Policy, *, engine: EngineChoice = "native") -> DiffReport:
    """Which decisions change from ``old`` to ``new``, over the space both policies span.

    Transitions are counted per (old, new) pair of actions, authorities and rollback types,
    each with its smallest example incident.
    """
    started = time.perf_counter()
    wanted = ("action", "authority", "rollback_type")
    tables = [split_tables(old, wanted)[0], split_tables(new, wanted)[0]]
    space = FactSpace([old, new], tables)
    matchers = [_resolve_engine(engine, old)[1], _resolve_engine(engine, new)[1]]
    walk = Walk(space, matchers, outputs=wanted, tables=tables)
    walk.run()
    columns = {c: i for i, c in enumerate(walk.columns)}
    policies = (old, new)
    found: dict[tuple[str, Any, Any], WalkClass] = {}
    for key, cls in walk.final.items():
        values: list[dict[str, Any]] = []
        for p, policy in enumerate(policies):
            action = Action(key[columns[(p, "action")]])
            reports = policy.actions[action].reports_rollback_type
            rtype = key[columns[(p, "rollback_type")]] if reports else None
            values.append(
                {
                    "action": action.value,
                    "authority": key[columns[(p, "authority")]],
                    "rollback_type": None if rtype is None else str(rtype),
                }
            )
        for what in ("action", "authority", "rollback_type"):
            before, after = values[0][what], values[1][what]
            if before == after:
                continue
            k = (what, before, after)
            seen = found.get(k)
            if seen is None:
                found[k] = WalkClass(cls.weight, cls.assignment, cls.cost)
            else:
                seen.offer(cls.weight, cls.assignment, cls.cost)
    order = {"action": 0, "authority": 1, "rollback_type": 2}
    transitions = tuple(
        Transition(what, b, a, cls.weight, minimal_mapping(cls.assignment))  # type: ignore[arg-type]
        for (what, b, a), cls in sorted(
            found.items(), key=lambda kv: (order[kv[0][0]], -kv[1].weight, str(kv[0]))
        )
    )
    findings = [
        f
        for p, label in ((0, "old: "), (1, "new: "))
        for f in _structural(policies[p], walk, p, label, tables[p])
        if f.kind in ("gap", "overlap")
    ]
    return DiffReport(
        old=old.identity,
        new=new.identity,
        space_size=walk.total(),
        classes=len(walk.final),
        seconds=time.perf_counter() - started,
        transitions=transitions,
        findings=tuple(findings),
    )
