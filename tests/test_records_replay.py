"""Replay of a decision log under a policy, and the shipped example log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollback_decision import load_policy
from rollback_decision.cli import main
from rollback_decision.records import DecisionRecord, read_log
from rollback_decision.records.metrics import compute_metrics
from rollback_decision.records.replay import replay_log
from tests.decision_log_example import EXAMPLE, build_example_log

ROOT = Path(__file__).resolve().parents[1]
ORG = ROOT / "examples" / "org-policy.yaml"


def test_the_shipped_example_log_is_what_its_generator_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "decision-log.jsonl"
    build_example_log(fresh)
    assert fresh.read_text() == EXAMPLE.read_text(), (
        "examples/decision-log.jsonl is stale: run .venv/bin/python tests/decision_log_example.py"
    )


def test_the_example_log_is_a_month_with_a_failed_rollback_a_repeat_and_a_data_loss() -> None:
    report = compute_metrics(read_log(EXAMPLE))
    assert (report.deployments, report.incidents, report.rollbacks) == (40, 7, 5)
    figures = {name: m.value for name, m in report.metrics.items()}
    assert figures["rollback_success_rate"] == pytest.approx(100 * 5 / 6, abs=0.01)
    assert figures["data_loss_incidents"] == 1
    assert figures["repeat_rollbacks"] == 1


def test_replaying_the_example_log_under_the_shipped_policy_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", str(EXAMPLE), "--policy", str(ROOT / "rules")]) == 0
    assert capsys.readouterr().out == (
        "Replayed 7 incidents under hft-rollback-procedures 2.0: no decision differs\n"
    )


def test_replaying_the_example_log_under_the_organisation_policy_finds_two_differences(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", str(EXAMPLE), "--policy", str(ORG), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["policy"] == "acme-trading-rollback 2026.1"
    assert report["incidents"] == 7
    assert [(d["incident"], d["at"], d["recorded"], d["new"]) for d in report["differences"]] == [
        # Acme's quick-fix window is 10 minutes: a 10-minute promise is no longer quick.
        (
            "INC-3001",
            "2026-03-03T14:04:00Z",
            {"action": "fix_forward", "rollback_type": 2},
            {"action": "rollback", "rollback_type": 2},
        ),
        # Acme's time to decision is 10 minutes: the default to rollback comes 5 minutes
        # earlier.
        (
            "INC-3007",
            "2026-03-27T16:10:00Z",
            {"action": "escalate", "rollback_type": 3},
            {"action": "rollback", "rollback_type": 3},
        ),
    ]
    first = report["differences"][0]
    # rule ids are the rules that fired (issue 11): the quick fix no longer decides
    assert first["rules_removed"] == ["tree.4.quick_fix"]
    assert first["rules_added"] == ["tree.7.rollback"]


def test_replay_text_names_time_actions_and_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(EXAMPLE), "--policy", str(ORG)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "Replayed 7 incidents under acme-trading-rollback 2026.1: 2 decided differently\n\n"
        "INC-3001 at 2026-03-03T14:04:00Z:\n"
        "  recorded: fix_forward (type 2)\n"
        "  new:      rollback (type 2)\n"
        "  rules no longer applied: tree.4.quick_fix\n"
        "  rules newly applied:     tree.7.rollback\n"
    )


def test_a_log_with_decisions_of_two_policies_replays_against_the_one_given(
    tmp_path: Path,
) -> None:
    # The example's decisions relabelled as made by Acme's policy for half the incidents:
    # replay compares decisions, not the policy names on them.
    lines = EXAMPLE.read_text().splitlines()
    acme = load_policy(ORG).identity.model_dump()
    relabelled = []
    for text in lines:
        data = json.loads(text)
        if data["type"] == "decision" and data["incident"] in ("INC-3001", "INC-3002"):
            data["policy"] = acme
        relabelled.append(json.dumps(data))
    log = tmp_path / "two.jsonl"
    log.write_text("\n".join(relabelled) + "\n")
    assert not replay_log(read_log(log), load_policy(ROOT / "rules")).differ
    kinds = {r.policy.name for r in read_log(log).records if isinstance(r, DecisionRecord)}
    assert kinds == {"acme-trading-rollback", "hft-rollback-procedures"}


def test_a_recorded_decision_the_policy_would_not_make_is_a_difference(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text().splitlines()
    index = next(i for i, t in enumerate(lines) if '"action": "immediate_rollback"' in t)
    lines[index] = lines[index].replace('"immediate_rollback"', '"rollback"')
    log = tmp_path / "edited.jsonl"
    log.write_text("\n".join(lines) + "\n")
    report = replay_log(read_log(log), load_policy(ROOT / "rules"))
    assert [(d.incident, d.recorded_action, d.new_action) for d in report.differences] == [
        ("INC-3003", "rollback", "immediate_rollback")
    ]


def test_a_timeline_that_cannot_be_replayed_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text(
        '{"type": "opened", "incident": "I", "at": "2026-03-02T14:00:00Z", "facts": {}}\n'
        '{"type": "rollback_completed", "incident": "I", "at": "2026-03-02T14:05:00Z"}\n'
    )
    assert main(["replay", str(log), "--policy", str(ORG)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rollback-decision: {log}:2: invalid decision log line: incident I ")
    assert "rollback_completed with no rollback_started before it" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "examples/decision-log.jsonl"],
        ["replay", "examples/decision-log.jsonl", "--policy", "examples/org-policy.yaml"],
    ],
)
def test_the_readme_shows_what_the_commands_print_on_the_example_log(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    main(args)
    out = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    assert f"$ rollback-decision {' '.join(args)}\n{out}```" in readme


def test_incidents_with_no_logged_decision_are_not_compared(tmp_path: Path) -> None:
    lines = [t for t in EXAMPLE.read_text().splitlines() if '"type": "decision"' not in t]
    log = tmp_path / "no-decisions.jsonl"
    log.write_text("\n".join(lines) + "\n")
    report = replay_log(read_log(log), load_policy(ORG))
    assert not report.differ
    assert report.unrecorded == tuple(f"INC-300{n}" for n in range(1, 8))
    assert report.render_text().splitlines()[1] == (
        "Not compared (the log holds no decision of them): INC-3001, INC-3002, INC-3003, "
        "INC-3004, INC-3005, INC-3006, INC-3007"
    )
