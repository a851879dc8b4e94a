"""A broken rules folder gets one PolicyError listing every problem, each with file and line.

The messages are part of the user interface: they are locked down word for word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rollback_decision import PolicyError, RollbackDecisionError, load_policy


def edit(rules: Path, file: str, old: str, new: str) -> None:
    path = rules / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(rules: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(rules)
    prefix = f"{rules}/"
    return [str(p).replace(prefix, "") for p in info.value.problems]


def test_policy_error_is_a_rollback_decision_error() -> None:
    assert issubclass(PolicyError, RollbackDecisionError)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "decision.yaml",
            "when: {production_issue: false}",
            "when: {production_isue: false}",
            "decision.yaml:88: rule 'tree.1.no_production_issue', key 'when.production_isue': "
            "unknown fact 'production_isue' (did you mean 'production_issue'?)",
            id="unknown-fact",
        ),
        pytest.param(
            "decision.yaml",
            "when: {risk: high}",
            "when: {risk: hihg}",
            "decision.yaml:140: rule 'tree.6.high_risk', key 'when.risk': "
            "'risk' is one of high, low, unknown; 'hihg' is not (did you mean 'high'?)",
            id="bad-enum-value",
        ),
        pytest.param(
            "decision.yaml",
            "{lt: {param: fix_forward_window_minutes}}",
            "{lt: {param: fix_forward_window}}",
            "decision.yaml:130: rule 'tree.4.quick_fix', key 'when.fix_forward_eta_minutes.lt': "
            "unknown parameter 'fix_forward_window' (did you mean 'fix_forward_window_minutes'?)",
            id="unknown-parameter",
        ),
        pytest.param(
            "decision.yaml",
            "{lt: {param: fix_forward_window_minutes}}",
            "{less: 15}",
            "decision.yaml:130: rule 'tree.4.quick_fix', key 'when.fix_forward_eta_minutes.less': "
            "unknown operator 'less' (did you mean 'le'?)",
            id="unknown-operator",
        ),
        pytest.param(
            "decision.yaml",
            "{lt: {param: fix_forward_window_minutes}}",
            "{lt: soon}",
            "decision.yaml:130: rule 'tree.4.quick_fix', key 'when.fix_forward_eta_minutes.lt': "
            "'lt' needs a number to compare 'fix_forward_eta_minutes' with, got 'soon'",
            id="wrong-operand-type",
        ),
        pytest.param(
            "decision.yaml",
            "combine: first\n    description: >-\n      The seven",
            "combine: frist\n    description: >-\n      The seven",
            "decision.yaml:79: key 'tables.decision.combine': unknown combine strategy 'frist' "
            "(did you mean 'first'?); expected one of first, unique, collect",
            id="unknown-combine-strategy",
        ),
        pytest.param(
            "decision.yaml",
            "set: {action: rollback}",
            "set: {action: roll_back}",
            "decision.yaml:123: rule 'tree.partial.complete_rollback', key 'set.action': "
            "'action' must be one "
            "of escalate, evaluate_risk, fix_forward, immediate_rollback, investigate, "
            "must_fix_forward, no_action, rollback, got 'roll_back' (did you mean 'rollback'?)",
            id="unknown-action",
        ),
        pytest.param(
            "decision.yaml",
            "id: tree.6.high_risk",
            "id: tree.4.quick_fix",
            "decision.yaml:138: rule 'tree.4.quick_fix', key 'id': rule id 'tree.4.quick_fix' "
            "is used again (first in table 'decision')",
            id="duplicate-rule-id",
        ),
        pytest.param(
            "decision.yaml",
            'because: "The impact is critical: production is down."',
            'because: "Down: {production}"',
            "decision.yaml:25: rule 'impact.production_down', key 'because': unknown placeholder "
            "{production} (did you mean 'production_down'?)",
            id="unknown-placeholder",
        ),
        pytest.param(
            "decision.yaml",
            "      - id: tree.1.no_production_issue\n",
            "      - id: tree.1.no_production_issue\n        wen: {}\n",
            "decision.yaml:87: rule 'tree.1.no_production_issue', key 'wen': unknown key "
            "(did you mean 'when'?)",
            id="unknown-rule-key",
        ),
        pytest.param(
            "decision.yaml",
            "set: {action: no_action}",
            "set: {action: no_action\n",
            "decision.yaml:91: not valid YAML: expected ',' or '}', but got ':'",
            id="not-yaml",
        ),
        pytest.param(
            "authority.yaml",
            "decided_by: cab\n",
            "decided_by: cabb\n",
            "authority.yaml:62: key 'authorities.non_critical.decided_by': unknown role 'cabb' "
            "(did you mean 'cab'?)",
            id="unknown-role",
        ),
        pytest.param(
            "parameters.yaml",
            "    default: 15\n",
            "    default: fifteen\n",
            "parameters.yaml:10: key 'parameters.fix_forward_window_minutes.default': default "
            "must be a number, got 'fifteen'",
            id="parameter-of-wrong-type",
        ),
    ],
)
def test_broken_rule_file_names_file_line_rule_and_key(
    rules_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(rules_copy, file, old, new)
    assert problems_of(rules_copy) == [expected]


def test_every_problem_is_reported_at_once(rules_copy: Path) -> None:
    edit(rules_copy, "decision.yaml", "{production_issue: false}", "{production_isue: false}")
    edit(rules_copy, "authority.yaml", "decided_by: cab\n", "decided_by: cabb\n")
    problems = problems_of(rules_copy)
    assert [p.split(":")[0] for p in problems] == ["authority.yaml", "decision.yaml"]


def test_table_missing_from_pipeline_is_reported(rules_copy: Path) -> None:
    edit(rules_copy, "policy.yaml", "  - authority\n", "  - authorty\n")
    assert problems_of(rules_copy) == [
        "policy.yaml:22: key 'pipeline.8': unknown table 'authorty' (did you mean 'authority'?)",
        "authority.yaml:88: key 'tables.authority.id': table 'authority' is not in the pipeline",
        "(policy): key 'authority': no table in the pipeline produces 'authority', which the "
        "decision needs",
    ]


def test_missing_folder_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such file or folder"):
        load_policy(tmp_path / "nowhere")


def test_empty_folder_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no \*\.yaml rule files here"):
        load_policy(tmp_path)
