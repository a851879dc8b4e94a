"""The verifier's decider (its tables, memoised, without texts) answers
:func:`~rollback_decision.invariants.decide_with` as :func:`decide` answers the changed
incident: the invariants it checks over every class compare with the decisions users get."""

from __future__ import annotations

from typing import Any

import pytest

from rollback_decision import Decision, Policy, decide, load_policy
from rollback_decision.engine.core import DECISION_OUTPUTS
from rollback_decision.facts import Incident
from rollback_decision.invariants import decide_with
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.invariants_check import _Oracle
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.walk import Walk
from tests.conftest import EXAMPLES
from tests.scenario_table import load_scenarios

#: Facts the invariants vary, with values on both sides of the shipped thresholds.
VARIATIONS: list[tuple[str, Any]] = [
    *[("fix_forward_eta_minutes", v) for v in (None, 0, 5, 14.5, 15, 29, 30, 31, 90, 600)],
    *[("severity", v) for v in ("critical", "non_critical", None)],
    *[("related_to_deployment", v) for v in (True, False, None)],
    ("production_issue", False),
    ("production_down", True),
    ("rollback_eta_minutes", 45),
    *[("fix_forward_eta_minutes", v) for v in (45, 15)],  # the same fact again, after others
]


def _light(decision: Decision) -> tuple[Any, ...]:
    """The fields the invariants read."""
    return (
        decision.action,
        decision.authority,
        decision.rollback_type,
        decision.rollback_eta_minutes,
        decision.rollback_eta_estimated,
    )


def _oracle(policy: Policy) -> _Oracle:
    core = split_tables(policy, DECISION_OUTPUTS)[0]
    return _Oracle(policy, Walk(FactSpace([policy], [core]), [None], tables=[core]), 0)


@pytest.mark.parametrize(
    "policy_file", [None, EXAMPLES / "org-policy.yaml"], ids=["shipped", "org"]
)
def test_the_verifiers_decider_varies_a_fact_as_decide_decides_the_changed_incident(
    policy_file: Any,
) -> None:
    policy = load_policy(policy_file)
    oracle = _oracle(policy)
    incidents = [Incident.model_validate(s.incident) for s in load_scenarios()]
    checked = 0
    for incident in incidents:
        assert _light(oracle(incident)) == _light(decide(incident, policy=policy, remember=False))
        for name, value in VARIATIONS:
            changed = incident.model_copy(update={name: value})
            expected = decide(changed, policy=policy, remember=False)
            assert _light(decide_with(oracle, incident, name, value)) == _light(expected), (
                incident,
                name,
                value,
            )
            # a plain decider gets the changed copy
            plain = decide_with(lambda i: decide(i, policy=policy), incident, name, value)
            assert plain == expected
            checked += 1
    assert checked >= 100
