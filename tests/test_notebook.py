"""Notebook helpers: what-if over a base incident, and decisions as tables."""

from __future__ import annotations

import pytest

from rollback_decision import Incident, IncidentError, decide
from rollback_decision.notebook import (
    decisions_table,
    rationale_table,
    sweep,
    what_if,
    with_overrides,
)

BASE = Incident.model_validate({"related_to_deployment": True, "fix_forward_eta_minutes": 20})


def test_what_if_merges_overrides_over_the_base_without_changing_it() -> None:
    incident = with_overrides(BASE, {"severity": "critical", "change.components": ["network"]})
    assert incident.severity == "critical"
    assert incident.change.components == ["network"]
    assert incident.fix_forward_eta_minutes == 20
    assert BASE.severity is None
    assert BASE.change.components == ["application_code"]


def test_what_if_decides_the_changed_incident() -> None:
    assert what_if(BASE).action == "rollback"
    assert what_if(BASE, {"fix_forward_eta_minutes": 5}).action == "fix_forward"
    assert what_if(BASE, {"change": {"point_of_no_return": ["one_way_migration"]}}).action == (
        "must_fix_forward"
    )


def test_what_if_rejects_unknown_fields_by_name() -> None:
    with pytest.raises(IncidentError, match=r"field 'change\.colour': unknown field"):
        with_overrides(BASE, {"change.colour": "red"})
    with pytest.raises(IncidentError, match="field 'sevrity': unknown field"):
        what_if(BASE, {"sevrity": "critical"})


def test_sweep_has_one_row_per_value_indexed_by_the_value() -> None:
    table = sweep(BASE, "fix_forward_eta_minutes", [5, 14.9, 15, 60])
    assert list(table.index) == [5, 14.9, 15, 60]
    assert list(table["action"]) == ["fix_forward", "fix_forward", "rollback", "rollback"]
    assert set(table.columns) >= {"rollback_type", "situation", "decided_by", "rules"}
    assert list(table["rollback_eta_minutes"]) == [5.0, 5.0, 5.0, 5.0]


def test_decisions_table_and_rationale_table() -> None:
    table = decisions_table([BASE, {"production_issue": False}])
    assert list(table["action"]) == ["rollback", "no_action"]
    decision = decide(BASE)
    steps = rationale_table(decision)
    assert list(steps["rule_id"]) == [step.rule_id for step in decision.rationale]
    assert list(steps.columns) == ["rule_id", "section", "text"]
