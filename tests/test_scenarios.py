"""The scenario table runs against every engine, and covers every branch it promises to."""

from __future__ import annotations

import pytest

from rollback_decision import Policy, decide
from rollback_decision.engine import core, native
from rollback_decision.facts import parse_incident
from tests.scenario_table import Scenario, load_scenarios, mismatches

SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_decides_as_expected_on_native_engine(scenario: Scenario, policy: Policy) -> None:
    decision = decide(scenario.incident, policy=policy)
    assert mismatches(scenario, decision) == []


# Tables whose every rule must be the chosen rule of at least one scenario.
COVERED_TABLES = (
    "impact",
    "can_roll_back",
    "decision",
    "rollback_type",
    "rollback_eta",
    "authority",
)


def test_scenario_table_fires_every_rule_of_the_tree_authority_and_classification(
    policy: Policy,
) -> None:
    fired: set[str] = set()
    for scenario in SCENARIOS:
        _, trace = core.run(policy, parse_incident(scenario.incident), native.match)
        for table_id in COVERED_TABLES:
            table = policy.table(table_id)
            fired.update(table.rules[i].id for i in trace[table_id])
    every = {rule.id for t in COVERED_TABLES for rule in policy.table(t).rules}
    assert sorted(every - fired) == []


def test_scenario_table_reaches_every_action_type_and_authority_row(policy: Policy) -> None:
    decisions = [decide(s.incident, policy=policy) for s in SCENARIOS]
    assert {d.action.value for d in decisions} == {a.value for a in policy.actions}
    assert {d.rollback_type for d in decisions} == {None, 1, 2, 3, 4, 5}
    situations = {d.authority.situation for d in decisions if d.authority}
    assert situations == {a.situation for a in policy.authorities.values()}
