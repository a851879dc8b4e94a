"""The rollback plan: procedures by component, data and common scenarios, checklists,
monitoring, warnings and communication — all selected by tables, all content in rules/."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML

from rollback_decision import Decision, Policy, PolicyError, decide, load_policy
from rollback_decision.cli import main
from rollback_decision.errors import EngineUnavailableError
from tests.fresh_engine import decide_in_fresh_process

# -- the scenario table ------------------------------------------------------------------------

SCENARIO_FILE = Path(__file__).parent / "plan_scenarios.yaml"


class PlanExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str | None = None
    rollback_type: int | None = None
    first: list[str] = Field(default_factory=list)
    order: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    warnings: list[str] | None = None
    monitoring: list[str] | None = None


class PlanScenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    incident: dict[str, Any]
    expect: PlanExpectation


def _load() -> list[PlanScenario]:
    data = YAML(typ="safe", pure=True).load(SCENARIO_FILE.read_text(encoding="utf-8"))
    return [PlanScenario.model_validate(entry) for entry in data["scenarios"]]


SCENARIOS = _load()


def _incident(scenario: PlanScenario) -> dict[str, Any]:
    return {"related_to_deployment": True, **scenario.incident}


def _decide(incident: dict[str, Any], policy: Policy, engine: str) -> Decision:
    try:
        return decide(incident, policy=policy, engine=engine)  # type: ignore[arg-type]
    except EngineUnavailableError as exc:
        if importlib.util.find_spec("durable") is None:  # pragma: no cover - extra missing
            pytest.skip(str(exc))
        # durable-rules is installed, so a rejected ruleset is a failure. Once in CI the
        # shipped ruleset was rejected ("error code: 102") in one test worker and accepted by
        # the next registration; it did not happen again alone or under other hash seeds.
        # The same decision in a fresh interpreter tells a rejection that depends on what this
        # process ran before from one of the policy itself, and is checked like any other.
        assert policy.identity == load_policy().identity, "retried only for the shipped policy"
        return decide_in_fresh_process([incident], engine, exc)[0]


def mismatches(expect: PlanExpectation, decision: Decision) -> list[str]:
    texts = [step.text for step in decision.plan]
    got: list[str] = []
    if expect.action is not None and decision.action.value != expect.action:
        got.append(f"action {decision.action.value}, expected {expect.action}")
    if expect.rollback_type is not None and decision.rollback_type != expect.rollback_type:
        got.append(f"rollback type {decision.rollback_type}, expected {expect.rollback_type}")
    if expect.first and texts[: len(expect.first)] != expect.first:
        got.append(f"first steps {texts[: len(expect.first)]}")
    position = -1
    for text in expect.order:
        if text not in texts[position + 1 :]:
            got.append(f"{text!r} missing or out of order in {texts}")
            break
        position = texts.index(text, position + 1)
    got += [f"{text!r} should not be in the plan" for text in expect.absent if text in texts]
    sources = {step.source for step in decision.plan}
    got += [f"no step from {s!r}" for s in expect.sources if s not in sources]
    if expect.warnings is not None and [w.id for w in decision.warnings] != expect.warnings:
        got.append(f"warnings {[w.id for w in decision.warnings]}")
    if expect.monitoring is not None and [m.id for m in decision.monitoring] != expect.monitoring:
        got.append(f"monitoring {[m.id for m in decision.monitoring]}")
    if [step.number for step in decision.plan] != list(range(1, len(texts) + 1)):
        got.append("steps are not numbered 1..n")
    return got


@pytest.mark.parametrize("engine", ["native", "durable"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_plan_scenario(scenario: PlanScenario, engine: str, policy: Policy) -> None:
    decision = _decide(_incident(scenario), policy, engine)
    assert mismatches(scenario.expect, decision) == []


def test_scenarios_use_every_procedure_warning_and_monitoring_entry(policy: Policy) -> None:
    """Every component, data scenario and common scenario of the policy has a scenario."""
    procedures: set[str] = set()
    warnings: set[str] = set()
    monitoring: set[str] = set()
    for scenario in SCENARIOS:
        decision = decide(_incident(scenario), policy=policy)
        procedures |= {step.source for step in decision.plan}
        warnings |= {w.id for w in decision.warnings}
        monitoring |= {m.id for m in decision.monitoring}
    doc = policy.document
    assert set(doc.procedures) - procedures == set()
    assert set(doc.warnings) - warnings - {"rollback_test_unknown"} == set()
    assert set(doc.monitoring) - monitoring == set()


# -- checklists, monitoring, warnings ----------------------------------------------------------

ROLLBACK = {"related_to_deployment": True, "rollback_tested": True}


def test_rollback_decisions_carry_the_checklists_and_six_validation_areas(
    policy: Policy,
) -> None:
    decision = decide(ROLLBACK, policy=policy)
    assert [c.id for c in decision.checklists] == [
        "before_rollback",
        "during_rollback",
        "after_rollback",
        "validate_service_health",
        "validate_functionality",
        "validate_performance",
        "validate_data_integrity",
        "validate_security",
        "validate_business_metrics",
    ]
    before = decision.checklists[0]
    assert before.items[0] == "Issue confirmed related to deployment"
    assert (
        before.section == "ROLLBACK DECISION FRAMEWORK › ROLLBACK CHECKLIST › Before Rolling Back"
    )
    assert decision.checklists[-1].items == [
        "Trading functioning",
        "Orders processing",
        "Risk calculations correct",
        "P&L accurate",
    ]


@pytest.mark.parametrize(
    "incident",
    [
        {"related_to_deployment": False},
        {"related_to_deployment": True, "fix_forward_eta_minutes": 1},
        {"related_to_deployment": True, "change": {"point_of_no_return": ["one_way_migration"]}},
    ],
)
def test_other_decisions_carry_no_checklists_or_communication(
    incident: dict[str, Any], policy: Policy
) -> None:
    decision = decide(incident, policy=policy)
    assert not decision.action.is_rollback
    assert decision.checklists == []
    assert decision.communication is None
    assert decision.plan


def test_monitoring_windows_come_from_the_procedures(policy: Policy) -> None:
    incident = {**ROLLBACK, "change": {"components": ["application_code", "database_schema"]}}
    decision = decide(incident, policy=policy)
    durations = {m.id: m.duration for m in decision.monitoring}
    assert durations == {
        "type_3": "1-2 hours",
        "application_code_intensive": "2 hours intensive",
        "application_code_extended": "24 hours extended",
        "database_schema": "48 hours",
    }
    schema = next(m for m in decision.monitoring if m.id == "database_schema")
    assert schema.focus == ["Data integrity", "Query performance"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"rollback_tested": False}, ["rollback_not_tested"]),
        ({"rollback_tested": None}, ["rollback_test_unknown"]),
        ({"partial_deployment": True}, ["mixed_versions"]),
        (
            {"verified_backup": False, "change": {"components": ["database_schema"]}},
            ["no_verified_backup"],
        ),
        (
            {"verified_backup": None, "change": {"components": ["database_schema"]}},
            ["backup_unknown"],
        ),
        ({"verified_backup": False}, []),  # no schema or data goes back: no backup needed
        (
            {
                "verified_backup": True,
                "change": {
                    "data_scenario": "incompatible_schema",
                    "data_written_in_new_format": True,
                },
            },
            ["data_in_new_format"],
        ),
    ],
)
def test_unmet_or_unknown_prerequisites_are_typed_warnings(
    facts: dict[str, Any], expected: list[str], policy: Policy
) -> None:
    decision = decide({**ROLLBACK, **facts}, policy=policy)
    assert [w.id for w in decision.warnings] == expected
    for warning in decision.warnings:
        assert warning.section
        assert warning.text


def test_warning_text_names_the_facts(policy: Policy) -> None:
    incident = {
        **ROLLBACK,
        "verified_backup": True,
        "change": {
            "data_scenario": "forward_compatible_schema",
            "data_written_in_new_format": True,
        },
    }
    (warning,) = decide(incident, policy=policy).warnings
    assert "(forward_compatible_schema)" in warning.text
    assert warning.section.startswith("ROLLBACK PROCEDURES BY COMPONENT › DATABASE SCHEMA")


def test_steps_carry_section_duration_command_validation_and_checks(policy: Policy) -> None:
    decision = decide({**ROLLBACK, "change": {"components": ["database_schema"]}}, policy=policy)
    backup = next(s for s in decision.plan if s.text == "Back up the current database state")
    assert backup.model_dump() == {
        "number": backup.number,
        "text": "Back up the current database state",
        "section": "ROLLBACK PROCEDURES BY COMPONENT › DATABASE SCHEMA ROLLBACK",
        "source": "database_schema",
        "phase": "backup",
        "duration": "5-10 minutes",
        "command": "./backup-database.sh --quick",
        "validation": "Backup success confirmed",
        "checks": [],
    }
    prerequisites = next(s for s in decision.plan if s.text.startswith("Confirm the prereq"))
    assert prerequisites.checks[1] == "Database backup recent and verified"
    assert prerequisites.section.endswith("DATABASE SCHEMA ROLLBACK › PREREQUISITES")


# -- communication and post-mortem -------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "groups"),
    [
        ({}, ["application"]),
        ({"customer_facing": True}, ["application", "end_users"]),
        ({"trading_system": True}, ["trading_system", "application"]),
        ({"components": ["network"]}, ["infrastructure"]),
        ({"components": ["infrastructure", "database_schema"]}, ["infrastructure", "database"]),
        ({"data_scenario": "backward_compatible_schema"}, ["application", "database"]),
    ],
)
def test_stakeholders_by_change_type(
    change: dict[str, Any], groups: list[str], policy: Policy
) -> None:
    decision = decide({**ROLLBACK, "change": change}, policy=policy)
    assert decision.communication is not None
    assert [g.id for g in decision.communication.stakeholders] == groups


def test_communication_plan_templates_and_post_mortem(policy: Policy) -> None:
    incident = {**ROLLBACK, "rollback_eta_minutes": 4, "symptoms": ["integration_failure"]}
    comm = decide(incident, policy=policy).communication
    assert comm is not None
    assert comm.recipients == "All stakeholders"
    assert comm.channels == ["Incident channel", "Email"]
    assert comm.update_every_minutes == 15
    assert [g.id for g in comm.stakeholders] == ["application", "external_system_owners"]
    messages = {m.id: m for m in comm.messages}
    assert list(messages) == ["initial", "progress", "completion", "email", "slack"]
    assert messages["initial"].text == (
        "[ROLLBACK] Initiating rollback of [DEPLOYMENT] due to [ISSUE]. Expected completion: "
        "[TIME] (about 4 min from the start). Updates every 15 minutes."
    )
    assert messages["progress"].text == (
        "[ROLLBACK UPDATE] Step X of Y complete. [STATUS]. ETA: [TIME]."
    )
    assert messages["email"].subject == "[ROLLBACK] application_code - [Brief Description]"
    assert "Next Update: in 15 minutes" in messages["email"].text.splitlines()
    assert messages["slack"].text.startswith("@here [ROLLBACK] Rolling back [deployment]")
    pm = comm.post_mortem
    assert pm is not None
    assert pm.within_hours == 48
    assert pm.attendees[0] == "Deployment team"
    assert len(pm.agenda) == 10
    assert pm.agenda[7] == "Root cause analysis (5 whys)"


# -- everything is data ------------------------------------------------------------------------


def _edit(rules: Path, file: str, old: str, new: str) -> None:
    path = rules / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_changing_a_step_in_the_rules_changes_the_plan(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "        text: Deploy the previous version\n"
        "        command: ./deploy.sh rollback --version=[VERSION]\n"
        "        duration: 2-3 minutes\n",
        "        text: Redeploy the last good build\n"
        "        command: ./deploy.sh rollback --version=[VERSION]\n"
        "        duration: 4-6 minutes\n",
    )
    _edit(
        rules_copy, "plan.yaml", "\n        duration: 48 hours\n", "\n        duration: 72 hours\n"
    )
    _edit(rules_copy, "communication.yaml", "default: 15\n", "default: 10\n")
    edited = load_policy(rules_copy)
    incident = {**ROLLBACK, "change": {"components": ["application_code", "database_schema"]}}
    before = decide({**ROLLBACK}, policy=load_policy())
    after = decide({**ROLLBACK}, policy=edited)
    step = next(s for s in after.plan if s.source == "application_code" and s.phase == "revert")
    assert (step.text, step.duration) == ("Redeploy the last good build", "4-6 minutes")
    assert [s.text for s in after.plan] != [s.text for s in before.plan]
    assert "Deploy the previous version" not in [s.text for s in after.plan]
    schema = decide(incident, policy=edited)
    monitor = next(s for s in schema.plan if s.source == "database_schema" and s.phase == "monitor")
    assert monitor.duration == "72 hours"
    assert after.communication is not None
    assert after.communication.update_every_minutes == 10
    assert "Updates every 10 minutes." in after.communication.messages[0].text


def test_phase_ranks_are_data(rules_copy: Path) -> None:
    """Moving a phase moves its steps: the safe order is not in Python."""
    _edit(rules_copy, "plan.yaml", "follow_up: {rank: 160,", "follow_up: {rank: 5,")
    decision = decide(ROLLBACK, policy=load_policy(rules_copy))
    assert decision.plan[0].phase == "follow_up"
    assert decision.plan[0].number == 1


def test_step_texts_may_use_parameters(rules_copy: Path) -> None:
    _edit(rules_copy, "plan.yaml", "default: 15\n", "default: 20\n")
    incident = {
        "related_to_deployment": True,
        "symptoms": ["performance_within_tolerance"],
        "fix_forward_eta_minutes": 10,
    }
    decision = decide(incident, policy=load_policy(rules_copy))
    limit = next(s for s in decision.plan if s.text.startswith("Set a time limit"))
    assert limit.text == "Set a time limit: if there is no fix in 20 minutes, roll back"
    assert limit.duration == "20 minutes"


# -- bad references in rule files --------------------------------------------------------------


def _problems(rules: Path) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(PolicyError) as info:
        load_policy(rules)
    return [(p.rule_id, p.key, p.message) for p in info.value.problems]


def test_unknown_procedure_id_in_a_rule(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "set: {plan_procedures: [configuration]}",
        "set: {plan_procedures: [configuraton]}",
    )
    assert _problems(rules_copy) == [
        (
            "plan.component.configuration",
            "set.plan_procedures",
            "unknown id 'configuraton' in procedures (did you mean 'configuration'?)",
        )
    ]


def test_unknown_phase_of_a_step(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "- {phase: revert, text: Restore the previous routing rules}",
        "- {phase: revrt, text: Restore the previous routing rules}",
    )
    ((rule_id, key, message),) = _problems(rules_copy)
    assert (rule_id, key) == (None, "procedures.network.steps.1.phase")
    assert message == "unknown phase 'revrt' (did you mean 'revert'?)"


def test_unknown_catalogue_of_a_list_output(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "plan_checklists: {type: list, of: checklists, aggregate: union}",
        "plan_checklists: {type: list, of: checklist, aggregate: union}",
    )
    problems = _problems(rules_copy)
    assert problems[0] == (
        None,
        "tables.plan_checklists.outputs.plan_checklists",
        "a list output names the catalogue its ids come from: 'of' is one of procedures, "
        "checklists, monitoring, warnings, stakeholder_groups, messages, communication_plans, "
        "post_mortems, got 'checklist' (did you mean 'checklists'?)",
    )


def test_unknown_placeholder_in_a_template(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "communication.yaml",
        "about {rollback_eta} min. Status",
        "about {eta} min. Status",
    )
    ((_, key, message),) = _problems(rules_copy)
    assert key == "messages.slack.text"
    assert message.startswith("unknown placeholder {eta}")


def test_a_step_text_may_not_read_incident_facts(rules_copy: Path) -> None:
    """Steps are built once, at load time: only parameters may fill them."""
    _edit(
        rules_copy,
        "plan.yaml",
        "text: Back up the current database state\n",
        "text: Back up {symptoms}\n",
    )
    ((_, key, message),) = _problems(rules_copy)
    assert key == "procedures.database_schema.steps.3.text"
    assert message.startswith("unknown placeholder {symptoms}")


def test_a_plan_output_must_point_into_its_catalogue(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "plan_warnings: {type: list, of: warnings, aggregate: union}",
        "plan_warnings: {type: list, of: checklists, aggregate: union}",
    )
    problems = _problems(rules_copy)
    assert (
        None,
        "plan_warnings",
        "'plan_warnings' must be a list of ids from warnings, but is a list of ids from checklists",
    ) in problems


def test_union_needs_a_list(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "classification.yaml",
        "rollback_eta_estimate: {type: number, nullable: true, aggregate: sum}",
        "rollback_eta_estimate: {type: number, nullable: true, aggregate: union}",
    )
    problems = _problems(rules_copy)
    assert problems[0] == (
        None,
        "tables.rollback_eta_estimate.outputs.rollback_eta_estimate.aggregate",
        "cannot aggregate a number or null with 'union'",
    )


def test_unknown_key_in_a_step_suggests_the_right_one(rules_copy: Path) -> None:
    _edit(
        rules_copy,
        "plan.yaml",
        "        validation: Syntax check\n",
        "        validaton: Syntax check\n",
    )
    ((_, key, message),) = _problems(rules_copy)
    assert key == "procedures.dependency.steps.2.validaton"
    assert message == "unknown key (did you mean 'validation'?)"


# -- keys and fallbacks ------------------------------------------------------------------------


def test_fallback_steps_give_way_to_concrete_ones(policy: Policy) -> None:
    assert policy.plan is not None
    plan = policy.plan.plan(["data_incompatible"])
    assert [s.text for s in plan if s.phase == "revert"] == ["Roll back the code"]
    merged = policy.plan.plan(["data_incompatible", "database_schema"])
    revert = [s for s in merged if s.phase == "revert"]
    assert [(s.text, s.source) for s in revert] == [
        ("Deploy an application version compatible with the old schema", "database_schema")
    ]
    assert [s.number for s in merged] == list(range(1, len(merged) + 1))


# -- front ends --------------------------------------------------------------------------------


def test_decision_json_shows_plan_checklists_monitoring_warnings_communication(
    policy: Policy,
) -> None:
    decision = decide({"related_to_deployment": True, "partial_deployment": True}, policy=policy)
    data = json.loads(decision.model_dump_json())
    assert data["plan"][0]["number"] == 1
    assert {"text", "section", "source", "phase", "duration", "command", "validation"} <= set(
        data["plan"][0]
    )
    assert len(data["checklists"]) == 9
    assert data["monitoring"][0] == {
        "id": "type_2",
        "duration": "15-30 min",
        "focus": [],
        "section": "ROLLBACK CLASSIFICATION › TYPE 2: RAPID ROLLBACK (< 5 minutes) › Procedure",
    }
    assert [w["id"] for w in data["warnings"]] == ["rollback_test_unknown", "mixed_versions"]
    assert data["communication"]["post_mortem"]["within_hours"] == 48
    assert Decision.model_validate(data) == decision


def test_cli_text_report_shows_the_plan_as_numbered_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_text(
        "related_to_deployment: true\nsymptoms: [data_corruption]\nverified_backup: false\n",
        encoding="utf-8",
    )
    assert main(["decide", str(incident)]) == 0
    out = capsys.readouterr().out
    plan = out.split("\nPlan:\n", 1)[1]
    assert plan.startswith(
        "  1. STOP ALL WRITES IMMEDIATELY: do not allow further corruption\n"
        "  2. Assess the corruption extent\n"
        "  3. Identify the affected records\n"
        "  4. The change declares no data changes, yet data corruption is observed: which data"
        " is affected, and whether it must be restored, is unknown until the corruption extent"
        " is assessed\n"
        "  5. Declare the rollback decision\n"
        "     duration: 1 min\n"
    )
    assert "  ! There is no recent, verified database backup" in out
    assert "Validate 6: business metrics:\n  [ ] Trading functioning" in out
    assert "Monitor: 48 hours" not in out
    assert (
        "Communication:\n  To All stakeholders via Incident channel, Email, updates every 15 min"
        in out
    )
    assert "Mandatory post-mortem (required for every rollback): within 48 hours" in out


def test_cli_json_has_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    incident = tmp_path / "incident.yaml"
    incident.write_text("related_to_deployment: true\n", encoding="utf-8")
    assert main(["decide", str(incident), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["number"] for s in data["plan"]] == list(range(1, len(data["plan"]) + 1))
    assert data["communication"]["messages"][0]["id"] == "initial"
