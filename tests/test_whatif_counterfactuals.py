"""Counterfactuals and why-not, checked against brute force over a discretised fact space."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from rollback_decision import Incident, decide
from rollback_decision.notebook import with_overrides
from rollback_decision.verify.domains import _model_field_values
from rollback_decision.whatif.counterfactuals import counterfactuals, why_not
from rollback_decision.whatif.fields import FIELDS

#: The facts a small case lets change.
FIELDS_SMALL = [
    "fix_forward_eta_minutes",
    "rollback_eta_minutes",
    "severity",
    "rollback_risk",
    "production_down",
    "change.data_scenario",
    "change.point_of_no_return",
]
BASES: list[dict[str, Any]] = [
    {"related_to_deployment": True, "fix_forward_eta_minutes": 20},
    {"related_to_deployment": True, "fix_forward_eta_minutes": 5, "rollback_eta_minutes": 30},
    {"related_to_deployment": True, "severity": "critical", "rollback_risk": "high"},
    {
        "related_to_deployment": True,
        "change": {"data_scenario": "irreversible_transformation"},
        "fix_forward_eta_minutes": 60,
    },
]


def _values(column: str, incident: Incident, *, dense: bool) -> list[Any]:
    """The brute force's own discretisation: fine steps for numbers, every value otherwise,
    lists with one member added or removed."""
    fact = FIELDS[column]
    current = getattr(incident.change if column.startswith("change.") else incident, fact)
    annotation = str(
        (type(incident.change) if column.startswith("change.") else Incident)
        .model_fields[fact]
        .annotation
    )
    if "float" in annotation:
        step = [x / 4 for x in range(0, 4 * 70)] if dense else [0, 5, 14.9, 15, 20, 30, 45, 61]
        return [None, *step]
    if annotation.startswith("list"):
        members = [getattr(m, "value", m) for m in _model_field_values(fact)]
        have = [getattr(m, "value", m) for m in current]
        return [[*have, m] for m in members if m not in have] + [
            [h for h in have if h != m] for m in have
        ]
    if "bool" in annotation:
        return [True, False, None] if "None" in annotation else [True, False]
    values = [getattr(m, "value", m) for m in _model_field_values(fact)]
    return [*values, None] if "None" in annotation else values


def _action(incident: Incident, overrides: dict[str, Any]) -> str | None:
    try:
        return decide(with_overrides(incident, overrides)).action.value
    except ValueError:
        return None


def _singles(incident: Incident, *, dense: bool) -> dict[tuple[str, str], list[Any]]:
    """(field, action) → values reaching that action by changing the field alone."""
    base = decide(incident).action.value
    out: dict[tuple[str, str], list[Any]] = {}
    for column in FIELDS_SMALL:
        for value in _values(column, incident, dense=dense):
            action = _action(incident, {column: value})
            if action is not None and action != base:
                out.setdefault((column, action), []).append(value)
    return out


@pytest.mark.parametrize("data", BASES)
def test_counterfactuals_flip_the_action_and_cover_every_single_change_brute_force_finds(
    data: dict[str, Any],
) -> None:
    incident = Incident.model_validate(data)
    base = decide(incident).action
    found = counterfactuals(incident, fields=FIELDS_SMALL)
    for item in found:
        # every reported change really changes the action, to the action it reports
        assert item.action != base
        assert decide(with_overrides(incident, item.overrides())).action == item.action
        assert item.sentence.startswith(item.action.value.replace("_", " ") + " if ")
        for change in item.changes:
            assert change.field in item.sentence
    singles = {(i.changes[0].field, i.action.value) for i in found if len(i.changes) == 1}
    brute = _singles(incident, dense=True)
    assert set(brute) <= singles
    # and none is larger than needed: a pair only for an action no single change reaches
    reached = {action for _, action in brute}
    for item in found:
        if len(item.changes) == 2:
            assert item.action.value not in reached
            for change in item.changes:
                assert _action(incident, {change.field: change.value}) != item.action.value


def test_numbers_are_reported_as_ranges_from_the_rules_thresholds() -> None:
    incident = Incident.model_validate(BASES[0])
    sentences = counterfactuals(incident, fields=["fix_forward_eta_minutes"]).sentences()
    assert sentences == ["fix forward if fix_forward_eta_minutes were under 15"]
    one_way = counterfactuals(incident, fields=["change.point_of_no_return"]).sentences()
    assert one_way[0].startswith(
        "must fix forward if change.point_of_no_return also included destructive_data_operation"
    )


@pytest.mark.parametrize(
    ("data", "target"),
    [(BASES[0], "fix_forward"), (BASES[1], "must_fix_forward"), (BASES[2], "no_action")],
)
def test_why_not_matches_brute_force(data: dict[str, Any], target: str) -> None:
    incident = Incident.model_validate(data)
    answer = why_not(incident, target, fields=FIELDS_SMALL)
    brute = _singles(incident, dense=True)
    single_fields = {column for column, action in brute if action == target}
    if single_fields:
        assert {item.changes[0].field for item in answer} == single_fields
        assert all(len(item.changes) == 1 for item in answer)
    else:
        pairs = set()
        for first, second in itertools.combinations(FIELDS_SMALL, 2):
            for v1 in _values(first, incident, dense=False):
                changed = with_overrides(incident, {first: v1})
                for v2 in _values(second, changed, dense=False):
                    if _action(changed, {second: v2}) == target:
                        pairs.add((first, second))
        got = {tuple(c.field for c in item.changes) for item in answer}
        assert got == pairs
        if not pairs:
            assert answer.reason == f"no change of one or two facts makes it {target}"
    for item in answer:
        assert item.action.value == target
        assert decide(with_overrides(incident, item.overrides())).action.value == target


def test_why_not_says_when_the_action_already_is_the_one_asked() -> None:
    answer = why_not(BASES[0], "rollback")
    assert len(answer) == 0
    assert answer.reason == "the action already is rollback"
