"""Organisation policies (issue 6): a file that ``extends`` a policy and overrides it.

Each kind of override changes decisions as intended; each kind of mistake gives its message,
naming file, line and key, word for word.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import Action, Decision, Policy, PolicyError, decide, load_policy
from rollback_decision.cli import main
from rollback_decision.policy.loader import display_name, shipped_rules_dir

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: A non-critical issue whose fix is ready in 10 minutes (shipped window: 15).
QUICK_FIX: dict[str, Any] = {
    "related_to_deployment": True,
    "severity": "non_critical",
    "symptoms": ["minor_functional_issue"],
    "fix_forward_eta_minutes": 10,
}
#: A trading logic error: critical, the system still runs.
CRITICAL: dict[str, Any] = {
    "related_to_deployment": True,
    "symptoms": ["trading_logic_error"],
    "fix_forward_eta_minutes": 45,
}
UNCERTAIN: dict[str, Any] = {"related_to_deployment": None, "symptoms": ["monitoring_alert"]}
PRODUCTION_DOWN: dict[str, Any] = {"related_to_deployment": True, "production_down": True}
#: Past the window, but the fix (20 min) lands before the rollback (45 min).
FIX_FASTER: dict[str, Any] = {
    "related_to_deployment": True,
    "severity": "non_critical",
    "fix_forward_eta_minutes": 20,
    "rollback_eta_minutes": 45,
}
INFRASTRUCTURE: dict[str, Any] = {
    "related_to_deployment": True,
    "severity": "non_critical",
    "change": {"components": ["infrastructure"]},
}
HIGH_RISK_TESTED: dict[str, Any] = {
    "related_to_deployment": True,
    "severity": "non_critical",
    "rollback_risk": "high",
    "rollback_tested": True,
}
TRADING_ERRORS: dict[str, Any] = {
    "related_to_deployment": True,
    "symptoms": ["non_critical_errors"],
    "fix_forward_eta_minutes": 30,
    "change": {"trading_system": True},
}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def org(tmp_path: Path, text: str, name: str = "org.yaml") -> Policy:
    return load_policy(write(tmp_path, name, text))


def texts(decision: Decision) -> str:
    return "\n".join(step.text for step in decision.rationale)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    # Shipped rule files are named as the loader names them: relative to the working
    # directory when below it (a checkout, or a virtualenv inside one), else absolute.
    shipped = {f"{shipped_rules_dir()}/", f"{display_name(shipped_rules_dir())}/"}
    out = []
    for problem in info.value.problems:
        text = str(problem).replace(f"{path.parent}/", "")
        for prefix in shipped:
            text = text.replace(prefix, "rules/")
        out.append(text)
    return out


# -- each kind of override changes decisions as intended -------------------------------------


class TestOverrides:
    """Issue 6: "overrides its parameters — the fix-forward window, approver counts, role names
    and who they are, notify lists, type time budgets, metric targets — and adds, replaces or
    disables rules by id"."""

    def test_fix_forward_window(self, tmp_path: Path) -> None:
        assert decide(QUICK_FIX).action is Action.FIX_FORWARD
        policy = org(tmp_path, "extends: default\nparameters: {fix_forward_window_minutes: 10}\n")
        decision = decide(QUICK_FIX, policy=policy)
        assert decision.action is Action.ROLLBACK
        assert (
            "Step 4: no fix forward is expected in under 10 minutes (fix forward ETA: 10 min)."
            in texts(decision)
        )

    def test_approver_count(self, tmp_path: Path) -> None:
        policy = org(tmp_path, "extends: default\nparameters: {critical_min_approvers: 3}\n")
        shipped = decide(CRITICAL).authority
        authority = decide(CRITICAL, policy=policy).authority
        assert shipped is not None
        assert shipped.min_approvers == 2
        assert authority is not None
        assert authority.min_approvers == 3

    def test_role_name(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            roles:
              executive: {name: Head of Trading}
            """,
        )
        decision = decide(UNCERTAIN, policy=policy)
        assert decision.authority is not None
        assert decision.authority.decided_by == "executive"
        assert decision.authority.decided_by_name == "Head of Trading"
        assert "escalate to Head of Trading;" in texts(decision)
        # Only the name changed: the description is still the shipped one.
        assert policy.document.roles["executive"].description == (
            load_policy().document.roles["executive"].description
        )

    def test_notify_list_with_a_new_role(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            parameters:
              production_down_notify: [incident_commander, trading_desk]
            add:
              roles:
                trading_desk: {name: Trading desk}
            """,
        )
        decision = decide(PRODUCTION_DOWN, policy=policy)
        assert decision.authority is not None
        assert decision.authority.notify == ["incident_commander", "trading_desk"]
        assert "notify Incident commander, Trading desk immediately" in texts(decision)

    def test_who_decides(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            authorities:
              uncertain: {decided_by: incident_commander, notify: [executive]}
            """,
        )
        authority = decide(UNCERTAIN, policy=policy).authority
        assert authority is not None
        assert (authority.decided_by, authority.notify) == ("incident_commander", ["executive"])
        assert authority.approval == "executive_decision"  # not overridden: kept

    def test_rollback_type_entry(self, tmp_path: Path) -> None:
        policy = org(tmp_path, "extends: default\nrollback_types:\n  2: {name: Redeploy}\n")
        assert policy.rollback_types[2].name == "Redeploy"
        shipped = load_policy().rollback_types[2]
        assert policy.rollback_types[2].budget_minutes == shipped.budget_minutes

    def test_any_catalogue_section(self, tmp_path: Path) -> None:
        """Sections of the rules are overridable by id without the overlay knowing them."""
        policy = org(
            tmp_path,
            """
            extends: default
            stakeholder_groups:
              trading_system: {members: [Trading desk, Exchange connectivity]}
            """,
        )
        group = policy.document.stakeholder_groups["trading_system"]
        assert group.members == ["Trading desk", "Exchange connectivity"]
        decision = decide(PRODUCTION_DOWN | {"change": {"trading_system": True}}, policy=policy)
        assert "Exchange connectivity" in decision.model_dump_json()

    def test_type_budget(self, tmp_path: Path) -> None:
        assert "Rollback type 4 (complex, under 120 min)" in texts(decide(INFRASTRUCTURE))
        policy = org(tmp_path, "extends: default\nparameters: {type_4_budget_minutes: 90}\n")
        decision = decide(INFRASTRUCTURE, policy=policy)
        assert decision.rollback_type == 4
        assert "Rollback type 4 (complex, under 90 min)" in texts(decision)

    def test_metric_target(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            parameters: {target_time_to_decision_minutes: 10}
            rules:
              add:
                - table: impact
                  before: impact.non_critical
                  id: org.impact.reported_late
                  when: {severity: critical}
                  set: {impact: critical}
                  because: Critical; decide within {target_time_to_decision_minutes} minutes.
            """,
        )
        assert policy.parameters["target_time_to_decision_minutes"] == 10
        assert load_policy().parameters["target_time_to_decision_minutes"] == 15

    def test_add_rule_before(self, tmp_path: Path) -> None:
        assert decide(TRADING_ERRORS).action is Action.ROLLBACK
        policy = org(
            tmp_path,
            """
            extends: default
            parameters: {target_time_to_decision_minutes: 10}
            rules:
              add:
                - table: impact
                  before: impact.reported
                  id: org.impact.trading_system_errors
                  when:
                    trading_system: true
                    symptoms: {any_of: [non_critical_errors]}
                  set: {impact: critical}
                  because: >-
                    Trading-system errors are critical; decide within
                    {target_time_to_decision_minutes} minutes.
            """,
        )
        decision = decide(TRADING_ERRORS, policy=policy)
        assert decision.action is Action.IMMEDIATE_ROLLBACK
        assert "org.impact.trading_system_errors" in decision.rule_ids
        assert "decide within 10 minutes." in texts(decision)
        rules = [r.id for r in policy.table("impact").rules]
        assert rules.index("org.impact.trading_system_errors") == rules.index("impact.reported") - 1

    def test_add_rule_after(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            rules:
              add:
                - table: impact
                  after: impact.immediate_trigger
                  id: org.impact.trading_system
                  when: {trading_system: true}
                  set: {impact: critical}
            """,
        )
        rules = [r.id for r in policy.table("impact").rules]
        assert rules[:2] == ["impact.immediate_trigger", "org.impact.trading_system"]
        assert decide(TRADING_ERRORS, policy=policy).action is Action.IMMEDIATE_ROLLBACK

    def test_add_rule_at_the_end_of_a_collect_table(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            rules:
              add:
                - table: rollback_eta_estimate
                  id: org.eta.smoke_test
                  when: {classified_type: {in: [2, 3, 4]}}
                  set: {rollback_eta_estimate: 2}
                  because: "Smoke test after every rollback: 2 min."
            """,
        )
        assert policy.table("rollback_eta_estimate").rules[-1].id == "org.eta.smoke_test"
        assert (
            decide(
                QUICK_FIX | {"fix_forward_eta_minutes": None}, policy=policy
            ).rollback_eta_minutes
            == 7
        )

    def test_replace_rule(self, tmp_path: Path) -> None:
        assert decide(HIGH_RISK_TESTED).action is Action.EVALUATE_RISK
        policy = org(
            tmp_path,
            """
            extends: default
            rules:
              replace:
                - id: tree.6.high_risk
                  when: {rollback_risk: high, rollback_tested: {ne: true}}
                  set: {action: evaluate_risk}
                  because: "Step 6 (org): high-risk and untested."
                  if_not: "Step 6 (org) does not apply."
            """,
        )
        decision = decide(HIGH_RISK_TESTED, policy=policy)
        assert decision.action is Action.ROLLBACK
        assert "Step 6 (org) does not apply." in texts(decision)
        untested = decide(HIGH_RISK_TESTED | {"rollback_tested": None}, policy=policy)
        assert untested.action is Action.EVALUATE_RISK
        # Same place in the table, same id.
        shipped = [r.id for r in load_policy().table("decision").rules]
        assert [r.id for r in policy.table("decision").rules] == shipped

    def test_disable_rule(self, tmp_path: Path) -> None:
        assert decide(FIX_FASTER).action is Action.FIX_FORWARD
        policy = org(tmp_path, "extends: default\nrules: {disable: [tree.7.fix_faster]}\n")
        decision = decide(FIX_FASTER, policy=policy)
        assert decision.action is Action.ROLLBACK
        assert "tree.7.fix_faster" not in [r.id for r in policy.table("decision").rules]

    def test_extends_chain_of_two_files(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            "group.yaml",
            """
            extends: default
            policy: {name: group, version: "1"}
            parameters: {fix_forward_window_minutes: 10, critical_min_approvers: 4}
            roles: {executive: {name: Group CTO}}
            """,
        )
        policy = org(
            tmp_path,
            """
            extends: group.yaml
            policy: {name: desk, version: "2"}
            parameters: {critical_min_approvers: 3}
            """,
        )
        assert decide(QUICK_FIX, policy=policy).action is Action.ROLLBACK  # from group.yaml
        critical = decide(CRITICAL, policy=policy).authority
        assert critical is not None
        assert critical.min_approvers == 3
        uncertain = decide(UNCERTAIN, policy=policy).authority
        assert uncertain is not None
        assert uncertain.decided_by_name == "Group CTO"
        assert (policy.identity.name, policy.identity.version) == ("desk", "2")

    def test_extends_a_rules_folder(self, tmp_path: Path, rules_copy: Path) -> None:
        path = rules_copy / "parameters.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("default: 15\n", "default: 5\n", 1), encoding="utf-8")
        policy = org(tmp_path, "extends: rules\nparameters: {critical_min_approvers: 3}\n")
        assert policy.parameters["fix_forward_window_minutes"] == 5  # from the folder
        assert policy.parameters["critical_min_approvers"] == 3  # from the file
        assert decide(QUICK_FIX, policy=policy).action is Action.ROLLBACK

    def test_extends_an_absolute_path_when_allowed(self, tmp_path: Path) -> None:
        path = write(tmp_path, "org.yaml", f"extends: {shipped_rules_dir()}\n")
        policy = load_policy(path, allow_extends_outside=True)
        assert decide(QUICK_FIX, policy=policy).action is Action.FIX_FORWARD

    def test_extends_a_subfolder(self, tmp_path: Path) -> None:
        shutil.copytree(shipped_rules_dir(), tmp_path / "base" / "rules")
        write(tmp_path / "base", "group.yaml", "extends: rules\n")
        policy = org(tmp_path, "extends: base/group.yaml\n")
        assert decide(QUICK_FIX, policy=policy).action is Action.FIX_FORWARD

    def test_a_new_parameter_for_a_new_rule(self, tmp_path: Path) -> None:
        policy = org(
            tmp_path,
            """
            extends: default
            add:
              parameters:
                desk_symptoms:
                  type: list[symptom]
                  default: [integration_failure]
                  section: Acme › Desk rules
            parameters: {desk_symptoms: [integration_failure, monitoring_alert]}
            rules:
              add:
                - table: impact
                  before: impact.reported
                  id: org.impact.desk
                  when: {symptoms: {any_of: {param: desk_symptoms}}}
                  set: {impact: critical}
            """,
        )
        decision = decide(UNCERTAIN | {"related_to_deployment": True}, policy=policy)
        assert decision.action is Action.IMMEDIATE_ROLLBACK


# -- identity ---------------------------------------------------------------------------------


class TestIdentity:
    """Issue 6: "Every decision carries the policy's identity (name, version, content hash) so a
    decision can be traced to the exact rules that made it"."""

    def test_name_and_version_from_the_file(self, tmp_path: Path) -> None:
        policy = org(tmp_path, "extends: default\npolicy: {name: acme, version: '2026.1'}\n")
        assert (policy.identity.name, policy.identity.version) == ("acme", "2026.1")
        assert decide(QUICK_FIX, policy=policy).policy == policy.identity

    def test_default_name_says_what_it_extends(self, tmp_path: Path) -> None:
        policy = org(tmp_path, "extends: default\n", name="acme.yaml")
        shipped = load_policy().identity
        assert policy.identity.name == f"{shipped.name}+acme"
        assert policy.identity.version == shipped.version

    def test_hash_covers_every_file_of_the_chain(self, tmp_path: Path, rules_copy: Path) -> None:
        write(tmp_path, "group.yaml", "extends: rules\nparameters: {critical_min_approvers: 3}\n")
        path = write(tmp_path, "org.yaml", "extends: group.yaml\n")
        hashes = {load_policy(path).identity.content_hash, load_policy().identity.content_hash}
        write(tmp_path, "org.yaml", "extends: group.yaml\n# a comment is an edit too\n")
        hashes.add(load_policy(path).identity.content_hash)
        write(tmp_path, "group.yaml", "extends: rules\nparameters: {critical_min_approvers: 4}\n")
        hashes.add(load_policy(path).identity.content_hash)
        rule_file = rules_copy / "decision.yaml"
        rule_file.write_text(rule_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        hashes.add(load_policy(path).identity.content_hash)
        assert len(hashes) == 5

    def test_hash_is_stable(self, tmp_path: Path) -> None:
        path = write(tmp_path, "org.yaml", "extends: default\n")
        assert load_policy(path).identity == load_policy(path).identity


# -- each kind of mistake gives its message ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "extends: default\nparameters:\n  fix_forward_window_minute: 10\n",
            [
                "org.yaml:3: key 'parameters.fix_forward_window_minute': unknown parameter "
                "'fix_forward_window_minute' (did you mean 'fix_forward_window_minutes'?)"
            ],
            id="unknown-parameter",
        ),
        pytest.param(
            "extends: default\nparameters:\n  critical_min_approvers: three\n",
            [
                "org.yaml:3: key 'parameters.critical_min_approvers': must be an integer "
                "(declared as 'integer' in rules/parameters.yaml:44), got 'three'"
            ],
            id="wrong-type",
        ),
        pytest.param(
            "extends: default\nparameters:\n  fix_forward_window_minutes: true\n",
            [
                "org.yaml:3: key 'parameters.fix_forward_window_minutes': must be a number "
                "(declared as 'number' in rules/parameters.yaml:7), got true"
            ],
            id="boolean-is-not-a-number",
        ),
        pytest.param(
            "extends: default\nparameters:\n  uncertain_notify: [all_leadrship]\n",
            [
                "org.yaml:3: key 'parameters.uncertain_notify': must be a list of "
                "all_leadership, cab, executive, incident_commander, on_call_engineer, "
                "senior_approver, stakeholders, standard_stakeholders (declared as 'list[role]' "
                "in rules/parameters.yaml:77), got ['all_leadrship']; 'all_leadrship' is not "
                "one of them (did you mean 'all_leadership'?)"
            ],
            id="unknown-role-in-a-list",
        ),
        pytest.param(
            "extends: default\nrules:\n  disable: [tree.7.fix_fastr]\n",
            [
                "org.yaml:3: rule 'tree.7.fix_fastr', key 'rules.disable.0': unknown rule "
                "'tree.7.fix_fastr' (did you mean 'tree.7.fix_faster'?)"
            ],
            id="unknown-rule-to-disable",
        ),
        pytest.param(
            "extends: default\nrules:\n  replace:\n    - id: tree.6.high_rsk\n"
            "      set: {action: rollback}\n",
            [
                "org.yaml:4: rule 'tree.6.high_rsk', key 'rules.replace.0.id': unknown rule "
                "'tree.6.high_rsk' (did you mean 'tree.6.high_risk'?)"
            ],
            id="unknown-rule-to-replace",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n    - {table: decison, id: x}\n",
            [
                "org.yaml:4: rule 'x', key 'rules.add.0.table': unknown table 'decison' "
                "(did you mean 'decision'?)"
            ],
            id="unknown-table",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n"
            "    - {table: decision, id: x, before: tree.7.rollbak, set: {action: rollback}}\n",
            [
                "org.yaml:4: rule 'x', key 'rules.add.0.before': no rule 'tree.7.rollbak' in "
                "table 'decision' (did you mean 'tree.7.rollback'?)"
            ],
            id="unknown-anchor",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n"
            "    - {table: decision, id: x, after: impact.reported, set: {action: rollback}}\n",
            [
                "org.yaml:4: rule 'x', key 'rules.add.0.after': no rule 'impact.reported' in "
                "table 'decision' (it is in table 'impact')"
            ],
            id="anchor-in-another-table",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n"
            "    - {table: decision, id: x, set: {action: rollback}}\n",
            [
                "org.yaml:4: rule 'x', key 'rules.add.0.table': the rule would never match: "
                "table 'decision' takes the first match and ends with the catch-all rule "
                "'tree.7.rollback'; place it with 'before: tree.7.rollback'"
            ],
            id="added-after-a-catch-all",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n"
            "    - {table: decision, id: tree.3.critical, before: tree.7.rollback,"
            " set: {action: rollback}}\n",
            [
                "org.yaml:4: rule 'tree.3.critical', key 'rules.add.0.id': rule id "
                "'tree.3.critical' is already used in table 'decision'; to change that rule, "
                "list it under 'rules: replace:'"
            ],
            id="added-id-exists",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n"
            "    - {table: decision, id: x, before: tree.7.rollback, after: tree.3.critical,"
            " set: {action: rollback}}\n",
            ["org.yaml:4: rule 'x', key 'rules.add.0.before': say 'before' or 'after', not both"],
            id="before-and-after",
        ),
        pytest.param(
            "extends: default\nrules:\n  disable: [tree.7.fix_faster]\n  add:\n"
            "    - {table: decision, id: x, after: tree.7.fix_faster, set: {action: rollback}}\n",
            [
                "org.yaml:5: rule 'x', key 'rules.add.0.after': rule 'tree.7.fix_faster' is "
                "disabled in this file"
            ],
            id="anchor-disabled",
        ),
        pytest.param(
            "extends: default\nrules:\n  disable: [eta.reported, eta.estimated, eta.type_2_budget,"
            " eta.type_3_budget, eta.type_4_budget, eta.none]\n",
            [
                "org.yaml:3: rule 'eta.none', key 'rules.disable.5': disables every rule of "
                "table 'rollback_eta'"
            ],
            id="table-left-empty",
        ),
        pytest.param(
            "extends: default\nrules:\n  disable: [tree.7.fix_faster]\n  replace:\n"
            "    - {id: tree.7.fix_faster, set: {action: rollback}}\n",
            [
                "org.yaml:3: rule 'tree.7.fix_faster', key 'rules.disable.0': already replaced "
                "in this file"
            ],
            id="disable-and-replace",
        ),
        pytest.param(
            "extends: default\nparamters: {fix_forward_window_minutes: 10}\n",
            ["org.yaml:2: key 'paramters': unknown key (did you mean 'parameters'?)"],
            id="unknown-top-level-key",
        ),
        pytest.param(
            "extends: default\ntables: []\n",
            [
                "org.yaml:2: key 'tables': unknown key; an organisation policy changes rules "
                "under 'rules:' (disable, replace, add)"
            ],
            id="tables-in-an-org-file",
        ),
        pytest.param(
            "extends: ''\n",
            ["org.yaml:1: key 'extends': name the base: 'default' or a path"],
            id="empty-extends",
        ),
        pytest.param(
            "extends: default\nrollback_types:\n  2: {budget_minutes: 4}\n  7: {name: x}\n",
            [
                "org.yaml:4: key 'rollback_types.7': unknown rollback type 7; a new rollback "
                "type goes under 'add: rollback_types:'"
            ],
            id="unknown-int-id",
        ),
        pytest.param(
            "parameters: {fix_forward_window_minutes: 10}\n",
            ["org.yaml:1: key 'extends': required key is missing"],
            id="no-extends",
        ),
        pytest.param(
            "extends: default\nrules:\n  disable: [tree.7.fix_faster]\n  add:\n"
            "    - {table: decision, id: x, whn: {}}\n",
            ["org.yaml:5: rule 'x', key 'rules.add.0.whn': unknown key (did you mean 'when'?)"],
            id="unknown-key-in-a-rule",
        ),
        pytest.param(
            "extends: default\nroles:\n  executiv: {name: Head of Trading}\n",
            [
                "org.yaml:3: key 'roles.executiv': unknown role 'executiv' (did you mean "
                "'executive'?); a new role goes under 'add: roles:'"
            ],
            id="unknown-role-id",
        ),
        pytest.param(
            "extends: default\nroles:\n  executive: {nme: Head of Trading}\n",
            ["org.yaml:3: key 'roles.executive.nme': unknown key (did you mean 'name'?)"],
            id="unknown-field-of-a-role",
        ),
        pytest.param(
            "extends: default\nauthorities:\n  uncertain: {min_approvers: some}\n",
            [
                "org.yaml:3: key 'authorities.uncertain.min_approvers.int': Input should be a "
                "valid integer, unable to parse string as an integer, got 'some'",
                "org.yaml:3: key 'authorities.uncertain.min_approvers.ParamRef': Input should "
                "be a valid dictionary or instance of ParamRef, got 'some'",
            ],
            id="wrong-type-of-a-field",
        ),
        pytest.param(
            "extends: default\nadd:\n  roles:\n    cab: {name: Board}\n",
            [
                "org.yaml:4: key 'add.roles.cab': role 'cab' is already defined "
                "(in rules/authority.yaml:7); change it under 'roles:'"
            ],
            id="added-entry-exists",
        ),
        pytest.param(
            "extends: default\nadd:\n  role: {desk: {name: Desk}}\n",
            ["org.yaml:3: key 'add.role': no section 'role' to add to (did you mean 'roles'?)"],
            id="add-to-unknown-section",
        ),
        pytest.param(
            "extends: default\nadd:\n  roles: {desk: {description: no name}}\n",
            ["org.yaml:3: key 'add.roles.desk.name': required key is missing"],
            id="added-entry-incomplete",
        ),
        pytest.param(
            "extends: default\nauthorities:\n  uncertain: {decided_by: executiv}\n",
            [
                "org.yaml:3: key 'authorities.uncertain.decided_by': unknown role 'executiv' "
                "(did you mean 'executive'?)"
            ],
            id="compiler-problem-in-an-override",
        ),
        pytest.param(
            "extends: default\nrules:\n  replace:\n    - id: tree.6.high_risk\n"
            "      when: {rollback_risk: hgh}\n      set: {action: evaluate_risk}\n",
            [
                "org.yaml:5: rule 'tree.6.high_risk', key 'when.rollback_risk': 'rollback_risk' "
                "is one of high, low or null; 'hgh' is not (did you mean 'high'?)"
            ],
            id="compiler-problem-in-a-replaced-rule",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n    - table: decision\n      id: x\n"
            "      before: tree.7.rollback\n      set: {action: rollbak}\n",
            [
                "org.yaml:7: rule 'x', key 'set.action': 'action' must be one of escalate, "
                "evaluate_risk, fix_forward, immediate_rollback, investigate, must_fix_forward, "
                "no_action, rollback, got 'rollbak' (did you mean 'rollback'?)"
            ],
            id="compiler-problem-in-an-added-rule",
        ),
        pytest.param(
            "extends: default\nrules:\n  add:\n    - table: rollback_eta_estimate\n      id: x\n"
            "      when: {rollback_type: 2}\n      set: {rollback_eta_estimate: 2}\n",
            [
                "org.yaml:6: rule 'x', key 'when.rollback_type': unknown fact 'rollback_type' "
                "here: it is made by table 'rollback_type_by_time', which runs after this one "
                "in the pipeline"
            ],
            id="reads-a-fact-a-later-table-makes",
        ),
        pytest.param(
            "extends: default\nparameters: [fix_forward_window_minutes]\n",
            [
                "org.yaml:2: key 'parameters': Input should be a valid dictionary, got "
                "['fix_forward_window_minutes']"
            ],
            id="parameters-not-a-mapping",
        ),
        pytest.param(
            "- extends: default\n",
            ["org.yaml:1: an organisation policy is a mapping with 'extends' and what it changes"],
            id="not-a-mapping",
        ),
        pytest.param(
            "extends: default\nparameters: {a: 1\n",
            ["org.yaml:3: not valid YAML: expected ',' or '}', but got '<stream end>'"],
            id="not-yaml",
        ),
    ],
)
def test_mistake(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, "org.yaml", text)
    assert problems_of(path) == expected


def test_every_mistake_at_once(tmp_path: Path) -> None:
    """A file with several mistakes lists them all, shape and meaning."""
    path = write(
        tmp_path,
        "org.yaml",
        """
        extends: default
        polcy: {name: x, version: "1"}
        parameters: {fix_forward_window_minute: 10}
        rules:
          disable: [tree.7.fix_fastr]
          add:
            - {table: decision, id: x, whn: {}}
        """,
    )
    assert problems_of(path) == [
        "org.yaml:2: key 'polcy': unknown key (did you mean 'policy'?)",
        "org.yaml:7: rule 'x', key 'rules.add.0.whn': unknown key (did you mean 'when'?)",
        "org.yaml:3: key 'parameters.fix_forward_window_minute': unknown parameter "
        "'fix_forward_window_minute' (did you mean 'fix_forward_window_minutes'?)",
        "org.yaml:5: rule 'tree.7.fix_fastr', key 'rules.disable.0': unknown rule "
        "'tree.7.fix_fastr' (did you mean 'tree.7.fix_faster'?)",
    ]


class TestExtends:
    def test_cycle(self, tmp_path: Path) -> None:
        write(tmp_path, "a.yaml", "extends: b.yaml\n")
        write(tmp_path, "b.yaml", "# b extends a\nextends: ./a.yaml\n")
        assert problems_of(tmp_path / "a.yaml") == [
            "b.yaml:2: key 'extends': 'extends' forms a cycle: a.yaml -> b.yaml -> a.yaml"
        ]

    def test_extends_itself(self, tmp_path: Path) -> None:
        path = write(tmp_path, "org.yaml", "extends: org.yaml\n")
        assert problems_of(path) == [
            "org.yaml:1: key 'extends': 'extends' forms a cycle: org.yaml -> org.yaml"
        ]

    def test_missing_target(self, tmp_path: Path) -> None:
        write(tmp_path, "group-policy.yaml", "extends: default\n")
        path = write(tmp_path, "org.yaml", "policy: {name: x, version: '1'}\nextends: group.yaml\n")
        assert problems_of(path) == [
            "org.yaml:2: key 'extends': no such file or folder: 'group.yaml' (looked for "
            "group.yaml) (did you mean 'group-policy.yaml'?); 'default' means the shipped policy"
        ]

    def test_problems_of_the_base_file_name_it(self, tmp_path: Path) -> None:
        write(tmp_path, "group.yaml", "extends: default\nparameters: {critical_min_aprovers: 3}\n")
        path = write(tmp_path, "org.yaml", "extends: group.yaml\nparameters: {nope: 1}\n")
        assert problems_of(path) == [
            "group.yaml:2: key 'parameters.critical_min_aprovers': unknown parameter "
            "'critical_min_aprovers' (did you mean 'critical_min_approvers'?)",
            "org.yaml:2: key 'parameters.nope': unknown parameter 'nope'",
        ]

    def test_a_broken_rules_folder_is_reported_alone(
        self, tmp_path: Path, rules_copy: Path
    ) -> None:
        (rules_copy / "policy.yaml").write_text("policy: [\n", encoding="utf-8")
        path = write(tmp_path, "org.yaml", "extends: rules\nparameters: {nope: 1}\n")
        problems = problems_of(path)
        assert problems[0].startswith("rules/policy.yaml:2: not valid YAML")
        assert not [p for p in problems if p.startswith("org.yaml")]

    @pytest.mark.parametrize("name", ["authority.yaml", "parameters.yaml", "policy.yaml"])
    def test_a_rule_file_is_not_a_policy(self, rules_copy: Path, name: str) -> None:
        (problem,) = problems_of(rules_copy / name)
        assert problem.endswith(
            "key 'extends': this is a rule file, not an organisation policy (it has no "
            "'extends'): pass the folder that holds it"
        )

    def test_no_such_policy(self, tmp_path: Path) -> None:
        assert problems_of(tmp_path / "nothere.yaml") == ["nothere.yaml: no such file or folder"]


# -- load_policy, the CLI and the example ----------------------------------------------------


def test_load_policy_still_takes_a_folder_and_none() -> None:
    assert load_policy() is load_policy(None)
    assert load_policy(shipped_rules_dir()).identity == load_policy().identity


def test_cli_decides_with_an_org_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    incident = write(tmp_path, "incident.yaml", "related_to_deployment: null\n")
    assert main(["decide", str(incident), "--policy", str(EXAMPLES / "org-policy.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Decided by:    Head of Trading\n" in out
    assert "Policy: acme-trading-rollback 2026.1 (" in out


def test_cli_reports_a_broken_org_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = write(tmp_path, "incident.yaml", "related_to_deployment: null\n")
    policy = write(tmp_path, "org.yaml", "extends: default\nparameters: {nope: 1}\n")
    assert main(["decide", str(incident), "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"rollback-decision: {policy}:2: key 'parameters.nope': unknown parameter 'nope'\n"
    )


def test_cli_reports_every_problem_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = write(tmp_path, "incident.yaml", "related_to_deployment: null\n")
    policy = write(tmp_path, "org.yaml", "extends: default\nparameters: {nope: 1, nix: 2}\n")
    assert main(["decide", str(incident), "--policy", str(policy)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "rollback-decision: 2 problems in the policy: "
        f"{policy}:2: key 'parameters.nope': unknown parameter 'nope'; "
        f"{policy}:2: key 'parameters.nix': unknown parameter 'nix'\n"
    )


@pytest.fixture(scope="module")
def acme() -> Policy:
    return load_policy(EXAMPLES / "org-policy.yaml")


class TestExample:
    """``examples/org-policy.yaml``: each override has the effect the README shows."""

    def test_identity(self, acme: Policy) -> None:
        assert (acme.identity.name, acme.identity.version) == ("acme-trading-rollback", "2026.1")

    def test_window(self, acme: Policy) -> None:
        assert decide(QUICK_FIX, policy=acme).action is Action.ROLLBACK

    def test_critical_authority(self, acme: Policy) -> None:
        authority = decide(CRITICAL, policy=acme).authority
        assert authority is not None
        assert authority.min_approvers == 3
        assert authority.approval_name == "3 senior approvers minimum"
        assert authority.notify == ["cab", "trading_desk", "stakeholders"]

    def test_executive(self, acme: Policy) -> None:
        authority = decide(UNCERTAIN, policy=acme).authority
        assert authority is not None
        assert authority.decided_by_name == "Head of Trading"

    def test_rules(self, acme: Policy) -> None:
        assert decide(FIX_FASTER, policy=acme).action is Action.ROLLBACK
        assert decide(HIGH_RISK_TESTED, policy=acme).action is Action.ROLLBACK
        assert decide(TRADING_ERRORS, policy=acme).action is Action.IMMEDIATE_ROLLBACK
        assert "Rollback type 4 (complex, under 90 min)" in texts(
            decide(INFRASTRUCTURE, policy=acme)
        )

    @pytest.mark.parametrize(
        "incident", [QUICK_FIX, CRITICAL, UNCERTAIN, FIX_FASTER, HIGH_RISK_TESTED, TRADING_ERRORS]
    )
    def test_every_engine_agrees(self, acme: Policy, incident: dict[str, Any]) -> None:
        pytest.importorskip("durable")
        native = decide(incident, policy=acme)
        assert decide(incident, policy=acme, engine="durable") == native

    def test_example_incidents_still_decide(self, acme: Policy) -> None:
        for path in sorted((EXAMPLES / "incidents").glob("*.yaml")):
            from rollback_decision.facts import load_incident

            assert decide(load_incident(str(path)), policy=acme).policy == acme.identity


def test_copy_of_the_example_elsewhere(tmp_path: Path) -> None:
    """A relative ``extends`` is relative to the file, not to the working directory."""
    shutil.copy(EXAMPLES / "org-policy.yaml", tmp_path / "acme.yaml")
    write(tmp_path, "desk.yaml", "extends: acme.yaml\nparameters: {critical_min_approvers: 2}\n")
    authority = decide(CRITICAL, policy=load_policy(tmp_path / "desk.yaml")).authority
    assert authority is not None
    assert authority.min_approvers == 2


def test_verify_and_diff_take_an_org_policy(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 6: "``verify``/``diff`` ... work on it"."""
    example = str(EXAMPLES / "org-policy.yaml")
    assert main(["verify", "--policy", example]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verify: policy acme-trading-rollback 2026.1 (")
    assert "no findings" in out
    assert main(["diff", str(shipped_rules_dir()), example]) == 1
    out = capsys.readouterr().out
    assert "→ acme-trading-rollback 2026.1 (" in out
    assert "fix_forward → rollback:" in out
    assert 'e.g. {"related_to_deployment": true, "fix_forward_eta_minutes": 10}' in out
    assert main(["verify", example, "--policy", example]) == 2
    assert "name the policy once: as RULES_DIR or with --policy" in capsys.readouterr().err
