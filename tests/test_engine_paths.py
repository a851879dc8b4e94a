"""The fast paths of a first-sight decision keep every output a caller reads.

The generated pipeline evaluates a test several rules of a table share once, ahead of them;
the rationale's walk is generated code; plan steps and results are built without
validation and share their field names. None of that may show in what ``decide`` returns.
"""

from __future__ import annotations

import re
from itertools import combinations
from types import SimpleNamespace
from typing import Any

import pytest

from rollback_decision import Policy, decide, load_policy
from rollback_decision.decision import Decision
from rollback_decision.engine import core, native
from rollback_decision.facts import parse_incident
from rollback_decision.policy.codegen import Namespace, condition_source
from rollback_decision.policy.conditions import Operand
from rollback_decision.policy.conditions import Test as Check
from tests.conftest import EXAMPLES

INCIDENTS: list[dict[str, Any]] = [
    {
        "related_to_deployment": True,
        "symptoms": ["trading_logic_error", "data_corruption"],
        "change": {"components": ["application_code", "database_schema"]},
    },
    {
        "related_to_deployment": True,
        "fix_forward_eta_minutes": 20,
        "rollback_eta_minutes": 10,
        "change": {
            "components": ["configuration", "network"],
            "data_scenario": "backward_compatible_schema",
        },
    },
    {
        "related_to_deployment": True,
        "production_down": True,
        "change": {"components": ["infrastructure"], "point_of_no_return": ["external_dependency"]},
    },
    {"related_to_deployment": None, "severity": "critical"},
]


def test_only_tests_that_cannot_raise_are_evaluated_ahead_of_the_rules(policy: Policy) -> None:
    source = native.pipeline(policy).source
    shared = re.findall(r"^    (a\d+) = (.*)$", source, flags=re.MULTILINE)
    assert shared, "the plan table's rules share tests: some are evaluated once"
    for name, expression in shared:
        # set and size tests, and membership in a list fact, may meet a null list (a rule may
        # test it only after checking it is not null): they stay where they were
        assert not re.search(r"isdisjoint|issubset|issuperset|len\(|not v|in v\d", expression)
        # each is used by at least two rules of its table
        assert len(re.findall(rf"\b{name}\b", source)) >= 3


def test_remembered_parts_give_the_decisions_made_from_nothing() -> None:
    for policy in (load_policy(), load_policy(EXAMPLES / "org-policy.yaml")):
        policy.runtime.clear()
        for _ in range(2):  # first sight, then every part remembered
            for incident in INCIDENTS:
                fresh = decide(incident, policy=policy, remember=False)
                assert decide(incident, policy=policy) == fresh
                assert _numbers_run_on(fresh)
            policy.runtime.memo("decisions.native").clear()


def test_results_share_field_names_but_a_copy_changes_only_itself(policy: Policy) -> None:
    first, second = (decide(i, policy=policy, remember=False) for i in INCIDENTS[:2])
    step = first.plan[0]
    changed = step.model_copy(update={"text": "changed"})
    assert changed.text == "changed"
    assert step.text != "changed"
    assert step.model_fields_set == set(type(step).model_fields)
    assert second.plan[0].model_fields_set == set(type(step).model_fields)
    # every field counts as set: nothing is dropped from an exclude_unset dump
    assert first.model_dump(exclude_unset=True) == first.model_dump()
    assert Decision.model_validate_json(first.model_dump_json()) == first


def _numbers_run_on(decision: Decision) -> bool:
    return [s.number for s in decision.plan] == list(range(1, len(decision.plan) + 1))


def test_set_tests_of_a_list_fact_read_one_bit_mask_as_the_set_operations_answer() -> None:
    literals = [[], ["p"], ["p", "q"], ["q", "r", "s"]]
    checks = [
        Check("xs", op, Operand(value=literal))
        for op in ("any_of", "none_of", "all_of", "subset_of")
        for literal in literals
    ]
    table = SimpleNamespace(rules=[SimpleNamespace(condition=c) for c in checks])
    ns = Namespace()
    masks = native._SetMasks(SimpleNamespace(tables=[table]), ns)  # type: ignore[arg-type]
    lines = masks.lines("xs", "x")
    assert lines, "a list fact tested more than once gets a mask"
    tests = [condition_source(c, ns, {"xs": "x"}.__getitem__, None, masks) for c in checks]
    assert not any("isdisjoint" in t or "issu" in t for t in tests)
    plain = [condition_source(c, ns, {"xs": "x"}.__getitem__) for c in checks]
    body = "".join(f"{line}\n" for line in lines)
    source = (
        f"def masked(x):\n{body}    return [bool(t) for t in ({', '.join(tests)},)]\n"
        f"def plain(x):\n    return [bool(t) for t in ({', '.join(plain)},)]\n"
    )
    masked, by_sets = ns.compile(source, "masked", "<t>"), ns.compile(source, "plain", "<t>")
    members = ("p", "q", "r", "s", "t")  # "t": in no literal set
    for size in range(len(members) + 1):
        for value in combinations(members, size):
            assert masked(value) == by_sets(value), value
            assert masked(value + value[:1]) == by_sets(value + value[:1])  # a repeat
    with pytest.raises(TypeError):  # a null list raises, as the set operations do
        masked(None)
    with pytest.raises(TypeError):
        by_sets(None)


def test_the_key_a_decision_is_remembered_by_gives_the_incident_facts() -> None:
    for data in INCIDENTS:
        incident = parse_incident(data)
        facts = core.incident_facts(incident)
        key = core.incident_key(incident)
        assert key == tuple(facts.values())
        rebuilt = core.facts_of_key(key)
        assert rebuilt == facts
        assert list(rebuilt) == list(facts)  # the same order
        assert rebuilt is not core.facts_of_key(key)  # a dict of its own each time


def test_rules_that_start_with_the_same_test_are_tested_under_one_if_of_it() -> None:
    rules = [(["a0", "(x)"], 1), (["a0"], 2), (["a0", "(y)", "(z)"], 4), (["(w)"], 8)]
    assert native._grouped(rules) == [
        "    if a0:",
        "        if (x):",
        "            m |= 1",
        "        m |= 2",
        "        if (y) and (z):",
        "            m |= 4",
        "    if (w):",
        "        m |= 8",
    ]
    lines, kept = native._inline_single_uses(["    if a0:", "    if a1 and a10:"], {"(p)": "a1"})
    assert lines == ["    if a0:", "    if (p) and a10:"]
    assert kept == {}
