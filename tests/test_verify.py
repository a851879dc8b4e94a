"""``verify``: the shipped policy verifies clean; each deliberately broken copy of the rules
(``tests/fixtures/broken_rules``) is caught, with a counterexample that replays."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from rollback_decision import Decision, DecisionError, Incident, Policy, decide, load_policy
from rollback_decision.cli import main
from rollback_decision.engine import native
from rollback_decision.engine.core import assemble, run
from rollback_decision.invariants import authority_rank, check_incident, get_invariant
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import Operand
from rollback_decision.policy.conditions import Test as Check
from rollback_decision.policy.semantics import Combine, outcome
from rollback_decision.verify import Finding, VerifyReport, verify_policy
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.incidents import incident_from_assignment
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.walk import Walk
from tests.compiled import table_of

BROKEN = Path(__file__).parent / "fixtures" / "broken_rules"
CASES = sorted(p.stem for p in BROKEN.glob("*.yaml"))


def load_case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((BROKEN / f"{name}.yaml").read_text("utf-8"))
    return data


def break_rules(rules: Path, case: dict[str, Any]) -> Path:
    target = rules / case["file"]
    text = target.read_text("utf-8")
    for edit in case["edits"]:
        assert text.count(edit["old"]) == 1, f"fixture out of date: {edit['old']!r}"
        text = text.replace(edit["old"], edit["new"])
    target.write_text(text, "utf-8")
    return rules


@pytest.fixture(scope="module")
def broken(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[Policy, VerifyReport]]:
    """``broken(name)``: the broken copy of the rules and its report, verified once per module."""
    import shutil

    from rollback_decision.policy.loader import shipped_rules_dir

    done: dict[str, tuple[Policy, VerifyReport]] = {}

    def get(name: str) -> tuple[Policy, VerifyReport]:
        if name not in done:
            rules = tmp_path_factory.mktemp(name) / "rules"
            shutil.copytree(shipped_rules_dir(), rules)
            policy = load_policy(break_rules(rules, load_case(name)))
            done[name] = (policy, verify_policy(policy))
        return done[name]

    return get


@pytest.fixture(scope="module")
def shipped_report() -> VerifyReport:
    return verify_policy(load_policy())


def test_the_shipped_policy_verifies_clean(shipped_report: VerifyReport) -> None:
    assert shipped_report.ok, shipped_report.render_text()
    assert shipped_report.findings == ()
    assert shipped_report.space_size > 1_000_000
    assert 0 < shipped_report.classes < shipped_report.space_size
    assert "no findings" in shipped_report.render_text()


def test_the_report_says_how_large_the_space_was_and_how_long_it_took(
    shipped_report: VerifyReport,
) -> None:
    text = shipped_report.render_text()
    assert f"{shipped_report.space_size:,} incidents" in text
    assert " s\n" in text.splitlines()[1] + "\n"
    assert shipped_report.seconds > 0
    data = shipped_report.to_dict()
    assert data["ok"] is True
    assert data["space_size"] == shipped_report.space_size


def test_facts_no_rule_reads_are_fixed_and_reported(shipped_report: VerifyReport) -> None:
    # The decision tables never read these facts; only their default value is walked.
    fixed = set(shipped_report.fixed_facts)
    for name in fixed:
        assert any(line.startswith(f"{name}: not read") for line in shipped_report.domains)
    assert "production_issue" not in fixed


@pytest.mark.parametrize("name", CASES)
def test_each_broken_copy_is_found_with_a_counterexample(
    name: str, broken: Callable[[str], tuple[Policy, VerifyReport]]
) -> None:
    policy, report = broken(name)
    expect = load_case(name)["expect"]
    assert not report.ok
    matching = [
        f for f in report.findings if f.kind == expect["kind"] and f.subject == expect["subject"]
    ]
    assert matching, report.render_text()
    finding = matching[0]
    assert finding.example is not None
    assert finding.count > 0
    replay(policy, finding)


def replay(policy: Policy, finding: Finding) -> None:
    """The counterexample shows the problem when decided for real."""
    incident = finding.incident()
    assert incident is not None
    if finding.kind in ("gap", "overlap"):
        with pytest.raises(DecisionError, match=finding.subject.split("'")[1]):
            decide(incident, policy=policy)
    elif finding.kind == "invariant":
        name = finding.subject.split("'")[1]
        assert name in {v.invariant.name for v in check_incident(policy, incident)}
    elif finding.kind == "shadowed":
        rule_id = finding.subject.split("'")[1]
        facts, fired = run(policy, incident, native.match)
        table = next(t for t in policy.tables if any(r.id == rule_id for r in t.rules))
        rule = table.rule(rule_id)
        assert rule.predicate(facts)
        assert fired[table.id][0] < rule.index


@pytest.mark.parametrize("name", ["gap", "overlap"])
def test_diff_against_a_broken_copy_counts_its_problems_as_verify_does(
    name: str, broken: Callable[[str], tuple[Policy, VerifyReport]]
) -> None:
    """``diff`` walks the tables of one id of both policies together, so a broken copy's
    gaps and overlaps are counted over the facts ``verify`` counts them over, whichever side
    of the diff the copy is on (walked a table at a time in each policy's own order, the
    diff stopped at its limit or counted eight times as many on one side)."""
    from rollback_decision.verify import diff_policies

    policy, report = broken(name)
    expected = [(f.kind, f.message, f.count, f.example) for f in report.findings]
    shipped = load_policy()
    for old, new, side in ((shipped, policy, "new: "), (policy, shipped, "old: ")):
        found = diff_policies(old, new).findings
        assert [(f.kind, f.message, f.count, f.example) for f in found] == expected
        assert all(f.subject.startswith(side) for f in found)


def test_a_first_match_table_walked_for_its_winners_decides_as_with_every_match() -> None:
    """With ``winners``, a first-match table's outcome keeps only the rule that fires, so
    outcomes are as few as the rules however many match at once; that rule and its outputs
    are the ones every match gives, also where a rule compares two facts (the fix ETA with
    the rollback ETA)."""
    import random

    from rollback_decision.verify.tables import TableEval

    policy = load_policy()
    table = policy.table("decision")
    full, lean = TableEval(table, None), TableEval(table, None, winners=True)
    space = FactSpace([policy])
    options: list[Sequence[Any]] = []
    for name in full.needs:
        if name in space.types:
            options.append(space.domains[name].values or space.number_points(name))
        else:
            ftype = policy.table(policy.producers[name]).outputs[name]
            given = list(ftype.values or (0, 10, 15, 20, 30, 45, 60))
            options.append([*given, None] if ftype.nullable else given)
    pick = random.Random(9)
    shadowing = 0
    for _ in range(4000):
        values = tuple(pick.choice(list(o)) for o in options)
        mask = full.mask((n, v) for n, v in zip(full.needs, values, strict=True) if full.tested(n))
        every, winner = full.result(values, mask), lean.result(values, mask)
        assert (winner.values, winner.fired, winner.problem) == (
            every.values,
            every.fired,
            every.problem,
        )
        assert winner.matches == winner.fired
        shadowing += len(every.matches) > 1
    assert shadowing > 100  # the values made rules shadow each other
    assert len(lean._outcomes) <= len(table.rules) + 1 < len(full._outcomes)


def test_the_gap_counterexample_is_the_smallest_incident(
    broken: Callable[[str], tuple[Policy, VerifyReport]],
) -> None:
    _, report = broken("gap")
    (gap,) = [f for f in report.findings if f.kind == "gap"]
    # Every incident with no symptom, trigger or severity falls through; the default one too.
    assert gap.example == {}
    assert "gap: table 'impact': no rule of this first-match table decides" in gap.render()


def test_the_broken_tie_is_shown_at_a_tie(
    broken: Callable[[str], tuple[Policy, VerifyReport]],
) -> None:
    policy, report = broken("tie_to_fix_forward")
    (finding,) = [f for f in report.findings if f.kind == "invariant"]
    incident = finding.incident()
    assert incident is not None
    decision = decide(incident, policy=policy)
    assert incident.fix_forward_eta_minutes == decision.rollback_eta_minutes
    assert decision.action.value == "fix_forward"


def test_a_rule_that_can_never_match_is_unreachable(rules_copy: Path) -> None:
    path = rules_copy / "decision.yaml"
    text = path.read_text("utf-8")
    old = "when: {critical_path_affected: true}"
    new = "when: {critical_path_affected: true, production_down: true}"
    path.write_text(text.replace(old, new), "utf-8")
    report = verify_policy(load_policy(rules_copy))
    # production_down: true is caught by the rule before: this one is shadowed, not dead.
    (finding,) = [f for f in report.findings if f.subject == "rule 'impact.critical_path'"]
    assert finding.kind == "shadowed"
    assert "impact.production_down" in finding.message


def test_the_walk_agrees_with_decide(policy: Policy) -> None:
    """Every 97th class of the walk, decided for real, gets the walk's decision."""
    wanted = ("action", "authority", "rollback_type")
    core = split_tables(policy, wanted)[0]
    walk = Walk(FactSpace([policy], [core]), [None], outputs=wanted, tables=[core])
    walk.run()
    index = {c: i for i, c in enumerate(walk.columns)}
    for n, (key, cls) in enumerate(walk.final.items()):
        if n % 97:
            continue
        incident = Incident.model_validate(incident_from_assignment(cls.assignment).model_dump())
        decision = decide(incident, policy=policy)
        assert decision.action.value == key[index[(0, "action")]]
        authority = key[index[(0, "authority")]]
        expected = policy.authorities[authority] if authority is not None else None
        assert decision.authority == expected


def test_verify_accepts_a_matcher(broken: Callable[[str], tuple[Policy, VerifyReport]]) -> None:
    policy, by_name = broken("shadowed")
    report = verify_policy(policy, engine=native.match)
    assert report.engine == "match"
    assert [f.to_dict() for f in report.findings] == [f.to_dict() for f in by_name.findings]


def _flaky(policy: Policy) -> Callable[[CompiledTable, Mapping[str, Any]], Sequence[int]]:
    """A matcher that forgets every other time what the last table of ``policy`` matched."""
    last = policy.tables[-1]
    assert last.combine is Combine.COLLECT  # an empty collection is a valid answer
    asked = itertools.count()

    def flaky(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
        if table.id == last.id and next(asked) % 2:
            return ()
        return native.match(table, facts)

    return flaky


def test_a_nondeterministic_engine_is_caught_by_verify(policy: Policy) -> None:
    report = verify_policy(policy, engine=_flaky(policy))
    found = [f for f in report.findings if f.kind == "invariant"]
    assert [f.subject for f in found] == ["invariant 'decision_is_deterministic'"]
    assert found[0].message == "deciding the same incident twice gave different decisions"
    assert found[0].count > 0


def test_verify_decides_afresh_with_the_native_engines_own_pipeline(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The native engine's decisions come from its generated pipeline, not from the rule by
    # rule matcher: a pipeline that forgets every other time what the last table collected
    # must be caught by the determinism invariant.
    last = policy.tables[-1]
    assert last.combine is Combine.COLLECT
    asked = itertools.count()
    honest = native.Pipeline.run

    def flaky(
        self: native.Pipeline, facts: dict[str, Any], *, remember: bool = True, **rest: Any
    ) -> Any:
        facts, fired = honest(self, facts, remember=remember, **rest)
        if not remember and next(asked) % 2:
            empty = outcome(last, (), facts)
            assert empty.values is not None
            facts.update(zip(last.outputs, empty.values, strict=True))
            fired = {**fired, last.id: ()}
        return facts, fired

    monkeypatch.setattr(native.Pipeline, "run", flaky)
    report = verify_policy(policy)
    found = [f for f in report.findings if f.kind == "invariant"]
    assert [f.subject for f in found] == ["invariant 'decision_is_deterministic'"]
    assert next(asked) > 0


def test_the_determinism_invariant_decides_afresh(policy: Policy) -> None:
    invariant = get_invariant("decision_is_deterministic")
    flaky = _flaky(policy)

    def decide_flakily(incident: Incident) -> Decision:
        return assemble(policy, run(policy, incident, flaky), remember=False)

    incident = Incident.model_validate({"related_to_deployment": True})
    decision = decide_flakily(incident)
    assert invariant.check(policy, incident, decision, decide_flakily) is not None
    # By default it decides again without any memo: a remembered decision is not enough.
    assert invariant.check(policy, incident, decide(incident, policy=policy)) is None


def test_authority_ranks_are_compiled_from_the_rule_files(rules_copy: Path) -> None:
    policy = load_policy()
    for ident, row in policy.authorities.items():
        assert authority_rank(policy, row) == policy.authority_ranks[ident]
    assert authority_rank(policy, None) == 0
    path = rules_copy / "authority.yaml"
    text = path.read_text("utf-8")
    assert text.count("    rank: 4\n") == 1
    path.write_text(text.replace("    rank: 4\n", "    rank: 40\n"), "utf-8")
    edited = load_policy(rules_copy)
    top = next(ident for ident, rank in policy.authority_ranks.items() if rank == 4)
    assert edited.authority_ranks == {**policy.authority_ranks, top: 40}
    assert authority_rank(edited, edited.authorities[top]) == 40


def test_each_operator_splits_the_space_where_its_tests_tell_incidents_apart(
    policy: Policy,
) -> None:
    trio = ["critical_production_errors", "data_corruption", "security_vulnerability"]
    tests = [
        Check("symptoms", "all_of", Operand(value=trio)),
        Check("components", "min_size", Operand(value=2)),
        Check("fix_forward_eta_minutes", "lt", Operand(value=7.5)),
        Check("rollback_eta_minutes", "in", Operand(value=[3, 4])),
    ]
    table = table_of("t", tests)
    space = FactSpace([policy], [[table]])
    assert any(set(trio) <= set(v) for v in space.domains["symptoms"].values or ())
    assert max(len(v) for v in space.domains["components"].values or ()) >= 2
    assert space.number_thresholds("fix_forward_eta_minutes") == {7.5}
    assert space.number_thresholds("rollback_eta_minutes") == {3.0, 4.0}
    assert space.list_sets("symptoms") == (frozenset(trio),)


class TestCommand:
    def test_the_shipped_policy_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["verify"]) == 0
        out = capsys.readouterr().out
        assert "no findings" in out
        assert "incidents in" in out

    def test_findings_exit_1_with_a_counterexample(
        self, rules_copy: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        break_rules(rules_copy, load_case("gap"))
        assert main(["verify", str(rules_copy)]) == 1
        out = capsys.readouterr().out
        assert "gap: table 'impact'" in out
        assert "e.g. {} (all defaults)" in out

    def test_json_output(self, rules_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
        break_rules(rules_copy, load_case("tie_to_fix_forward"))
        assert main(["verify", str(rules_copy), "--format", "json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert data["ok"] is False
        (finding,) = data["findings"]
        assert finding["subject"] == "invariant 'equal_fix_and_rollback_times_default_to_rollback'"
        Incident.model_validate(finding["example"])

    def test_bad_rules_dir_exits_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["verify", str(tmp_path / "missing")]) == 2
        assert "no such file or folder" in capsys.readouterr().err


def test_a_plan_rule_that_can_never_fire_is_found(rules_copy: Path) -> None:
    """Tables after the decision are checked over every reachable decision: a procedure asked
    for a decision that never has that rollback type can never be in a plan."""
    path = rules_copy / "plan.yaml"
    text = path.read_text("utf-8")
    at = text.index("id: plan.irreversible_data")
    old = "action: must_fix_forward"
    end = text.index(old, at)
    text = text[:end] + "rollback_type: 1\n          " + text[end:]
    path.write_text(text, "utf-8")
    report = verify_policy(load_policy(rules_copy))
    # ... and the warning that only that procedure brings is dead too.
    assert {(f.kind, f.subject) for f in report.findings} == {
        ("unreachable", "rule 'plan.irreversible_data'"),
        ("unreachable", "rule 'warn.restore_loses_data'"),
    }
    assert all(f.example is None for f in report.findings)


# -- at the size of real policies ------------------------------------------------------------


def test_a_gap_hidden_among_hundreds_of_added_rules_is_found_and_replays(tmp_path: Path) -> None:
    """An organisation adds 200 threshold rules and narrows the catch-all of the rollback-ETA
    table to every fix ETA but 37 minutes (one of its rules' thresholds): exactly the
    incidents with no rollback procedure and that fix ETA fall through."""
    from benchmarks.verify_scale import write_org_policy

    narrowed = [
        "    - table: rollback_eta",
        "      id: org.eta.none",
        "      when: {fix_forward_eta_minutes: {ne: 37}}",
        "      set: {rollback_eta: null, rollback_eta_estimated: false}",
    ]
    path = write_org_policy(tmp_path, 200, disable=["eta.none"], extra=narrowed)
    policy = load_policy(path)
    assert sum(len(t.rules) for t in policy.tables) >= 200
    report = verify_policy(policy)
    assert [(f.kind, f.subject) for f in report.findings] == [("gap", "table 'rollback_eta'")]
    (gap,) = report.findings
    assert gap.example == {
        "fix_forward_eta_minutes": 37,
        "change": {"point_of_no_return": ["destructive_data_operation"]},
    }
    replay(policy, gap)


def test_a_walk_past_its_limit_says_incomplete_and_fails(
    policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    report = verify_policy(policy, max_classes=500)
    assert not report.ok
    (finding,) = report.findings
    assert finding.kind == "incomplete"
    assert "more than 500 classes" in finding.message
    text = report.render_text()
    assert "INCOMPLETE" in text
    assert "no findings" not in text
    assert report.to_dict()["ok"] is False


def test_a_fact_whose_values_cannot_be_enumerated_makes_the_check_incomplete(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact some rule reads with no listed values (a free string, say) cannot be walked:
    only its default is checked, and the report says so instead of "no findings"."""
    from rollback_decision.verify import domains

    listed = domains._model_field_values
    monkeypatch.setattr(
        domains,
        "_model_field_values",
        lambda name: [] if name == "rollback_risk" else listed(name),
    )
    report = verify_policy(policy)
    assert not report.ok
    # First the incompleteness; the rules that read the fact then look dead.
    assert (report.findings[0].kind, report.findings[0].subject) == (
        "incomplete",
        "fact 'rollback_risk'",
    )
    assert "INCOMPLETE" in report.render_text()
    assert any("rollback_risk: enum values cannot be enumerated" in d for d in report.domains)


@pytest.mark.parametrize("name", CASES)
def test_each_broken_copy_gets_the_recorded_findings(
    name: str, broken: Callable[[str], tuple[Policy, VerifyReport]]
) -> None:
    """The findings, their counts and counterexamples are those the exhaustive walk (the first
    verifier's, commit 757b525) recorded in ``expected-findings.json`` (the classes it
    held are compared in the test below: the default walk merges runs of fix ETAs)."""
    recorded = json.loads((BROKEN / "expected-findings.json").read_text("utf-8"))[name]
    _, report = broken(name)
    assert report.space_size == recorded["space_size"]
    assert [f.to_dict() for f in report.findings] == recorded["findings"]


def test_a_plan_rule_on_a_decision_number_past_the_decisions_thresholds_can_fire(
    tmp_path: Path,
) -> None:
    """A communication rule for rollbacks longer than 191 minutes: no decision table compares
    the rollback ETA with 191, yet the walk must reach it, or the rule would look dead."""
    path = tmp_path / "org.yaml"
    path.write_text(
        "extends: default\n"
        "rules:\n"
        "  add:\n"
        "    - table: communication\n"
        "      id: org.communication.long_rollback\n"
        "      when: {rollback_eta: {gt: 191}, action: {in: [rollback, immediate_rollback]}}\n"
        "      set: {notify_stakeholders: [trading_system]}\n",
        "utf-8",
    )
    policy = load_policy(path)
    report = verify_policy(policy)
    assert report.ok, report.render_text()
    incident = Incident.model_validate(
        {"related_to_deployment": True, "rollback_eta_minutes": 200, "production_down": True}
    )
    decision = decide(incident, policy=policy)
    assert decision.action.is_rollback


def test_verify_shows_the_policys_clocks_for_review(policy: Policy) -> None:
    report = verify_policy(policy)
    listed = {entry["id"]: entry for entry in report.to_dict()["clocks"]}
    assert set(listed) == {clock.id for clock in policy.clocks.listing()}
    assert "clock.post_mortem" in listed
    assert "48 hours" in listed["clock.post_mortem"]["text"]
    assert "clocks:\n  clock." in report.render_text()
