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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.engine.core import DECISION_OUTPUTS, build_decision
from rollback_decision.invariants import Invariant
from rollback_decision.policy import Policy
from rollback_decision.verify.classes import Column, WalkClass, getter
from rollback_decision.verify.incidents import Assignment
from rollback_decision.verify.runs import Plan

__all__ = ["AlongChecks", "AlongUnavailable", "light_decision"]

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
    ) -> Callable[[tuple[Any, ...], WalkClass, Plan], None]:
        """What the walk calls with each class and its plan (made with ``record``) at the
        table of policy ``p`` that sums out ``name``, the local input at position ``at``
        of the combinations ``domains`` gives, with the walk's ``columns`` before it and
        the table's ``outputs``."""
        invariants = self.by_fact[name]
        known = [(i, n) for i, (ns, n) in enumerate(columns) if ns == p and n in DECISION_OUTPUTS]
        fields_of = getter([i for i, _ in known])
        names = [n for _, n in known]
        # per plan and decision fields of the class: the plan, and its failing segments
        flagged: dict[tuple[int, tuple[Any, ...]], tuple[Plan, list[tuple[str, int, int]]]] = {}

        def visit(key: tuple[Any, ...], cls: WalkClass, plan: Plan) -> None:
            fields = fields_of(key)
            found = flagged.get((id(plan), fields))
            if found is None or found[0] is not plan:  # an id is only unique while it lives
                given = dict(zip(names, fields, strict=True))
                found = flagged[(id(plan), fields)] = (
                    plan,
                    self._failing(plan, domains(key), at, given, outputs, invariants),
                )
            if not found[1]:
                return
            combos = domains(key)
            for invariant, order, count in found[1]:
                _, pairs, extra = combos[order]
                assignment, cost = (*cls.assignment, *pairs), cls.cost + extra
                seen = self.found.get(invariant)
                if seen is None:
                    self.found[invariant] = WalkClass(cls.weight * count, assignment, cost)
                else:
                    seen.offer(cls.weight * count, assignment, cost)

        return visit

    def _failing(
        self,
        plan: Plan,
        combos: Combos,
        at: int,
        given: Mapping[str, Any],
        outputs: Sequence[str],
        invariants: Sequence[Invariant],
    ) -> list[tuple[str, int, int]]:
        """(invariant, first point, points) of each segment of ``plan`` that breaks one."""
        # per value of the other local inputs: the number's values, the decision at each,
        # and the segment each stands for
        lines: dict[tuple[Any, ...], tuple[list[Any], list[Decision], list[tuple[int, int]]]] = {}
        # per result of the table: the decision it makes with the class's fields
        decided: dict[int, Decision] = {}
        points = plan.points
        assert points is not None, "the plan was made without its points"
        for result in {id(r): r for _, _, r in points}.values():
            facts = {**given, **dict(zip(outputs, result.values or (), strict=True))}
            decided[id(result)] = light_decision(self.policy, facts, self.decisions)
        if at == 0 and points:  # the number is the only local input: one line
            lines[()] = (
                [combos[order][0][0] for order, _, _ in points],
                [decided[id(result)] for _, _, result in points],
                [(order, count) for order, count, _ in points],
            )
        for order, count, result in points if at else ():
            combo = combos[order][0]
            line = lines.setdefault(combo[:at], ([], [], []))
            line[0].append(combo[at])
            line[1].append(decided[id(result)])
            line[2].append((order, count))
        failing: list[tuple[str, int, int]] = []
        for values, decisions, segments in lines.values():
            for invariant in invariants:
                assert invariant.along is not None
                for i in invariant.along.check(self.policy, values, decisions):
                    failing.append((invariant.name, *segments[i]))
        return failing
