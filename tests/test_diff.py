"""``diff``: the shipped rules against a copy whose fix-forward window is 30 minutes instead of
15 report exactly the transitions that change implies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollback_decision import Incident, Policy, decide, load_policy
from rollback_decision.cli import main
from rollback_decision.verify import DiffReport, diff_policies
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.walk import Walk

WINDOW = "fix_forward_window_minutes"


def with_window(rules: Path, minutes: int) -> Path:
    path = rules / "parameters.yaml"
    text = path.read_text("utf-8")
    head, sep, tail = text.partition(f"  {WINDOW}:\n")
    old = "    default: 15\n"
    assert sep
    assert tail.count(old) >= 1
    path.write_text(head + sep + tail.replace(old, f"    default: {minutes}\n", 1), "utf-8")
    return rules


@pytest.fixture(scope="module")
def wider(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    import shutil

    from rollback_decision.policy.loader import shipped_rules_dir

    rules = tmp_path_factory.mktemp("wider") / "rules"
    shutil.copytree(shipped_rules_dir(), rules)
    policy = load_policy(with_window(rules, 30))
    assert policy.parameters[WINDOW] == 30
    return policy


@pytest.fixture(scope="module")
def report(policy: Policy, wider: Policy) -> DiffReport:
    return diff_policies(policy, wider)


def expected_counts(old: Policy, new: Policy) -> dict[tuple[str, str], int]:
    """Counted independently of the diff: walk the old policy alone over the same space and
    count the incidents a 30-minute window must change. Step 4 comes before steps 6 and 7, so
    an incident changes exactly when the old policy rolls back or weighs the risk (so its fix
    ETA is not under 15 minutes), its fix ETA is under 30 minutes, and it reaches step 4: a
    partial deployment whose rollback is not high-risk completes its rollback before it."""
    wanted = ("action", "risk")
    # the diff's space: the numbers are cut where the diff's tables cut them
    compared = ("action", "authority", "rollback_type")
    space = FactSpace([old, new], [split_tables(old, compared)[0], split_tables(new, compared)[0]])
    walk = Walk(
        space,
        [None],
        keep=frozenset({"fix_forward_eta_minutes", "partial_deployment"}),
        outputs=wanted,
        tables=[split_tables(old, wanted)[0]],
        runs=False,  # every fix ETA apart: the count below compares it with 30
    )
    walk.run()
    index = {c: i for i, c in enumerate(walk.columns)}
    counts: dict[tuple[str, str], int] = {}
    for key, cls in walk.final.items():
        action, eta = key[index[(0, "action")]], key[index[("in", "fix_forward_eta_minutes")]]
        completes = key[index[("in", "partial_deployment")]] and key[index[(0, "risk")]] != "high"
        changes = action in ("rollback", "evaluate_risk") and eta is not None and eta < 30
        if changes and not completes:
            counts[(action, "fix_forward")] = counts.get((action, "fix_forward"), 0) + cls.weight
    return counts


def test_a_wider_window_turns_rollbacks_and_risk_reviews_into_fixes(
    report: DiffReport, policy: Policy, wider: Policy
) -> None:
    assert report.changed
    assert report.counts("action") == expected_counts(policy, wider)
    assert set(report.counts("action")) == {
        ("rollback", "fix_forward"),
        ("evaluate_risk", "fix_forward"),
    }
    assert report.of("authority") == ()
    assert report.of("rollback_type") == ()
    assert report.findings == ()


def test_each_transition_has_its_smallest_example(
    report: DiffReport, policy: Policy, wider: Policy
) -> None:
    for transition in report.transitions:
        incident = Incident.model_validate(transition.example)
        eta = incident.fix_forward_eta_minutes
        assert eta is not None
        assert 15 <= eta < 30
        assert decide(incident, policy=policy).action.value == transition.old
        assert decide(incident, policy=wider).action.value == transition.new
    rollback = next(t for t in report.transitions if t.old == "rollback")
    # The smallest: a related issue whose fix is due exactly at the old window.
    assert rollback.example == {"related_to_deployment": True, "fix_forward_eta_minutes": 15}


def test_the_report_reads_like_the_issue(report: DiffReport) -> None:
    text = report.render_text()
    count = report.counts("action")[("rollback", "fix_forward")]
    assert f"rollback → fix_forward: {count:,} incidents" in text
    assert "authorities that change: none" in text
    assert "rollback types that change: none" in text


def test_a_policy_against_itself_changes_nothing(policy: Policy) -> None:
    same = diff_policies(policy, policy)
    assert not same.changed
    assert same.transitions == ()


class TestCommand:
    def test_no_change_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        from rollback_decision.policy.loader import shipped_rules_dir

        rules = str(shipped_rules_dir())
        assert main(["diff", rules, rules]) == 0
        assert "decisions that change: none" in capsys.readouterr().out

    def test_a_change_exits_1(self, rules_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
        from rollback_decision.policy.loader import shipped_rules_dir

        with_window(rules_copy, 30)
        assert main(["diff", str(shipped_rules_dir()), str(rules_copy), "--format", "json"]) == 1
        data = json.loads(capsys.readouterr().out)
        pairs = {(t["old"], t["new"]) for t in data["transitions"] if t["what"] == "action"}
        assert pairs == {("rollback", "fix_forward"), ("evaluate_risk", "fix_forward")}

    def test_bad_input_exits_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diff", str(tmp_path / "old"), str(tmp_path / "new")]) == 2
        err = capsys.readouterr().err
        assert "no such file or folder" in err
        assert "Traceback" not in err


def test_a_diff_past_its_limit_says_incomplete_and_counts_as_changed(policy: Policy) -> None:
    report = diff_policies(policy, policy, max_classes=500)
    assert report.changed
    assert [f.kind for f in report.findings] == ["incomplete"]
    assert "INCOMPLETE" in report.render_text()


def test_diff_and_verify_pause_the_garbage_collector_and_restore_it(policy: Policy) -> None:
    """A walk's millions of objects make no cycles, so the cyclic collector is paused while
    ``verify`` or ``diff`` runs; nested pauses share it, and the outermost one restores what
    it found (on stays on, off stays off)."""
    import gc

    from rollback_decision.verify.collector import paused

    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    seen: list[bool] = []

    def fail() -> None:
        with paused():
            seen.append(gc.isenabled())
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert seen == [False]
    assert gc.isenabled()
    diff_policies(policy, policy)
    assert gc.isenabled()
    gc.disable()
    try:
        diff_policies(policy, policy)
        assert not gc.isenabled()
    finally:
        gc.enable()
