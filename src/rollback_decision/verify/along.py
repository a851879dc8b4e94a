"""Invariants checked along a number at the one table that reads it.

An invariant with an :class:`~rollback_decision.invariants.Along` (a later fix never turns a
rollback into a fix forward; equal times go to rollback) reads one number, the fix-forward
ETA, that a single table of the walk reads. Kept to the end of the walk for the invariant, that
number would multiply the final classes by the stretches of it each class meets (about four
in five of them with 50 added rules), and every other invariant would run once per stretch.
Instead the walk sums it out at that table like any local input, and hands each class's
segments (the stretches of values the table treats alike, each with its result) here: the
invariant is checked over all of them at once, once per plan of the table and decision
fields of the class, and each failure counts the class's incidents in the failing segments,
with the first smallest of them as its counterexample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.engine.core import DECISION_OUTPUTS, build_decision
from rollback_decision.invariants import Invariant
from rollback_decision.policy import Policy
from rollback_decision.verify.classes import Column, WalkClass, getter
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.runs import Plan

__all__ = ["AlongChecks", "AlongUnavailable", "AlongVisit", "light_decision"]

#: The combinations of a table's local inputs: (values, non-default pairs, how many).
Combos = Sequence[tuple[tuple[Any, ...], Assignment, int]]


def light_decision(
    policy: Policy, facts: Mapping[str, Any], cache: dict[tuple[Any, ...], Decision] | None = None
) -> Decision:
    """The decision fields invariants read (no rationale or plan), straight from the facts;
    a decision fact the facts lack is None."""
    key = tuple(map(facts.get, DECISION_OUTPUTS))
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = build_decision(policy, dict(zip(DECISION_OUTPUTS, key, strict=True)))
        if cache is not None:
            cache[key] = found
    return found


class AlongUnavailable(Exception):
    """A number invariants are checked along is not summed out at the one table that reads
    it (a later table reads it too, or it is introduced with a number it is compared with):
    the walk has to keep it for them."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class AlongChecks:
    """The invariants a walk checks along numbers, and what it found: per invariant, the
    weight of the incidents that break it and the first smallest of them."""

    def __init__(self, policy: Policy, invariants: Sequence[Invariant]) -> None:
        self.policy = policy
        self.by_fact: dict[str, list[Invariant]] = {}
        for invariant in invariants:
            if invariant.along is not None and invariant.scope == "incident":
                self.by_fact.setdefault(invariant.along.fact, []).append(invariant)
        #: the numbers the walk summed out and checked them along
        self.swept: set[str] = set()
        self.found: dict[str, WalkClass] = {}
        self.decisions: dict[tuple[Any, ...], Decision] = {}

    def handled(self) -> set[str]:
        """The names of the invariants checked here."""
        return {i.name for invariants in self.by_fact.values() for i in invariants}

    def number(
        self, new_inputs: Sequence[str], local: list[str], run_name: str | None
    ) -> str | None:
        """The number introduced at a table that invariants are checked along, made the last
        of its ``local`` inputs (it must be one, with no run number: else
        :class:`AlongUnavailable`)."""
        names = [n for n in new_inputs if n in self.by_fact]
        for name in names:
            if name not in local or run_name is not None or len(names) > 1:
                raise AlongUnavailable(name)
            local.remove(name)
            local.append(name)  # last, so that its points vary fastest
            self.swept.add(name)
            return name
        return None

    def at(
        self,
        name: str,
        p: int,
        columns: Sequence[Column],
        outputs: Sequence[str],
        at: int,
        domains: Callable[[tuple[Any, ...]], Combos],
    ) -> AlongVisit:
        """What the walk asks at the table of policy ``p`` that sums out ``name``, the local
        input at position ``at`` of the combinations ``domains`` gives, with the walk's
        ``columns`` before it and the table's ``outputs``."""
        return AlongVisit(self, self.by_fact[name], p, columns, outputs, at, domains)


class AlongVisit:
    """The along checks at one table: each plan's failing segments are worked out as the plan
    is made, for every set of decision fields its classes hold (:meth:`prepare`), so that
    the plan's points can be dropped at once; then each class counts its incidents in them
    (:meth:`__call__`)."""

    def __init__(
        self,
        checks: AlongChecks,
        invariants: Sequence[Invariant],
        p: int,
        columns: Sequence[Column],
        outputs: Sequence[str],
        at: int,
        domains: Callable[[tuple[Any, ...]], Combos],
    ) -> None:
        self.checks = checks
        self.invariants = invariants
        self.outputs = outputs
        self.at = at
        self.domains = domains
        known = [(i, n) for i, (ns, n) in enumerate(columns) if ns == p and n in DECISION_OUTPUTS]
        #: the decision fields a class holds before the table (what the checks read of it)
        self.fields_of = getter([i for i, _ in known])
        self.names = [n for _, n in known]
        self._by_list: dict[int, tuple[Combos, list[int], list[Any]]] = {}

    def prepare(self, key: tuple[Any, ...], plan: Plan, fields: Iterable[tuple[Any, ...]]) -> None:
        """Work out ``plan``'s failing segments (:attr:`Plan.failing`) for each of the
        decision ``fields`` its classes hold (``key`` is one of them), and drop its points."""
        combos = self.domains(key)
        plan.failing = {
            given: self._failing(plan, combos, dict(zip(self.names, given, strict=True)))
            for given in fields
        }
        plan.points = None

    def __call__(self, key: tuple[Any, ...], cls: WalkClass, plan: Plan) -> None:
        """Count the class ``key`` in the segments of its plan (prepared) that fail."""
        assert plan.failing is not None, "the plan's failing segments were not prepared"
        failing = plan.failing[self.fields_of(key)]
        if not failing:
            return
        combos = self.domains(key)
        found = self.checks.found
        for invariant, order, count in failing:
            _, pairs, extra = combos[order]
            assignment, cost = (*cls.assignment, *pairs), cls.cost + extra
            seen = found.get(invariant)
            if seen is None:
                found[invariant] = WalkClass(cls.weight * count, assignment, cost)
            else:
                seen.offer(cls.weight * count, assignment, cost)

    def _failing(
        self, plan: Plan, combos: Combos, given: Mapping[str, Any]
    ) -> list[tuple[str, int, int]]:
        """(invariant, first point, points) of each segment of ``plan`` that breaks one."""
        outputs, checks, policy = self.outputs, self.checks, self.checks.policy
        points = plan.points
        assert points is not None, "the plan was made without its points"
        # per result of the table: the decision it makes with the class's fields
        decided: dict[int, Decision] = {}
        for result in {id(r): r for _, _, r in points}.values():
            facts = {**given, **dict(zip(outputs, result.values or (), strict=True))}
            decided[id(result)] = light_decision(policy, facts, checks.decisions)
        line_of, value_of = self._lines(combos)
        orders = [order for order, _, _ in points]
        values = [value_of[order] for order in orders]
        decisions = [decided[id(result)] for _, _, result in points]
        lines = [line_of[order] for order in orders]
        # per value of the other local inputs (a line), the positions of its points
        groups: list[Sequence[int]] = []
        if lines and min(lines) == max(lines):
            groups = [range(len(points))]
        elif lines:
            groups = [
                [i for i, x in enumerate(lines) if x == line] for line in dict.fromkeys(lines)
            ]
        failing: list[tuple[str, int, int]] = []
        for group in groups:
            along = [values[i] for i in group], [decisions[i] for i in group]
            for invariant in self.invariants:
                assert invariant.along is not None
                for i in invariant.along.check(policy, *along):
                    order, count, _ = points[group[i]]
                    failing.append((invariant.name, order, count))
        return failing

    def _lines(self, combos: Combos) -> tuple[list[int], list[Any]]:
        """Per combination of ``combos``: which line it lies on (its other local inputs), and
        the number's value (remembered per list)."""
        found = self._by_list.get(id(combos))
        if found is None or found[0] is not combos:  # an id is only unique while it lives
            at = self.at
            ids: dict[tuple[Any, ...], int] = {}
            line_of = [ids.setdefault(combo[:at], len(ids)) for combo, _, _ in combos]
            found = self._by_list[id(combos)] = (
                combos,
                line_of,
                [combo[at] for combo, _, _ in combos],
            )
        return found[1], found[2]
