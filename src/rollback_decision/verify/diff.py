"""``diff_policies``: which decisions change from one policy to another."""

from __future__ import annotations

import time
from typing import Any

from rollback_decision.decision import Action
from rollback_decision.policy import Policy
from rollback_decision.verify.classes import MAX_CLASSES, WalkClass, WalkLimit
from rollback_decision.verify.collector import pausing
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.findings import incomplete, structural, unenumerable
from rollback_decision.verify.incidents import minimal_mapping
from rollback_decision.verify.report import DiffReport, Transition
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.verifier import EngineChoice, resolve_engine
from rollback_decision.verify.walk import Walk

__all__ = ["diff_policies"]


@pausing
def diff_policies(
    old: Policy,
    new: Policy,
    *,
    engine: EngineChoice = "native",
    max_classes: int = MAX_CLASSES,
    exhaustive: bool = False,
) -> DiffReport:
    """Which decisions change from ``old`` to ``new``, over the space both policies span.

    Transitions are counted per (old, new) pair of actions, authorities and rollback types,
    each with its smallest example incident. The tables of one id in both policies are walked
    together (:func:`.schedule.joint_order`), so a gap or overlap either policy has is counted
    over the facts both policies' tables read up to that table, as ``verify`` counts it when
    the two read the same facts; an incident either policy cannot decide is in no transition.
    When part of the space cannot be compared (the walk would hold more than ``max_classes``
    classes, or a fact cannot be enumerated), the report has an ``incomplete`` finding (so it
    counts as changed). ``exhaustive`` keeps every
    value of a number a table makes apart and walks each policy's tables in its own order, one
    at a time (the first walk, for comparison).
    """
    started = time.perf_counter()
    wanted = ("action", "authority", "rollback_type")
    tables = [split_tables(old, wanted)[0], split_tables(new, wanted)[0]]
    space = FactSpace([old, new], tables)
    matchers = [resolve_engine(engine, old)[1], resolve_engine(engine, new)[1]]
    walk = Walk(
        space,
        matchers,
        outputs=wanted,
        tables=tables,
        max_classes=max_classes,
        runs=not exhaustive,
        joint=not exhaustive,
        # only gaps and overlaps are reported, not which rules shadow which
        winners=not exhaustive,
    )
    try:
        walk.run()
    except WalkLimit as limit:
        return DiffReport(
            old=old.identity,
            new=new.identity,
            space_size=0,
            classes=0,
            seconds=time.perf_counter() - started,
            transitions=(),
            findings=(
                *unenumerable(space.unenumerable),
                incomplete("diff", f"nothing was compared: {limit}"),
            ),
        )
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
    findings = unenumerable(space.unenumerable) + [
        f
        for p, label in ((0, "old: "), (1, "new: "))
        for f in structural(policies[p], walk, p, label, tables[p])
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
