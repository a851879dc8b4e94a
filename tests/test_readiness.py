"""Deployment readiness: each check cites the policy line behind its rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import Policy, load_policy
from rollback_decision.cli import main
from rollback_decision.errors import PolicyError
from rollback_decision.readiness import (
    DeploymentPlanError,
    ReadinessResult,
    assess_readiness,
    load_plan,
)
from rollback_decision.verify import verify_policy
from tests.conftest import EXAMPLES

DEPLOYMENTS = EXAMPLES / "deployments"
APP_PREREQUISITES = {
    "previous_version_available": True,
    "previous_version_known_good": True,
    "deployment_automation_functional": True,
}
SCHEMA_PREREQUISITES = {
    **APP_PREREQUISITES,
    "down_migration_tested": True,
    "backup_verified": True,
    "data_compatibility_verified": True,
}
GOOD_TEST: dict[str, Any] = {
    "date": "2026-11-20",
    "environment": "staging",
    "tester": "J. Rivera",
    "rollback_time_minutes": 4,
    "issues_found": [],
    "modifications": [],
    "final_validation": "pass",
    "production_like_data": True,
    "under_load": True,
}


def plan(**fields: Any) -> dict[str, Any]:
    """A code change that is ready, with ``fields`` changed."""
    base: dict[str, Any] = {
        "change": {"components": ["application_code"]},
        "rollback_tests": [GOOD_TEST],
        "prerequisites": APP_PREREQUISITES,
        "low_traffic_window": True,
    }
    return {**base, **fields}


def record(**fields: Any) -> dict[str, Any]:
    """The good rollback test record, with ``fields`` changed."""
    return {**GOOD_TEST, **fields}


def assess(policy: Policy, **fields: Any) -> ReadinessResult:
    return assess_readiness(plan(**fields), policy)


def rules(result: ReadinessResult) -> dict[str, str]:
    return {f.rule_id: f.severity.value for f in result.findings}


def test_a_tested_documented_change_with_its_prerequisites_is_ready(policy: Policy) -> None:
    result = assess(policy)
    assert (result.verdict, result.findings, result.rollback_type) == ("ready", [], 2)
    assert result.rollback_budget_minutes == 5
    assert result.policy == policy.identity


def test_no_rollback_test_blocks(policy: Policy) -> None:
    # ROLLBACK TESTING REQUIREMENTS: "MANDATORY: Every deployment must have tested rollback"
    result = assess(policy, rollback_tests=[])
    assert result.verdict == "blocked"
    (finding,) = result.findings
    assert finding.rule_id == "readiness.untested"
    assert finding.section == "ROLLBACK TESTING & VALIDATION › ROLLBACK TESTING REQUIREMENTS"
    assert finding.text.startswith("MANDATORY: every deployment must have tested rollback")


def test_a_failed_final_validation_blocks(policy: Policy) -> None:
    # Test Documentation: "Final validation: [Pass/Fail]"
    result = assess(policy, rollback_tests=[record(final_validation="fail")])
    assert result.verdict == "blocked"
    assert rules(result) == {"readiness.final_validation_failed": "blocker"}


def test_the_last_test_counts(policy: Policy) -> None:
    # How to Test: "8. Refine procedure if needed" — a failed test, refined and retested.
    tests = [record(final_validation="fail"), GOOD_TEST]
    assert assess(policy, rollback_tests=tests).verdict == "ready"


@pytest.mark.parametrize(
    ("test", "performance_critical", "rule"),
    [
        # When to Test: "In staging environment"
        ({"environment": "development"}, False, "readiness.staging"),
        # When to Test: "With production-like data"
        ({"production_like_data": False}, False, "readiness.production_like_data"),
        # When to Test: "Under load (if performance-critical)"
        ({"under_load": None}, True, "readiness.under_load"),
    ],
)
def test_when_to_test_makes_the_change_conditional(
    policy: Policy, test: dict[str, Any], performance_critical: bool, rule: str
) -> None:
    result = assess(
        policy, rollback_tests=[record(**test)], performance_critical=performance_critical
    )
    assert result.verdict == "conditional"
    assert rules(result) == {rule: "condition"}


def test_not_under_load_is_fine_when_not_performance_critical(policy: Policy) -> None:
    assert assess(policy, rollback_tests=[record(under_load=False)]).verdict == "ready"


def test_a_schema_change_not_tested_in_staging_blocks(policy: Policy) -> None:
    # DATABASE SCHEMA ROLLBACK › PREREQUISITES: "Rollback tested in staging"
    result = assess(
        policy,
        change={"components": ["application_code", "database_schema"]},
        prerequisites=SCHEMA_PREREQUISITES,
        rollback_tests=[record(environment="production")],
    )
    assert result.verdict == "blocked"
    assert rules(result) == {"readiness.staging_schema": "blocker"}


def test_missing_test_documentation_fields_are_listed(policy: Policy) -> None:
    # Test Documentation: date, environment, tester, rollback time, issues, modifications, ...
    test = record(tester=None, issues_found=None, modifications=None)
    result = assess(policy, rollback_tests=[test])
    assert result.verdict == "conditional"
    assert result.missing_test_documentation == ["tester", "issues_found", "modifications"]
    (finding,) = result.findings
    assert finding.rule_id == "readiness.test_documentation_incomplete"
    assert finding.text.endswith("missing: tester, issues_found, modifications.")


def test_a_rollback_slower_than_its_type_budget_is_a_finding(policy: Policy) -> None:
    # TYPE 3: STANDARD ROLLBACK (< 30 minutes); the test documents "Rollback time: [Duration]"
    result = assess_readiness(load_plan(str(DEPLOYMENTS / "slow-schema-rollback.yaml")), policy)
    assert (result.verdict, result.rollback_type, result.rollback_budget_minutes) == (
        "conditional",
        3,
        30,
    )
    (finding,) = result.findings
    assert finding.rule_id == "readiness.rollback_time_over_budget"
    assert "took 42 min, beyond the 30-minute budget of rollback type 3" in finding.text


def test_an_organisation_budget_moves_the_line(tmp_path: Path) -> None:
    # Acme's complex rollbacks must finish in 90 minutes (examples/org-policy.yaml).
    acme = load_policy(EXAMPLES / "org-policy.yaml")
    change = {"components": ["infrastructure"]}
    result = assess_readiness(
        plan(change=change, rollback_tests=[record(rollback_time_minutes=100)]), acme
    )
    assert (result.rollback_type, result.rollback_budget_minutes) == (4, 90)
    assert "readiness.rollback_time_over_budget" in rules(result)


@pytest.mark.parametrize(
    ("confirmed", "verdict", "severity"),
    [(None, "conditional", "condition"), (False, "blocked", "blocker")],
)
def test_component_prerequisites_unconfirmed_are_named(
    policy: Policy, confirmed: bool | None, verdict: str, severity: str
) -> None:
    # APPLICATION CODE ROLLBACK › PREREQUISITES: "Previous version tested and known-good"
    prerequisites = {**APP_PREREQUISITES, "previous_version_known_good": confirmed}
    result = assess(policy, prerequisites=prerequisites)
    assert result.verdict == verdict
    kind = "unconfirmed" if confirmed is None else "unmet"
    (finding,) = result.findings
    assert finding.rule_id == f"prerequisite.previous_version_known_good.{kind}"
    assert finding.severity.value == severity
    assert '"Previous version tested and known-good"' in finding.text
    assert finding.section.endswith("APPLICATION CODE ROLLBACK › PREREQUISITES")


def test_prerequisites_follow_the_components(policy: Policy) -> None:
    # FEATURE FLAG ROLLBACK › PREREQUISITES apply to a change behind a flag.
    # Behind a flag the change is type 1 (< 1 minute): the flag toggle was tested in 30 s.
    change = {"components": ["application_code"], "behind_feature_flag": True}
    result = assess(policy, change=change, rollback_tests=[record(rollback_time_minutes=0.5)])
    assert result.rollback_type == 1
    assert set(rules(result)) == {
        "prerequisite.feature_flag_system_operational.unconfirmed",
        "prerequisite.flag_toggle_tested.unconfirmed",
        "prerequisite.flag_state_monitored.unconfirmed",
    }


def test_a_point_of_no_return_is_conditional_on_the_extra_scrutiny_approval(
    policy: Policy,
) -> None:
    # TYPE 5: POINT OF NO RETURN — "Prevention: Extra scrutiny during approval"
    one_way = load_plan(str(DEPLOYMENTS / "one-way-migration.yaml"))
    result = assess_readiness(one_way, policy)
    assert (result.verdict, result.rollback_type, result.rollback_budget_minutes) == (
        "conditional",
        5,
        None,
    )
    assert result.required_approvals == result.missing_approvals == ["type_5_extra_scrutiny"]
    (finding,) = result.findings
    assert (finding.rule_id, finding.approval, finding.met) == (
        "readiness.point_of_no_return",
        "type_5_extra_scrutiny",
        False,
    )
    approved = one_way.model_copy(update={"approvals": ["type_5_extra_scrutiny"]})
    result = assess_readiness(approved, policy)
    assert (result.verdict, result.missing_approvals) == ("ready", [])
    assert result.findings[0].met


def test_a_schema_change_without_a_verified_backup_is_blocked(policy: Policy) -> None:
    # DATABASE SCHEMA ROLLBACK › PREREQUISITES: "Database backup recent and verified"
    prerequisites = {**SCHEMA_PREREQUISITES, "backup_verified": None}
    result = assess(
        policy,
        change={"components": ["application_code"], "data_scenario": "backward_compatible_schema"},
        prerequisites=prerequisites,
    )
    assert result.verdict == "blocked"
    assert rules(result) == {"readiness.schema_without_backup": "blocker"}


@pytest.mark.parametrize(
    ("fields", "advisory"),
    [
        # DESIGN FOR ROLLBACK: "Use feature flags for high-risk features"; "Use canary deployments"
        ({"high_risk": True}, True),
        ({"high_risk": True, "rollout_strategy": "canary"}, False),
        # DEPLOYMENT BEST PRACTICES: "Deploy during low-traffic periods"
        ({"low_traffic_window": False}, True),
    ],
)
def test_best_practices_are_advisory(
    policy: Policy, fields: dict[str, Any], advisory: bool
) -> None:
    result = assess(policy, **fields)
    assert result.verdict == "ready"
    assert bool(result.findings) is advisory
    assert all(f.severity.value == "advisory" for f in result.findings)


def test_an_unknown_approval_is_refused_naming_the_field(policy: Policy) -> None:
    with pytest.raises(DeploymentPlanError, match=r"approvals\.0.*did you mean 'cab_approval'"):
        assess(policy, approvals=["cab_aproval"])


def test_the_plan_is_strict() -> None:
    with pytest.raises(DeploymentPlanError) as caught:
        assess_readiness({"performance_critical": "yes", "prerequisite": {}})
    text = str(caught.value)
    assert text.startswith("invalid deployment plan: ")
    assert "field 'performance_critical': expected true or false" in text
    assert "field 'prerequisite': unknown field (did you mean 'prerequisites'?)" in text


# -- rules as data: organisation policies, compile errors, verify ------------------------------


def test_an_organisation_changes_readiness_rules_by_id(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(
        "extends: default\n"
        "rules:\n"
        "  disable: [readiness.high_traffic_window]\n"
        "  replace:\n"
        "    - id: readiness.production_like_data\n"
        "      when: {rollback_tested: true, production_like_data: {ne: true}}\n"
        "      set: {severity: blocker}\n"
        "      because: Acme never deploys a rollback untested on production-like data.\n",
        "utf-8",
    )
    acme = load_policy(org)
    assert assess_readiness(plan(low_traffic_window=False), acme).findings == []
    result = assess_readiness(plan(rollback_tests=[record(production_like_data=None)]), acme)
    assert result.verdict == "blocked"
    assert verify_policy(acme).ok


def test_readiness_rules_are_checked_against_the_plan_facts(rules_copy: Path) -> None:
    path = rules_copy / "readiness.yaml"
    text = path.read_text("utf-8")
    path.write_text(
        text.replace("when: {final_validation: fail}", "when: {final_validaton: fail}").replace(
            "combine: first\n    description: Deploy during",
            "combine: collect\n    description: Deploy during",
        ),
        "utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(rules_copy)
    text = str(caught.value)
    assert "readiness.final_validation_failed" in text
    assert "unknown fact 'final_validaton' (did you mean 'final_validation'?)" in text
    assert "a readiness table takes one rule per plan: combine 'first' or 'unique'" in text


def test_a_readiness_table_is_not_in_the_incident_pipeline(rules_copy: Path) -> None:
    path = rules_copy / "policy.yaml"
    path.write_text(
        path.read_text("utf-8").replace("  - authority\n", "  - authority\n  - readiness_tested\n"),
        "utf-8",
    )
    with pytest.raises(PolicyError, match=r"a readiness table .* is not in the pipeline"):
        load_policy(rules_copy)


def test_verify_finds_a_readiness_rule_that_can_never_fire(rules_copy: Path) -> None:
    path = rules_copy / "readiness.yaml"
    text = path.read_text("utf-8")
    old = "when: {low_traffic_window: false}"
    path.write_text(
        text.replace(
            old, "when: {low_traffic_window: false, high_risk: {ne: false}, not: {high_risk: true}}"
        ),
        "utf-8",
    )
    report = verify_policy(load_policy(rules_copy))
    (finding,) = report.findings
    assert (finding.kind, finding.subject) == (
        "unreachable",
        "rule 'readiness.high_traffic_window'",
    )


def test_verify_finds_a_gap_in_a_readiness_table(rules_copy: Path) -> None:
    path = rules_copy / "readiness.yaml"
    text = path.read_text("utf-8")
    path.write_text(
        text.replace("      - id: readiness.window_ok\n        set: {severity: pass}\n", ""),
        "utf-8",
    )
    report = verify_policy(load_policy(rules_copy))
    (finding,) = report.findings
    assert (finding.kind, finding.subject) == ("gap", "table 'readiness_deployment_window'")
    assert finding.example == {"low_traffic_window": True}


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "verdict", "status"),
    [
        ("ready", "ready", 0),
        ("untested-rollback", "blocked", 1),
        ("one-way-migration", "conditional", 1),
        ("slow-schema-rollback", "conditional", 1),
    ],
)
def test_the_cli_gates_on_the_verdict(
    name: str, verdict: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(DEPLOYMENTS / f"{name}.yaml")
    assert main(["readiness", path, "--format", "json"]) == status
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["verdict"] == verdict
    assert out.lstrip("{\n ").startswith('"verdict"')
    assert main(["readiness", path]) == status
    assert capsys.readouterr().out.startswith(f"readiness: {verdict.upper()} ({path})")


def test_the_cli_takes_an_organisation_policy(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DEPLOYMENTS / "ready.yaml")
    assert main(["readiness", path, "--policy", str(EXAMPLES / "org-policy.yaml")]) == 0
    assert "acme-trading-rollback 2026.1" in capsys.readouterr().out


def test_the_cli_refuses_a_bad_plan_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "plan.yaml"
    bad.write_text("change:\n  components: [aplication_code]\n", "utf-8")
    assert main(["readiness", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"rollback-decision: {bad}:2: invalid deployment plan: ")
    assert "did you mean 'application_code'?" in err
    assert main(["readiness", str(tmp_path / "nope.yaml")]) == 2
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", "utf-8")
    assert main(["readiness", str(empty), "--max-input-bytes", "1"]) == 2
    assert "invalid deployment plan" in capsys.readouterr().err
