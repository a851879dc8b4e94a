"""Prove what a policy does: ``verify_policy`` (gaps, overlaps, dead rules, invariants) and
``diff_policies`` (which decisions change), both over the whole discretised fact space.

See :mod:`rollback_decision.space` for how the space is built and walked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rollback_decision.decision import Action, Decision, PolicyIdentity
from rollback_decision.engine.core import Matcher, incident_facts
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Incident
from rollback_decision.invariants import INVARIANTS, Invariant
from rollback_decision.policy import Policy, default_policy
from rollback_decision.space import (
    FactSpace,
    TableEval,
    Walk,
    WalkClass,
    incident_from_assignment,
    minimal_mapping,
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
    return json.dumps(example, ensure_ascii=False, sort_keys=False) if example else "{} (all defaults)"


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
        if self.ok:
            lines.append("no findings: no gaps, no overlaps, every rule can fire, every invariant holds")
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
    from rollback_decision.engine import _matcher

    return engine, _matcher(engine, policy)


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
    space = FactSpace([policy])
    keep = frozenset().union(*(i.reads for i in invariants if i.scope == "incident"))
    walk = Walk(space, [matcher], keep=frozenset(keep))
    walk.run()
    findings: list[Finding] = []
    findings += _structural(policy, walk, 0)
    findings += _check_invariants(policy, walk, invariants)
    seconds = time.perf_counter() - started
    return VerifyReport(
        policy=policy.identity,
        engine=engine_name,
        space_size=walk.total(),
        classes=len(walk.final),
        table_evaluations=walk.evaluated,
        seconds=seconds,
        domains=tuple(d.describe() for d in space.domains.values()),
        fixed_facts=tuple(d.name for d in space.domains.values() if not d.read),
        invariants=tuple(i.name for i in invariants),
        findings=tuple(findings),
    )


def _structural(policy: Policy, walk: Walk, p: int, label: str = "") -> list[Finding]:
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
    for table in policy.tables:
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


def light_decision(policy: Policy, facts: Mapping[str, Any]) -> Decision:
    """The decision fields invariants read (no rationale or plan), straight from the facts."""
    action = Action(facts["action"])
    reports_type = policy.actions[action].reports_rollback_type
    authority_id = facts.get("authority")
    return Decision.model_construct(
        action=action,
        authority=policy.authorities[authority_id] if authority_id is not None else None,
        rollback_type=facts.get("rollback_type") if reports_type else None,
        rollback_eta_minutes=facts.get("rollback_eta") if reports_type else None,
        rollback_eta_estimated=bool(facts.get("rollback_eta_estimated")) if reports_type else False,
        rationale=[],
        plan=[],
        checklists=[],
        monitoring=[],
        warnings=[],
        communication=None,
        policy=policy.identity,
    )


class _Oracle:
    """Decides derived incidents with the walk's memoised tables (same semantics, no text)."""

    def __init__(self, policy: Policy, walk: Walk, p: int) -> None:
        self.policy = policy
        self.evals: list[TableEval] = [
            walk.evals.get((p, t.id)) or TableEval(t, walk.matchers[p]) for t in policy.tables
        ]

    def facts(self, incident: Incident) -> dict[str, Any]:
        facts = {k: tuple(v) if isinstance(v, list) else v
                 for k, v in incident_facts(incident).items()}
        for ev in self.evals:
            result = ev(tuple(facts[n] for n in ev.needs))
            if result.outputs is None:
                raise DecisionError(ev.table.id, f"the verifier found a {result.problem}")
            facts.update(zip(ev.outputs, result.outputs, strict=True))
        return facts

    def __call__(self, incident: Incident) -> Decision:
        return light_decision(self.policy, self.facts(incident))


def _check_invariants(
    policy: Policy, walk: Walk, invariants: Sequence[Invariant]
) -> list[Finding]:
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
        decision = light_decision(policy, facts)
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


def diff_policies(
    old: Policy, new: Policy, *, engine: EngineChoice = "native"
) -> DiffReport:
    """Which decisions change from ``old`` to ``new``, over the space both policies span.

    Transitions are counted per (old, new) pair of actions, authorities and rollback types,
    each with its smallest example incident.
    """
    started = time.perf_counter()
    space = FactSpace([old, new])
    matchers = [_resolve_engine(engine, old)[1], _resolve_engine(engine, new)[1]]
    walk = Walk(space, matchers, outputs=("action", "authority", "rollback_type"))
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
        f for p, label in ((0, "old: "), (1, "new: "))
        for f in _structural(policies[p], walk, p, label) if f.kind in ("gap", "overlap")
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
