"""The walk's two economies — visiting tables in a cheaper valid order, and merging values the
remaining tables cannot tell apart — change its cost, never what it finds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import Policy, load_policy
from rollback_decision.engine.core import DECISION_OUTPUTS
from rollback_decision.policy import CompiledTable
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.incidents import minimal_mapping
from rollback_decision.verify.schedule import can_fail, split_tables, walk_order
from rollback_decision.verify.walk import Walk
from tests.test_verify import CASES, break_rules, load_case


def walked(policy: Policy, *, economies: bool) -> Walk:
    core = split_tables(policy, DECISION_OUTPUTS)[0]
    walk = Walk(
        FactSpace([policy], [core]),
        [None],
        keep=frozenset({"severity", "fix_forward_eta_minutes"}),
        tables=[core],
        ordered=economies,
        collapse=economies,
    )
    walk.run()
    return walk


def summary(walk: Walk) -> dict[str, Any]:
    """What a walk finds. A mid-walk count (how often a rule fired or was shadowed) counts the
    incidents over the facts the walk has met so far, so it depends on the order; which rules
    fire, which shadow which, the final classes and the problems do not."""
    order = sorted(range(len(walk.columns)), key=lambda i: str(walk.columns[i]))
    return {
        "columns": sorted(map(str, walk.columns)),
        "final": {
            tuple(k[i] for i in order): (c.weight, minimal_mapping(c.assignment))
            for k, c in walk.final.items()
        },
        "fired": set(walk.fired),
        "shadowed": {k: winner for k, (winner, _) in walk.shadowed.items()},
        "problems": sorted(
            (f.kind, f.table, f.rules, f.example.weight, sorted(f.example.assignment))
            for f in walk.findings
        ),
    }


@pytest.mark.parametrize("case", [None, *CASES])
def test_the_economies_find_exactly_what_the_plain_walk_finds(
    case: str | None, rules_copy: Path
) -> None:
    policy = load_policy(break_rules(rules_copy, load_case(case)) if case else rules_copy)
    plain, cheap = walked(policy, economies=False), walked(policy, economies=True)
    assert summary(cheap) == summary(plain)
    assert cheap.evaluated <= plain.evaluated


def _tables(policy: Policy) -> list[CompiledTable]:
    return list(split_tables(policy, DECISION_OUTPUTS)[0])


def test_a_table_read_only_at_the_end_is_visited_late(policy: Policy) -> None:
    tables = _tables(policy)
    order = [t.id for t in walk_order(tables, lambda name: 4.0, set(DECISION_OUTPUTS))]
    assert sorted(order) == sorted(t.id for t in tables)
    # impact (4 facts in, read only by the decision and the authority) moves next to them
    assert order.index("impact") > order.index("rollback_type")
    producers = policy.producers  # every table after the tables it reads from
    for table in tables:
        for rule in table.rules:
            for name in rule.reads:
                if name in producers:
                    assert order.index(producers[name]) < order.index(table.id)


def test_a_table_that_can_fail_keeps_its_place(policy: Policy, rules_copy: Path) -> None:
    assert not any(can_fail(t) for t in _tables(policy))
    broken = load_policy(break_rules(rules_copy, load_case("gap")))
    tables = _tables(broken)
    failing = [t.id for t in tables if can_fail(t)]
    assert failing == ["impact"]  # its catch-all rule is gone
    order = [t.id for t in walk_order(tables, lambda name: 4.0, set(DECISION_OUTPUTS))]
    assert order[0] == "impact"  # no table may see an incident it stops


def test_pinned_keeps_the_pipeline_order(policy: Policy) -> None:
    tables = _tables(policy)
    size: Callable[[str], float] = lambda name: 4.0  # noqa: E731
    assert walk_order(tables, size, set(), pinned=True) == tables
