"""The command line: reports, JSON, schema, and one clear message with exit 2 on bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from rollback_decision import Decision, Incident
from rollback_decision.cli import main
from tests.conftest import EXAMPLES

EXAMPLE_FILES = sorted((EXAMPLES / "incidents").glob("*.yaml"))

# The action each shipped example must lead to.
EXPECTED_ACTIONS = {
    "critical-trading-logic-bug.yaml": "immediate_rollback",
    "production-down.yaml": "immediate_rollback",
    "non-critical-quick-fix.yaml": "fix_forward",
    "irreversible-migration.yaml": "must_fix_forward",
    "uncertain-relation.yaml": "escalate",
    "feature-flagged-change.yaml": "rollback",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_examples_cover_the_promised_situations() -> None:
    assert sorted(p.name for p in EXAMPLE_FILES) == sorted(EXPECTED_ACTIONS)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_decide_example_as_json(capsys: pytest.CaptureFixture[str], path: Path) -> None:
    code, out, err = run(capsys, "decide", str(path), "--format", "json")
    assert (code, err) == (0, "")
    decision = Decision.model_validate(json.loads(out))
    assert decision.action.value == EXPECTED_ACTIONS[path.name]


def test_text_report_says_action_why_authority_and_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = EXAMPLES / "incidents" / "critical-trading-logic-bug.yaml"
    code, out, _ = run(capsys, "decide", str(path))
    assert code == 0
    assert "Action:        immediate_rollback" in out
    assert "Rollback type: 2" in out
    assert "Decided by:    Incident commander" in out
    assert "Approval:      2 senior approvers minimum (at least 2)" in out
    assert "Step 3: the impact is critical. Immediate rollback; skip to execution." in out
    assert "[tree.3.critical; ROLLBACK DECISION FRAMEWORK › DECISION TREE › 3." in out


def test_decide_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"related_to_deployment": false}'))
    code, out, _ = run(capsys, "decide", "-", "--format", "json")
    assert code == 0
    assert json.loads(out)["action"] == "investigate"


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (
            "related_to_deployment: true\nsymptom: [data_corruption]\n",
            ":2",
            "field 'symptom': unknown field (did you mean 'symptoms'?)",
        ),
        (
            "change:\n  data_scenario: incompatible\n",
            ":2",
            "field 'change.data_scenario': expected one of 'no_data_changes', "
            "'backward_compatible_schema', 'forward_compatible_schema', 'incompatible_schema' or "
            "'irreversible_transformation', got 'incompatible' (did you mean "
            "'incompatible_schema'?)",
        ),
        (
            "production_issue: maybe\n",
            ":1",
            "field 'production_issue': expected true or false, got 'maybe'",
        ),
        ("- a list\n", ":1", "expected a mapping of incident fields, got list"),
        (
            "symptoms: [a, b\n",
            ":2",
            "not valid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "# nothing here\n",
            "",
            "the incident is empty (an incident with every fact unknown is {})",
        ),
    ],
)
def test_bad_incident_file_exits_2_with_one_clear_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, where: str, message: str
) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "decide", str(path))
    assert code == 2
    assert out == ""
    assert err == f"rollback-decision: {path}{where}: invalid incident: {message}\n"


def test_missing_incident_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    code, _, err = run(capsys, "decide", str(path))
    assert code == 2
    assert err == (
        f"rollback-decision: {path}: invalid incident: cannot read file: "
        "No such file or directory\n"
    )


def test_bad_policy_folder_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = EXAMPLES / "incidents" / "production-down.yaml"
    code, _, err = run(capsys, "decide", str(path), "--policy", str(tmp_path / "none"))
    assert code == 2
    assert err == f"rollback-decision: {tmp_path / 'none'}: no such file or folder\n"


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "decide", "x.yaml", "--format", "xml")
    assert code == 2
    assert err.startswith("rollback-decision: Invalid value for '--format'")
    assert err.endswith(" (see --help)\n")
    assert err.count("\n") == 1


def test_schema_is_the_incident_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert json.loads(out) == Incident.model_json_schema()
