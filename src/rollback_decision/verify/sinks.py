"""Tables the decision does not depend on (plans, communication), checked rule by rule."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from rollback_decision.engine.core import Matcher, run
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Incident
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.semantics import Aggregate, Combine
from rollback_decision.verify.classes import WalkClass
from rollback_decision.verify.domains import FactSpace, is_number, table_needs, value_classes
from rollback_decision.verify.findings import structural, unreachable
from rollback_decision.verify.report import Finding
from rollback_decision.verify.walk import Walk

__all__ = ["check_sinks"]


def _offer(into: dict[tuple[Any, ...], WalkClass], key: tuple[Any, ...], cls: WalkClass) -> None:
    """Add a class as one combination (weight 1): sinks count combinations, not incidents."""
    seen = into.get(key)
    if seen is None:
        into[key] = WalkClass(1, cls.assignment, cls.cost)
    elif cls.cost < seen.cost:
        seen.assignment, seen.cost = cls.assignment, cls.cost


def check_sinks(
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
                        partners = space.number_partners(name)
                        extra = [v for k, v in base.items() if k in partners and is_number(v)]
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
                why = (
                    f"its condition holds for no reachable decision and facts of table {table.id!r}"
                )
                findings.append(unreachable(rule, why))
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
            [(), (members[0],)] for members in value_classes(items, sets)
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

    out: list[Finding] = []
    for found in structural(policy, walk, 0, tables=[table]):
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
