"""Post-mortem skeletons from the decision log."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollback_decision.cli import main
from tests.decision_log_example import EXAMPLE

ROOT = Path(__file__).resolve().parents[1]
TODO = "_to be completed_"


def _post_mortem(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["post-mortem", *args]) == 0
    return capsys.readouterr().out


def test_the_header_gives_deployment_issue_48_hour_deadline_and_when_it_was_held(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _post_mortem(capsys, str(EXAMPLE), "--incident", "INC-3005")
    assert text.startswith(
        "# Post-mortem: INC-3005\n\n"
        "- Opened: 2026-03-18T11:00:00Z\n"
        "- Deployment: dep-0318-a\n"
        "- Root problem (issue): fills-table-migration\n"
        "- Deadline: 2026-03-20T11:41:00Z (within 48 hours of the rollback ending at "
        "2026-03-18T11:41:00Z; ROLLBACK POST-MORTEM › MANDATORY POST-MORTEM)\n"
        "- Held: 2026-03-20T07:00:00Z\n\n"
        "## Attendees\n\n"
        f"- Deployment team: {TODO}\n"
        f"- Incident commander: {TODO}\n"
    )


def test_the_timeline_decisions_and_metrics_come_from_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _post_mortem(capsys, str(EXAMPLE), "--incident", "INC-3005")
    assert "| 2026-03-18T11:38:00Z | data_loss (event 3) | records: 1240 |\n" in text
    assert "| 2026-03-18T11:04:00Z | decision | immediate_rollback (type 2) (event 0) |\n" in text
    assert (
        "### 2026-03-18T11:04:00Z: immediate_rollback (type 2)\n\n"
        "Cause: event 0. Policy: hft-rollback-procedures 2.0 (sha256 " in text
    )
    assert "\n1. `tree.1.no_production_issue` (ROLLBACK DECISION FRAMEWORK › DECISION TREE" in text
    assert (
        "| Metric | This incident | Met | Target |\n"
        "|---|---|---|---|\n"
        "| Time to decision | 9 min | yes | ≤ 15 min |\n"
        "| Time to complete | 29 min | yes | ≤ 30 min |\n"
        "| Rollback success | 1 completed, 0 failed | yes | ≥ 100 % |\n"
        "| Data loss | yes | NO | ≤ 0 % |\n"
        "| Repeat rollback | no | yes | ≤ 0 % |\n"
        "| Preventable | yes | - | none |\n"
    ) in text
    assert (
        "| Replay fills from the exchange drop copy after a restore (immediate) | "
        f"operations team | 2026-03-25 | high | {TODO} |\n"
    ) in text


def test_the_agenda_and_deliverables_are_the_policys(capsys: pytest.CaptureFixture[str]) -> None:
    text = _post_mortem(capsys, str(EXAMPLE), "--incident", "INC-3006")
    assert f"1. **Timeline review**\n   {TODO}\n" in text
    assert f"8. **Root cause analysis (5 whys)**\n   {TODO}\n" in text
    assert "## Deliverables\n\n- [ ] Post-mortem document\n- [ ] Root cause analysis\n" in text
    assert (
        "| Repeat rollback | yes: the issue was rolled back before (INC-3001) | NO | ≤ 0 % |"
        in (text)
    )


def test_placeholders_only_where_the_log_has_no_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text(
        '{"type": "opened", "incident": "I-1", "at": "2026-03-02T14:00:00Z", '
        '"facts": {"related_to_deployment": true, "symptoms": ["trading_logic_error"]}}\n'
        '{"type": "rollback_started", "incident": "I-1", "at": "2026-03-02T14:20:00Z"}\n'
        '{"type": "rollback_completed", "incident": "I-1", "at": "2026-03-02T14:24:00Z"}\n'
    )
    text = _post_mortem(capsys, str(log), "--incident", "I-1")
    assert f"- Deployment: {TODO}\n- Root problem (issue): {TODO}\n" in text
    assert f"- Held: {TODO}\n" in text
    assert "| Time to decision | not measured | - | ≤ 15 min |\n" in text
    assert f"| Preventable | {TODO} | - | none |\n" in text
    assert f"| {TODO} | {TODO} | {TODO} | {TODO} | {TODO} |\n" in text
    assert f"The log records no decision. {TODO}" in text


def test_under_another_policy_the_logged_rules_are_shown_and_its_targets_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pm.md"
    org = str(ROOT / "examples" / "org-policy.yaml")
    args = [str(EXAMPLE), "--incident", "INC-3001", "--policy", org, "-o", str(out)]
    assert _post_mortem(capsys, *args) == ""
    text = out.read_text()
    assert "Rules (as logged; the policy given is not the one that decided): `tree.1." in text
    assert "| Time to decision | 5 min | yes | ≤ 10 min |\n" in text


def test_an_unknown_incident_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["post-mortem", str(EXAMPLE), "--incident", "INC-300"]) == 2
    assert capsys.readouterr().err == (
        "rollback-decision: --incident: no incident 'INC-300' in the log "
        "(did you mean 'INC-3007'?)\n"
    )
