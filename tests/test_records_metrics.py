"""The policy's rollback metrics, on hand-made logs whose figures are worked out by hand."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import load_policy
from rollback_decision.cli import main
from rollback_decision.records import read_log
from rollback_decision.records.metrics import compute_metrics

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"name": "hft-rollback-procedures", "version": "2.0", "content_hash": "x" * 64}
ACME = {"name": "acme-trading-rollback", "version": "2026.1", "content_hash": "y" * 64}


def _at(clock: str, day: int = 2) -> str:
    return f"2026-03-{day:02d}T{clock}:00Z"


def _write(path: Path, lines: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _decision(incident: str, clock: str, action: str, policy: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "decision",
        "incident": incident,
        "at": _at(clock),
        "action": action,
        "rollback_type": 2,
        "cause": {"event": None},
        "policy": policy,
    }


def _month() -> list[dict[str, Any]]:
    """10 deployments; INC-1 (issue cache): accepted after 6 min, a failed rollback, a retry
    that completes 30 min after the first start, data loss; INC-2 (cache again: a repeat):
    accepted after 12 min, rollback completed in 20; INC-3: accepted after 3 min, resolved
    without a rollback."""
    lines: list[dict[str, Any]] = [
        {"type": "deployed", "at": _at(f"0{n}:00"), "deployment": f"d{n}"} for n in range(10)
    ]
    lines[1]["incident"] = "INC-1"
    lines[2]["incident"] = "INC-2"
    lines[3]["incident"] = "INC-3"
    ev = "incident"
    lines += [
        {"type": "opened", ev: "INC-1", "at": _at("10:00"), "facts": {}, "issue": "cache"},
        {"type": "decision_accepted", ev: "INC-1", "at": _at("10:06"), "by": "a", "role": "ic"},
        {"type": "rollback_started", ev: "INC-1", "at": _at("10:10")},
        {"type": "rollback_failed", ev: "INC-1", "at": _at("10:20"), "reason": "stuck"},
        {"type": "rollback_started", ev: "INC-1", "at": _at("10:25")},
        {"type": "data_loss", ev: "INC-1", "at": _at("10:30"), "records": 12},
        {"type": "rollback_completed", ev: "INC-1", "at": _at("10:40")},
        {"type": "opened", ev: "INC-2", "at": _at("11:00"), "facts": {}, "issue": "cache"},
        {"type": "decision_accepted", ev: "INC-2", "at": _at("11:12"), "by": "b", "role": "ic"},
        {"type": "rollback_started", ev: "INC-2", "at": _at("11:15")},
        {"type": "rollback_completed", ev: "INC-2", "at": _at("11:35")},
        {"type": "opened", ev: "INC-3", "at": _at("12:00"), "facts": {}},
        {"type": "decision_accepted", ev: "INC-3", "at": _at("12:03"), "by": "c", "role": "ic"},
        {"type": "resolved", ev: "INC-3", "at": _at("12:30")},
        {"type": "post_mortem", ev: "INC-1", "at": _at("09:00", 3), "preventable": True},
        {"type": "post_mortem", ev: "INC-2", "at": _at("10:00", 3), "preventable": False},
    ]
    return lines


MONTH_FIGURES = {
    "metrics": {
        "rollback_rate": {"value": 20.0, "target": 5.0, "met": False, "count": 10},
        "time_to_decision_minutes": {"value": 7.0, "target": 15.0, "met": True, "count": 3},
        "time_to_complete_minutes": {"value": 25.0, "target": 30.0, "met": True, "count": 2},
        "rollback_success_rate": {"value": 66.67, "target": 100.0, "met": False, "count": 3},
        "data_loss_incidents": {"value": 1, "target": 0.0, "met": False, "count": 3},
        "repeat_rollbacks": {"value": 1, "target": 0.0, "met": False, "count": 2},
        "preventable_rollbacks": {"value": 1, "target": None, "met": None, "count": 2},
    },
    "deployments": 10,
    "incidents": 3,
    "rollbacks": 2,
}


def test_metrics_of_a_hand_made_month_are_the_figures_worked_out_by_hand(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.jsonl", _month())
    assert compute_metrics(read_log(log)).to_dict() == MONTH_FIGURES


def test_an_empty_log_has_no_rates_and_nothing_to_miss(tmp_path: Path) -> None:
    log = tmp_path / "empty.jsonl"
    log.write_text("")
    figures = compute_metrics(read_log(log)).to_dict()
    assert figures["metrics"] == {
        "rollback_rate": {"value": None, "target": 5.0, "met": None, "count": 0},
        "time_to_decision_minutes": {"value": None, "target": 15.0, "met": None, "count": 0},
        "time_to_complete_minutes": {"value": None, "target": 30.0, "met": None, "count": 0},
        "rollback_success_rate": {"value": None, "target": 100.0, "met": None, "count": 0},
        "data_loss_incidents": {"value": 0, "target": 0.0, "met": True, "count": 0},
        "repeat_rollbacks": {"value": 0, "target": 0.0, "met": True, "count": 0},
        "preventable_rollbacks": {"value": 0, "target": None, "met": None, "count": 0},
    }
    assert (figures["deployments"], figures["incidents"], figures["rollbacks"]) == (0, 0, 0)


def test_a_log_without_rollbacks_reports_the_rollback_figures_as_unmeasured(
    tmp_path: Path,
) -> None:
    lines: list[dict[str, Any]] = [
        {"type": "deployed", "at": _at("09:00"), "deployment": "d1", "incident": "INC-9"},
        {"type": "deployed", "at": _at("09:30"), "deployment": "d2"},
        {"type": "opened", "incident": "INC-9", "at": _at("10:00"), "facts": {}},
        {"type": "fix_eta", "incident": "INC-9", "at": _at("10:05"), "minutes": 5},
        {"type": "fix_deployed", "incident": "INC-9", "at": _at("10:09")},
        {"type": "resolved", "incident": "INC-9", "at": _at("10:20")},
    ]
    metrics = compute_metrics(read_log(_write(tmp_path / "l.jsonl", lines))).to_dict()["metrics"]
    assert metrics["rollback_rate"] == {"value": 0.0, "target": 5.0, "met": True, "count": 2}
    for name in ("time_to_decision_minutes", "time_to_complete_minutes", "rollback_success_rate"):
        assert metrics[name]["value"] is None
        assert metrics[name]["met"] is None
        assert metrics[name]["count"] == 0


def test_metrics_do_not_depend_on_the_policies_that_made_the_logged_decisions(
    tmp_path: Path,
) -> None:
    lines = _month()
    lines.insert(11, _decision("INC-1", "10:00", "rollback", SHIPPED))
    lines.insert(19, _decision("INC-2", "11:00", "immediate_rollback", ACME))
    log = _write(tmp_path / "two-policies.jsonl", lines)
    assert compute_metrics(read_log(log)).to_dict() == MONTH_FIGURES


def test_an_organisation_policy_sets_its_own_targets(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.jsonl", _month())
    acme = load_policy(ROOT / "examples/org-policy.yaml")
    decision = compute_metrics(read_log(log), policy=acme).metrics["time_to_decision_minutes"]
    assert (decision.value, decision.target, decision.met) == (7.0, 10.0, True)


def test_since_and_until_keep_what_happened_in_between(tmp_path: Path) -> None:
    log = _write(tmp_path / "log.jsonl", _month())
    report = compute_metrics(
        read_log(log),
        since=read_log(log).records[0].at.replace(hour=10, minute=30),
        until=read_log(log).records[0].at.replace(hour=11, minute=30),
    )
    # Only INC-2 opened in the window: it still repeats INC-1's issue rolled back earlier.
    assert (report.deployments, report.incidents, report.rollbacks) == (0, 1, 1)
    assert report.metrics["repeat_rollbacks"].value == 1
    assert report.metrics["time_to_complete_minutes"].value == 20.0
    assert report.metrics["rollback_rate"].value is None


def test_cli_metrics_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _write(tmp_path / "log.jsonl", _month())
    assert main(["metrics", str(log), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == MONTH_FIGURES
    assert main(["metrics", str(log), "--since", "2026-03-03"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Rollback metrics (2026-03-03T00:00:00Z to end): 0 deployments, ")
    assert "\n  Rollback rate            n/a     ≤ 5 %     -    0 deployments\n" in text
    assert "\n  Repeat rollbacks         0 of 0  ≤ 0 %     yes  0 rollbacks\n" in text


def test_cli_metrics_reads_several_logs_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _month()
    first = _write(tmp_path / "march.1.jsonl", lines[:15])
    second = _write(tmp_path / "march.2.jsonl", lines[15:])
    assert main(["metrics", str(first), str(second), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == MONTH_FIGURES
    assert (
        main(["metrics", str(first), str(second), "--until", "2026-03-02", "--format", "json"]) == 0
    )
    until = json.loads(capsys.readouterr().out)
    # The whole day is kept; the post-mortems of the next day are read with their incidents.
    assert until == MONTH_FIGURES


def test_cli_metrics_reports_a_torn_tail_and_still_counts_the_whole_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _write(tmp_path / "log.jsonl", _month())
    with log.open("a") as handle:
        handle.write('{"type": "deployed", "at": ')
    assert main(["metrics", str(log), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == MONTH_FIGURES
    assert err == (
        f"rollback-decision: warning: {log}:27: torn last line (no newline at its end); "
        "it is not read\n"
    )


def test_cli_metrics_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _write(
        tmp_path / "log.jsonl", [{"type": "resolved", "incident": "X", "at": _at("10:00")}] * 2
    )
    assert main(["metrics", str(log)]) == 2
    assert capsys.readouterr().err == (
        f"rollback-decision: {log}:1: invalid decision log line: field 'incident': "
        "incident X has no 'opened' line before it\n"
    )
    assert main(["metrics", str(log), "--since", "March"]) == 2
    assert "--since" in capsys.readouterr().err


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    log = _write(tmp_path / "log.jsonl", _month())
    out = tmp_path / "times.png"
    assert main(["metrics", str(log), "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_which_extra_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    log = _write(tmp_path / "log.jsonl", _month())
    assert main(["metrics", str(log), "--plot", str(tmp_path / "t.png")]) == 2
    assert capsys.readouterr().err == (
        "rollback-decision: --plot needs matplotlib: pip install 'rollback-decision[plot]'\n"
    )
