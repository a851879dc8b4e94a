"""The public contract: typed facts, decide(), the Decision and the shipped policy."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

import rollback_decision
from rollback_decision import (
    Action,
    Change,
    Decision,
    Incident,
    IncidentError,
    Policy,
    decide,
    load_policy,
)
from rollback_decision.policy.loader import shipped_rules_dir
from tests.scenario_table import load_scenarios

INCIDENTS = [s.incident for s in load_scenarios()]


def test_incident_defaults_are_the_documented_ones() -> None:
    incident = Incident()
    assert incident.production_issue is True
    assert incident.related_to_deployment is None
    assert incident.severity is None
    assert incident.symptoms == []
    assert incident.rollback_risk is None  # derived from the prerequisites
    assert incident.previous_version_known_good is None
    assert incident.change.rollout == "all_at_once"
    assert incident.change.traffic_percent is None
    assert incident.change == Change()
    assert incident.change.components == ["application_code"]
    assert incident.change.data_scenario == "no_data_changes"
    assert incident.change.point_of_no_return == []


def test_incident_is_immutable_and_rejects_unknown_fields() -> None:
    incident = Incident()
    with pytest.raises(ValidationError):
        incident.severity = "critical"
    with pytest.raises(ValidationError):
        Incident.model_validate({"severty": "critical"})


def test_change_needs_at_least_one_component() -> None:
    with pytest.raises(ValidationError):
        Change(components=[])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"severty": "critical"},
            "invalid incident: field 'severty': unknown field (did you mean 'severity'?)",
        ),
        (
            {"change": {"components": ["aplication_code"]}},
            "invalid incident: field 'change.components.0': expected one of 'application_code', "
            "'database_schema', 'configuration', 'feature_flag', 'infrastructure', 'network' or "
            "'dependency', got 'aplication_code' (did you mean 'application_code'?)",
        ),
        (
            {"fix_forward_eta_minutes": -3},
            "invalid incident: field 'fix_forward_eta_minutes': input should be greater than or "
            "equal to 0, got -3",
        ),
        (
            {"rollback_risk": "medium"},
            "invalid incident: field 'rollback_risk': expected 'low' or 'high', got 'medium'",
        ),
    ],
)
def test_invalid_incident_raises_value_error_naming_the_field(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(IncidentError) as info:
        decide(data)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == message


def test_decide_accepts_an_incident_or_a_mapping(policy: Policy) -> None:
    data = {"related_to_deployment": True, "symptoms": ["data_corruption"]}
    assert decide(data) == decide(Incident.model_validate(data), policy=policy)


@pytest.mark.parametrize("data", INCIDENTS)
def test_decision_round_trips_through_json(data: dict[str, object]) -> None:
    decision = decide(data)
    dumped = decision.model_dump(mode="json")
    assert Decision.model_validate(dumped) == decision
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


@pytest.mark.parametrize("data", INCIDENTS)
def test_every_rationale_step_names_a_rule_and_its_section(
    data: dict[str, object], policy: Policy
) -> None:
    decision = decide(data, policy=policy)
    rule_ids = {r.id for t in policy.tables for r in t.rules}
    assert decision.rationale
    for step in decision.rationale:
        assert step.rule_id in rule_ids
        assert step.section
        assert step.text
        assert "{" not in step.text


def test_no_rollback_type_or_authority_where_no_rollback_is_in_question() -> None:
    for data in ({"production_issue": False}, {"related_to_deployment": False}):
        decision = decide(data)
        assert decision.action in (Action.NO_ACTION, Action.INVESTIGATE)
        assert decision.rollback_type is None
        assert decision.authority is None


def test_decision_carries_the_policy_identity(policy: Policy) -> None:
    decision = decide({}, policy=policy)
    assert decision.policy.name == "hft-rollback-procedures"
    assert decision.policy.version == "2.0"
    assert len(decision.policy.content_hash) == 64


def test_editing_a_rule_file_changes_the_content_hash(rules_copy: Path, policy: Policy) -> None:
    assert load_policy(rules_copy).identity == policy.identity
    path = rules_copy / "decision.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert load_policy(rules_copy).identity.content_hash != policy.identity.content_hash


def test_decide_is_deterministic_across_threads(policy: Policy) -> None:
    # remember=False: every call works its decision out afresh, so equal answers are equal
    # computations, not one remembered object compared with itself.
    serial = [decide(data, policy=policy, remember=False) for data in INCIDENTS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            fresh = pool.map(lambda d: decide(d, policy=policy, remember=False), INCIDENTS)
            assert list(fresh) == serial
        remembered = pool.map(lambda d: decide(d, policy=policy), INCIDENTS)
        assert list(remembered) == serial


def test_shipped_rules_are_found_and_compiled_once() -> None:
    assert (shipped_rules_dir() / "policy.yaml").is_file()
    assert load_policy() is load_policy()


def test_public_api_is_explicit() -> None:
    assert sorted(rollback_decision.__all__) == rollback_decision.__all__
    for name in rollback_decision.__all__:
        assert hasattr(rollback_decision, name)


def test_the_old_warning_name_is_a_deprecated_alias_of_decision_warning() -> None:
    from rollback_decision import decision

    assert "Warning" not in rollback_decision.__all__
    for module in (rollback_decision, decision):
        with pytest.warns(
            DeprecationWarning, match="Warning is deprecated .*: use DecisionWarning"
        ):
            assert module.Warning is rollback_decision.DecisionWarning
    with pytest.raises(AttributeError, match="module 'rollback_decision' has no attribute 'Nope'"):
        _ = rollback_decision.Nope
