"""The invariants of :mod:`rollback_decision.invariants`, checked over every class of a walk.

Invariants that depend on the incident run once per class, on a light decision (the fields
invariants read) made by the walk's memoised tables; invariants that depend only on the
decision run once per distinct decision, on the full Decision worked out afresh by the engine
being verified (no memo), so that a nondeterministic engine is caught.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.engine import decide
from rollback_decision.engine.core import (
    DECISION_OUTPUTS,
    assemble,
    incident_facts,
    run,
)
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Change, Incident
from rollback_decision.invariants import Decider, Invariant
from rollback_decision.policy import Policy
from rollback_decision.verify.along import light_decision
from rollback_decision.verify.classes import WalkClass
from rollback_decision.verify.incidents import Assignment, incident_from_assignment, minimal_mapping
from rollback_decision.verify.report import Finding
from rollback_decision.verify.tables import TableEval
from rollback_decision.verify.walk import Walk

__all__ = ["check_invariants"]


class _Oracle:
    """Decides derived incidents with the walk's memoised tables (same semantics, no text)."""

    def __init__(self, policy: Policy, walk: Walk, p: int) -> None:
        self.policy = policy
        self.decisions: dict[tuple[Any, ...], Decision] = {}
        tables = walk.tables[p] if walk.tables is not None else policy.tables
        self.evals: list[TableEval] = [
            walk.evals.get((p, t.id)) or TableEval(t, walk.matchers[p]) for t in tables
        ]
        # The decision depends on the input facts the tables read, and on nothing else.
        producers = policy.producers
        inputs = sorted({n for ev in self.evals for n in ev.needs if n not in producers})
        self.inputs = _getter(inputs)
        self.known: dict[tuple[Any, ...], Decision] = {}
        #: (fact varied, its value, what the other tables give) -> decision
        self.varied: dict[tuple[Any, ...], Decision] = {}
        self._varied: Incident | None = None
        #: per fact varied, the facts of ``_varied`` the tables not downstream of it make
        self._varied_derived: dict[str, dict[str, Any]] = {}
        self._downstream: dict[
            str,
            tuple[list[TableEval], list[TableEval], Callable[[Mapping[str, Any]], tuple[Any, ...]]],
        ] = {}

    def facts(self, incident: Incident) -> dict[str, Any]:
        return self._derive(incident_facts(incident))

    def _derive(
        self, facts: dict[str, Any], evals: Sequence[TableEval] | None = None
    ) -> dict[str, Any]:
        for ev in self.evals if evals is None else evals:
            result = ev(ev.pick(facts))
            if result.values is None:
                raise DecisionError(ev.table.id, f"the verifier found a {result.problem}")
            facts.update(zip(ev.outputs, result.values, strict=True))
        return facts

    def __call__(self, incident: Incident) -> Decision:
        return self._decide(incident_facts(incident))

    def with_fact(self, incident: Incident, name: str, value: Any) -> Decision:
        """The decision of ``incident`` with the fact ``name`` set to ``value`` (see
        :func:`~rollback_decision.invariants.decide_with`).

        The incident's facts are read and derived once for the many variations an invariant
        tries. Only the tables downstream of ``name`` run again, and their decision is
        remembered by what they read from the rest (and the decision fields the rest makes):
        incidents that differ only in ``name``, or in facts only the other tables read, share
        it (the later fix-forward ETAs of every run of a class; a higher severity)."""
        after, before, upstream = self._after(name)
        if incident is not self._varied:
            self._varied, self._varied_derived = incident, {}
        base = self._varied_derived.get(name)
        if base is None:
            # What the tables downstream of ``name`` read from the rest: only the tables
            # before them run.
            base = self._varied_derived[name] = self._derive(incident_facts(incident), before)
        key = (name, value, upstream(base))
        found = self.varied.get(key)
        if found is None:
            changed = {**base, name: value}
            self._derive(changed, after)
            found = self.varied[key] = light_decision(self.policy, changed, self.decisions)
        return found

    def _after(
        self, name: str
    ) -> tuple[list[TableEval], list[TableEval], Callable[[Mapping[str, Any]], tuple[Any, ...]]]:
        """The tables whose results can change with the input fact ``name``, the others, and
        what the decision of the first depends on besides ``name``: the facts they read that
        they do not make, and the decision fields they do not make."""
        found = self._downstream.get(name)
        if found is None:
            affected = {name}
            after: list[TableEval] = []
            before: list[TableEval] = []
            for ev in self.evals:
                if affected.intersection(ev.needs):
                    after.append(ev)
                    affected.update(ev.outputs)
                else:
                    before.append(ev)
            read = {n for ev in after for n in ev.needs} | set(DECISION_OUTPUTS)
            rest = sorted(read - affected)
            found = self._downstream[name] = (after, before, _getter(rest))
        return found

    def _decide(self, facts: dict[str, Any]) -> Decision:
        key = self.inputs(facts)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = light_decision(
                self.policy, self._derive(facts), self.decisions
            )
        return found


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A fast ``lambda facts: tuple(facts[n] for n in names)``."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    return lambda facts: tuple([facts[n] for n in names])


def check_invariants(policy: Policy, walk: Walk, invariants: Sequence[Invariant]) -> list[Finding]:
    oracle = _Oracle(policy, walk, 0)
    fresh = _fresh_decider(policy, walk)
    changes: dict[Assignment, Change] = {}
    derived = [(i, name) for i, (ns, name) in enumerate(walk.columns) if ns == 0]
    # Those the walk checked along a number have their findings in walk.along.
    along = walk.along.handled() if walk.along is not None else set()
    per_incident = [i for i in invariants if i.scope == "incident" and i.name not in along]
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
        incident = incident_from_assignment(cls.assignment, changes)
        decision = light_decision(policy, facts, oracle.decisions)
        for invariant in per_incident:
            try:
                message = invariant.run(policy, incident, decision, oracle)
            except DecisionError:
                # The incident it compares with falls into a gap or an overlap: the walk
                # reports that one where it found it; this comparison cannot be made.
                continue
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
    if walk.along is not None:
        for name, cls in walk.along.found.items():
            # The smallest incident that breaks it, with the invariant's own message.
            invariant = next(i for i in invariants if i.name == name)
            incident = incident_from_assignment(cls.assignment, changes)
            message = invariant.run(policy, incident, oracle(incident), oracle)
            if message is None:
                raise AssertionError(
                    f"invariant {name!r}: its check along "
                    f"{invariant.along.fact if invariant.along else '?'} and its run disagree "
                    f"on {minimal_mapping(cls.assignment)}"
                )
            violations[name] = (cls, message)
    if per_outcome:
        for cls in outcomes.values():
            incident = incident_from_assignment(cls.assignment, changes)
            full = fresh(incident)
            for invariant in per_outcome:
                message = invariant.check(policy, incident, full, fresh)
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


def _fresh_decider(policy: Policy, walk: Walk) -> Decider:
    """Full decisions by the engine being verified, each worked out afresh (no memo): the
    native engine's generated pipeline, as ``decide`` runs it, or the matcher given."""
    matcher = walk.matchers[0]

    def fresh(incident: Incident) -> Decision:
        valid = Incident.model_validate(incident.model_dump())
        if matcher is None:
            return decide(valid, policy=policy, remember=False)
        return assemble(policy, run(policy, valid, matcher), remember=False)

    return fresh
