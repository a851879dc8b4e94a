"""``verify`` at the size of real policies: the default walk (runs of a fix ETA merged) finds
exactly what the exhaustive walk finds, and a gap hidden in a decision table among many added
rules is found with a counterexample that replays."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from rollback_decision import Incident, Policy, decide, load_policy
from rollback_decision.engine.core import DECISION_OUTPUTS
from rollback_decision.invariants import Along, Invariant
from rollback_decision.verify import VerifyReport, verify_policy
from rollback_decision.verify.domains import FactSpace
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.walk import Walk
from tests.test_verify import BROKEN, break_rules, load_case, replay

# Rules an organisation might add to the decision's own tables, with findings the exhaustive
# walk reports: a fix ETA *over* a threshold turns a rollback into a fix forward (the later
# fix invariant), a rollback ETA cap below another is shadowed, and equal ETAs fix forward.
ODD_RULES = [
    "    - table: decision",
    "      before: tree.7.fix_faster",
    "      id: org.odd.slow_fix",
    "      when: {fix_forward_eta_minutes: {gt: 41}, impact: non_critical}",
    "      set: {action: fix_forward}",
    "      because: A slow fix is left to the owning team.",
    "    - table: rollback_eta",
    "      before: eta.reported",
    "      id: org.odd.cap_low",
    "      when: {rollback_eta_minutes: {gt: 50}}",
    "      set: {rollback_eta: 50, rollback_eta_estimated: false}",
    "      because: Capped.",
    "    - table: rollback_eta",
    "      before: eta.reported",
    "      id: org.odd.cap_high",
    "      when: {rollback_eta_minutes: {gt: 70}}",
    "      set: {rollback_eta: 70, rollback_eta_estimated: false}",
    "      because: Never reached, the lower cap decides first.",
    "    - table: decision",
    "      before: tree.7.fix_faster",
    "      id: org.odd.tie",
    "      when: {fix_forward_eta_minutes: {le: {fact: rollback_eta}}, rollback_eta: {gt: 33}}",
    "      set: {action: fix_forward}",
    "      because: Ties above 33 minutes fix forward.",
]

# A rule that makes the fix-forward ETA an input of a second table the decision depends on:
# the walk can no longer sum it out at the ``decision`` table, so it keeps it for the
# invariants that read it (as the exhaustive walk does).
ETA_READ_TWICE = [
    "    - table: rollback_eta",
    "      before: eta.reported",
    "      id: org.odd.slow_fix_cap",
    "      when: {fix_forward_eta_minutes: {gt: 500}, rollback_eta_minutes: {gt: 400}}",
    "      set: {rollback_eta: 400, rollback_eta_estimated: false}",
    "      because: Capped when the fix is far off.",
]


def findings(report: VerifyReport) -> list[dict[str, object]]:
    return [f.to_dict() for f in report.findings]


def _uncounted(found: list[dict[str, object]]) -> list[dict[str, object]]:
    """Findings without the count of an invariant's violations (see below)."""
    return [{**f, "count": None} if f["kind"] == "invariant" else f for f in found]


@pytest.mark.parametrize(
    ("rules", "extra"),
    [(4, ODD_RULES), (6, []), (4, ODD_RULES + ETA_READ_TWICE)],
    ids=["4-added-and-odd-rules", "6-added", "odd-rules-and-the-fix-eta-read-twice"],
)
def test_merged_runs_find_what_the_exhaustive_walk_finds_on_generated_policies(
    tmp_path: Path, rules: int, extra: list[str]
) -> None:
    from benchmarks.verify_scale import write_org_policy

    policy = load_policy(write_org_policy(tmp_path, rules, extra=extra, mix="mixed"))
    merged = verify_policy(policy)
    exhaustive = verify_policy(policy, exhaustive=True)
    # An invariant is checked on one member of each class (the facts no table reads any more
    # are merged away in both walks), so its count is that of the classes whose member breaks
    # it: the two walks cut the classes differently and may count differently. What it finds,
    # its message and its smallest counterexample are the same; every other count is equal.
    assert _uncounted(findings(merged)) == _uncounted(findings(exhaustive))
    assert merged.space_size == exhaustive.space_size
    assert merged.classes < exhaustive.classes
    if extra:
        assert {(f.kind, f.subject) for f in merged.findings} >= {
            ("invariant", "invariant 'later_fix_never_turns_a_rollback_into_a_fix_forward'"),
            ("invariant", "invariant 'equal_fix_and_rollback_times_default_to_rollback'"),
            ("shadowed", "rule 'org.odd.cap_high'"),
        }
        for finding in merged.findings:
            if finding.example is not None:
                replay(policy, finding)


def test_a_number_summed_out_in_segments_finds_what_the_exhaustive_walk_finds(
    tmp_path: Path,
) -> None:
    """Without the invariants that read it, the fix-forward ETA is a number only the
    ``decision`` table reads: it is summed out there, one evaluation per segment of like
    points, and every finding and count is the exhaustive walk's."""
    from benchmarks.verify_scale import write_org_policy
    from rollback_decision.invariants import INVARIANTS

    policy = load_policy(write_org_policy(tmp_path, 6, extra=ODD_RULES, mix="mixed"))
    invariants = [i for i in INVARIANTS if "fix_forward_eta_minutes" not in i.reads]
    merged = verify_policy(policy, invariants=invariants)
    exhaustive = verify_policy(policy, invariants=invariants, exhaustive=True)
    assert findings(merged) == findings(exhaustive)
    assert ("shadowed", "rule 'org.odd.cap_high'") in {(f.kind, f.subject) for f in merged.findings}
    assert merged.space_size == exhaustive.space_size
    assert merged.table_evaluations < exhaustive.table_evaluations / 2
    # How many incidents each rule fires for, and each action's and authority's, are the same
    # (the numbers a class shows are its first member's, so they may differ).
    walks = []
    for runs in (True, False):
        core = split_tables(policy, DECISION_OUTPUTS)[0]
        keep = frozenset().union(*(i.reads for i in invariants if i.scope == "incident"))
        walk = Walk(FactSpace([policy], [core]), [None], keep=keep, tables=[core], runs=runs)
        walk.run()
        decisions: Counter[tuple[object, ...]] = Counter()
        shown = [i for i, (ns, name) in enumerate(walk.columns) if name in ("action", "authority")]
        for key, cls in walk.final.items():
            decisions[tuple(key[i] for i in shown)] += cls.weight
        walks.append((walk.fired, decisions))
    assert walks[0] == walks[1]


def test_the_exhaustive_walk_still_holds_the_recorded_classes(
    tmp_path: Path,
) -> None:
    """The first verifier's walk stays callable: on the broken tie it holds the classes it
    recorded, and finds what the default walk finds."""
    import shutil

    from rollback_decision.policy.loader import shipped_rules_dir

    name = "tie_to_fix_forward"
    recorded = json.loads((BROKEN / "expected-findings.json").read_text("utf-8"))[name]
    rules = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), rules)
    policy: Policy = load_policy(break_rules(rules, load_case(name)))
    exhaustive = verify_policy(policy, exhaustive=True)
    assert exhaustive.classes == recorded["classes"]
    assert findings(exhaustive) == recorded["findings"] == findings(verify_policy(policy))


def test_a_gap_hidden_in_the_decision_table_among_a_thousand_added_rules_is_found_and_replays(
    tmp_path: Path,
) -> None:
    """An organisation adds 1,000 threshold rules (most to the plan tables, some to the
    decision and rollback-ETA tables) and narrows the decision's last catch-all to every fix
    ETA but 37 minutes: exactly the incidents that reach it with that ETA fall through."""
    from benchmarks.verify_scale import decision_rule, write_org_policy

    narrowed = [
        "    - table: decision",
        "      id: org.decision.rollback",
        "      when: {fix_forward_eta_minutes: {ne: 37}}",
        "      set: {action: rollback}",
        "      because: Roll back.",
    ]
    in_decision_tables = [line for i in range(0, 24, 2) for line in decision_rule(i)]
    path = write_org_policy(
        tmp_path,
        1000,
        disable=["tree.7.rollback"],
        extra=[*in_decision_tables, *narrowed],
    )
    policy = load_policy(path)
    assert sum(len(t.rules) for t in policy.tables) >= 1000
    report = verify_policy(policy)
    assert [(f.kind, f.subject) for f in report.findings] == [("gap", "table 'decision'")]
    (gap,) = report.findings
    assert gap.example == {"related_to_deployment": True, "fix_forward_eta_minutes": 37}
    replay(policy, gap)


def test_diff_counts_what_the_exhaustive_walk_counts_both_ways_on_a_generated_policy(
    tmp_path: Path,
) -> None:
    """``diff`` walks the two policies' tables of one id together (one stage where they alone
    read an input, the fix ETA between the two ``decision`` tables) and counts what the walk
    of one table at a time counts. This policy's ``rollback_eta`` table reads the fix ETA, so
    the ETA is introduced there: after the shipped ``rollback_eta`` table has made the
    rollback ETA its points are placed around, whichever side the shipped policy is on."""
    from benchmarks.verify_scale import write_org_policy
    from rollback_decision.verify import diff_policies

    shipped = load_policy()
    policy = load_policy(
        write_org_policy(tmp_path, 4, extra=ODD_RULES + ETA_READ_TWICE, mix="mixed")
    )
    merged = diff_policies(shipped, policy)
    exhaustive = diff_policies(shipped, policy, exhaustive=True)
    assert merged.changed
    assert merged.transitions == exhaustive.transitions
    assert merged.space_size == exhaustive.space_size
    assert merged.findings == exhaustive.findings
    back = diff_policies(policy, shipped)
    assert back.space_size == merged.space_size
    assert [(t.what, t.new, t.old, t.count) for t in back.transitions] == [
        (t.what, t.old, t.new, t.count) for t in merged.transitions
    ]


def test_diff_with_fifty_added_rules_sums_the_fix_eta_out_between_the_decision_tables(
    tmp_path: Path,
) -> None:
    """Carried from one ``decision`` table to the other, the fix ETA made some 350,000
    classes; walked as one stage, the two tables leave about a hundred, so the diff stays far
    inside a limit of 100,000 classes."""
    from benchmarks.verify_scale import write_org_policy
    from rollback_decision.verify import diff_policies

    policy = load_policy(write_org_policy(tmp_path, 50, mix="mixed"))
    report = diff_policies(load_policy(), policy, max_classes=100_000)
    assert not [f for f in report.findings if f.kind == "incomplete"]
    assert report.changed
    assert report.transitions


@pytest.mark.parametrize("fact", ["fix_forward_eta_minutes", "traffic_percent"])
def test_an_invariant_checked_along_a_number_counts_every_incident_it_fails_for(
    fact: str,
) -> None:
    """The walk sums the fix-forward ETA out at the ``decision`` table and checks invariants
    with an ``along`` over each class's segments there: an invariant that fails everywhere
    fails for every incident of the space, counted once, shown by the smallest one, with the
    message of its own ``run`` (the exhaustive walk, which keeps every ETA, agrees). Along a
    number no rule reads (the traffic percentage), it is checked on the final classes."""

    def everywhere(
        policy: Policy, values: Sequence[object], decisions: Sequence[object]
    ) -> list[int]:
        return list(range(len(values)))

    def value(incident: Incident) -> object:
        return getattr(incident if fact in Incident.model_fields else incident.change, fact)

    failing = Invariant(
        name="fails_everywhere",
        clause="test",
        section="test",
        reads=frozenset({fact}),
        run=lambda policy, incident, decision, decide: (
            f"{fact} {value(incident)}, {decision.action.value}"
        ),
        along=Along(fact, everywhere),
    )
    policy = load_policy()
    smallest = decide(Incident(), policy=policy, remember=False)
    for report in (
        verify_policy(policy, invariants=[failing]),
        verify_policy(policy, invariants=[failing], exhaustive=True),
    ):
        (finding,) = report.findings
        assert finding.count == report.space_size
        assert finding.example == {}
        assert finding.message == f"{fact} None, {smallest.action.value}"
