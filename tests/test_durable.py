"""The durable-rules engine: the same rule files, decided through durable-rules, proven equal.

Differential tests (both engines, the whole Decision compared), the translator against the
native compile of random conditions, and one test per failure mode of durable-rules 2.0.28
that the engine handles on purpose (see rollback_decision/engine/durable/).
"""

from __future__ import annotations

import importlib.util
import random
import sys
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rollback_decision import Decision, Incident, Policy, decide, load_policy
from rollback_decision.engine import clear_caches, core, durable, native
from rollback_decision.engine.durable.ruleset import REGISTER_ATTEMPTS
from rollback_decision.errors import DecisionError, EngineUnavailableError
from rollback_decision.facts import (
    Change,
    Component,
    DataScenario,
    PointOfNoReturn,
    Symptom,
    parse_incident,
)
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import (
    AllOf,
    AnyOf,
    Condition,
    Not,
    Operand,
    compile_condition,
)
from rollback_decision.policy.conditions import Test as Check
from rollback_decision.policy.loader import shipped_rules_dir
from rollback_decision.policy.operators import OPERATORS
from rollback_decision.policy.types import FactType
from tests.compiled import table_of
from tests.fresh_engine import decide_in_fresh_process
from tests.scenario_table import load_scenarios, mismatches

ROOT = Path(__file__).resolve().parents[1]


def _durable_importable() -> bool:
    if importlib.util.find_spec("durable") is None:
        return False
    try:
        import durable.engine  # noqa: F401
    except ImportError:
        return False
    return True


HAVE_DURABLE = _durable_importable()
needs_durable = pytest.mark.skipif(
    not HAVE_DURABLE,
    reason="durable-rules is not installed (pip install 'rollback-decision[durable]'; "
    "CPython < 3.13 with a C compiler); CI installs it",
)
# On Python 3.12 durable.engine calls datetime.utcfromtimestamp() on every action (a
# DeprecationWarning inside durable-rules that no caller can act on; none on 3.11). Only that
# message is let through; any other warning still fails the test.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:datetime\.datetime\.utcfromtimestamp\(\) is deprecated:DeprecationWarning"
)


def dump(incident: Incident | Mapping[str, Any], policy: Policy, engine: str) -> Any:
    decision = decide(incident, policy=policy, engine=engine)  # type: ignore[arg-type]
    return decision.model_dump(mode="json")


# -- without durable-rules ---------------------------------------------------------------------


def test_without_durable_rules_the_engine_says_how_to_get_it(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "durable", None)  # makes `import durable` fail
    monkeypatch.setitem(sys.modules, "durable.engine", None)
    monkeypatch.setattr(durable, "_ENGINE", None)
    clear_caches()
    with pytest.raises(EngineUnavailableError) as caught:
        decide({}, policy=policy, engine="durable")
    assert str(caught.value).startswith(
        "the durable engine needs durable-rules, which is not installed or does not import: "
        "pip install 'rollback-decision[durable]' "
        "(CPython 3.11 or 3.12 and a C compiler; durable-rules 2.0.28 does not import on 3.13+)"
    )
    # The library and the native engine are unaffected.
    assert decide({}, policy=policy).action.value


@needs_durable
def test_another_durable_rules_release_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(durable, "_ENGINE", None)
    monkeypatch.setattr(durable, "_installed_version", lambda: "2.0.29")
    with pytest.raises(EngineUnavailableError) as caught:
        durable._durable()
    assert str(caught.value) == (
        "the durable engine is written for durable-rules 2.0.28, whose quirks it works around; "
        "2.0.29 is installed: pip install 'rollback-decision[durable]'"
    )


def test_the_durable_extra_is_pinned_with_a_marker_and_installed_for_tests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert extras["durable"] == ["durable-rules==2.0.28; python_version < '3.13'"]
    assert any("durable" in req and req.startswith("rollback-decision[") for req in extras["test"])


# -- differential: the two engines agree ----------------------------------------------------


SCENARIOS = load_scenarios()


@needs_durable
def test_both_engines_decide_the_whole_scenario_table_identically(policy: Policy) -> None:
    clear_caches()
    try:
        decided = [decide(s.incident, policy=policy, engine="durable") for s in SCENARIOS]
    except EngineUnavailableError as exc:
        # durable-rules' C engine has rejected the shipped ruleset ("error code: 102", a JSON
        # parse error of the ruleset text it was given) in a test worker that had registered
        # other policies' rulesets before, and accepted it in every fresh process: the
        # scenarios are then decided in a fresh interpreter, which must accept it.
        decided = decide_in_fresh_process([s.incident for s in SCENARIOS], "durable", exc)
    for scenario, theirs in zip(SCENARIOS, decided, strict=True):
        assert mismatches(scenario, theirs) == [], scenario.id
        assert theirs.model_dump(mode="json") == dump(scenario.incident, policy, "native"), (
            scenario.id
        )


@needs_durable
def test_both_engines_decide_the_example_incidents_identically(policy: Policy) -> None:
    from rollback_decision.facts import load_incident

    paths = sorted((ROOT / "examples" / "incidents").glob("*.yaml"))
    assert paths
    for path in paths:
        incident = load_incident(str(path))
        assert dump(incident, policy, "durable") == dump(incident, policy, "native"), path.name


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_MINUTES = _maybe(
    st.one_of(
        st.integers(min_value=0, max_value=240).map(float),
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
    )
)
#: Every field of Incident and Change (a test checks that none is missing).
LOCAL_CHANGE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "components": st.lists(st.sampled_from(Component), min_size=1, max_size=4),
    "behind_feature_flag": st.booleans(),
    "data_scenario": st.sampled_from(DataScenario),
    "data_written_in_new_format": st.booleans(),
    "point_of_no_return": st.lists(st.sampled_from(PointOfNoReturn), max_size=2),
    "trading_system": st.booleans(),
    "customer_facing": st.booleans(),
    "rollout": st.sampled_from(["all_at_once", "rolling", "canary", "blue_green"]),
    "traffic_percent": _maybe(st.floats(min_value=0, max_value=100, allow_nan=False)),
}
LOCAL_INCIDENT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "production_issue": st.booleans(),
    "related_to_deployment": _maybe(st.booleans()),
    "severity": st.sampled_from([None, "critical", "non_critical"]),
    "symptoms": st.lists(st.sampled_from(Symptom), max_size=4),
    "production_down": st.booleans(),
    "critical_path_affected": st.booleans(),
    "fix_forward_eta_minutes": _MINUTES,
    "rollback_eta_minutes": _MINUTES,
    "rollback_possible": _maybe(st.booleans()),
    "rollback_risk": st.sampled_from([None, "low", "high"]),
    "previous_version_known_good": _maybe(st.booleans()),
    "rollback_tested": _maybe(st.booleans()),
    "verified_backup": _maybe(st.booleans()),
    "partial_deployment": st.booleans(),
}


def incidents(**fixed: Any) -> st.SearchStrategy[Incident]:
    """The public strategy (rollback_decision.strategies) when there is one, else ours."""
    try:
        public = importlib.import_module("rollback_decision.strategies")
    except ImportError:
        fields = {**LOCAL_INCIDENT_FIELDS}
        fields.update(
            {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in fixed.items()}
        )
        return st.builds(Incident, change=st.builds(Change, **LOCAL_CHANGE_FIELDS), **fields)
    strategy: st.SearchStrategy[Incident] = public.incidents(**fixed)
    return strategy


def test_the_local_strategy_draws_every_field() -> None:
    assert set(LOCAL_INCIDENT_FIELDS) == set(Incident.model_fields) - {"change"}
    assert set(LOCAL_CHANGE_FIELDS) == set(Change.model_fields)


@needs_durable
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.builds(Incident, change=st.builds(Change, **LOCAL_CHANGE_FIELDS), **LOCAL_INCIDENT_FIELDS)
)
def test_both_engines_decide_locally_generated_incidents_identically(
    policy: Policy, incident: Incident
) -> None:
    """Duplicated list items and minutes up to 1e6 (beyond the public strategy's range)."""
    assert dump(incident, policy, "durable") == dump(incident, policy, "native")


@needs_durable
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incidents())
def test_the_invariant_suite_holds_on_the_durable_engine(
    policy: Policy, incident: Incident
) -> None:
    """The verification suite's invariants (rollback_decision.invariants), every decision —
    derived incidents' too — made by the durable engine."""
    from rollback_decision.invariants import INVARIANTS

    def decide_durably(other: Incident) -> Decision:
        return decide(other, policy=policy, engine="durable")

    decision = decide_durably(incident)
    for invariant in INVARIANTS:
        message = invariant.check(policy, incident, decision, decide_durably)
        assert message is None, f"{invariant.name}: {message}"


@needs_durable
def test_the_verifier_finds_the_same_on_both_engines(policy: Policy) -> None:
    """``rollback-decision verify --engine durable``: the whole discretised fact space."""
    from rollback_decision.verify import verify_policy

    native_report = verify_policy(policy, engine="native").to_dict()
    durable_report = verify_policy(policy, engine="durable").to_dict()
    assert durable_report["engine"] == "durable"
    # the cost differs: another engine's walk keeps the pipeline's order of tables
    for key in ("engine", "seconds", "table_evaluations"):
        native_report.pop(key)
        durable_report.pop(key)
    assert durable_report == native_report


# Numbers durable-rules' JSON reader cannot take as JSON numbers, ties and extremes.
AWKWARD_MINUTES = st.sampled_from(
    [None, 0.0, -0.0, 1e-05, 5e-324, 14.999999999999998, 15.0, 15, 1e16, 1.7976931348623157e308]
)


@needs_durable
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incidents())
def test_both_engines_decide_generated_incidents_identically(
    policy: Policy, incident: Incident
) -> None:
    assert dump(incident, policy, "durable") == dump(incident, policy, "native")


@needs_durable
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    incidents(
        fix_forward_eta_minutes=AWKWARD_MINUTES,
        rollback_eta_minutes=AWKWARD_MINUTES,
        related_to_deployment=True,
        production_issue=True,
    )
)
def test_both_engines_agree_on_awkward_numbers(policy: Policy, incident: Incident) -> None:
    assert dump(incident, policy, "durable") == dump(incident, policy, "native")


@needs_durable
def test_threads_deciding_concurrently_get_the_serial_answers(policy: Policy) -> None:
    rng = random.Random(4)
    cases = _random_incidents(rng, 600)
    ruleset = durable.compile_ruleset(policy)

    def run(incident: Incident) -> Any:
        return core.assemble(policy, core.run(policy, incident, ruleset.match)).model_dump(
            mode="json"
        )

    serial = [run(i) for i in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(run, cases * 3))
    assert concurrent == serial * 3
    assert ruleset.sessions.created <= 8


# -- the translator against the native compile --------------------------------------------


ENUM = frozenset({"p", "q", "r"})
TYPES: dict[str, FactType] = {
    "flag": FactType("boolean", nullable=True),
    "n": FactType("number", nullable=True),
    "m": FactType("number", nullable=True),
    "k": FactType("integer", frozenset({1, 2, 3})),
    "e": FactType("enum", ENUM, nullable=True),
    "f": FactType("enum", ENUM),
    "text": FactType("string", nullable=True),
    "xs": FactType("list", ENUM),
    "ys": FactType("list", frozenset({"p", "q"})),
}
NUMBERS = [0, 1, 15, -0.0, 0.5, 1e-05, 5e-324, 14.999999999999998, 1e16, 2.5e300, -3.0]


def _value(rng: random.Random, fact: str) -> Any:
    ftype = TYPES[fact]
    if ftype.nullable and rng.random() < 0.2:
        return None
    kind = ftype.kind
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "number":
        return rng.choice(NUMBERS)
    if kind == "integer":
        return rng.choice([1, 2, 3])
    if kind == "enum":
        return rng.choice(sorted(ENUM))
    if kind == "string":
        return rng.choice(["", "a", "a b", 'quo"te', "1", "true", "null", "é"])
    domain = sorted(ftype.values or ())
    return [rng.choice(domain) for _ in range(rng.choice([0, 0, 1, 2, 3]))]


def _operand(rng: random.Random, fact: str) -> Any:
    """A literal of any shape; the operators' own type rules decide which ones fit."""
    shapes: list[Callable[[], Any]] = [
        lambda: _value(rng, fact),
        lambda: [_value(rng, fact) for _ in range(2)],
        lambda: rng.choice(NUMBERS),
        lambda: rng.sample(sorted(ENUM), rng.choice([0, 1, 2, 3])),
        lambda: rng.random() < 0.5,
        lambda: rng.choice([0, 1, 2, 3]),
    ]
    return rng.choice(shapes)()


def _test(rng: random.Random) -> Check:
    """A random test that the operator registry's type rules accept (so every operator,
    against a literal and against another fact, is drawn wherever it applies)."""
    while True:
        fact = rng.choice(sorted(TYPES))
        op = rng.choice(sorted(OPERATORS))
        rule = OPERATORS[op]
        if rule.fact_source is not None and rng.random() < 0.25:
            other = rng.choice(sorted(TYPES))
            if rule.type_problem(fact, TYPES[fact], None, TYPES[other]) is None:
                return Check(fact, op, Operand(fact=other))
            continue
        value = _operand(rng, fact)
        if rule.type_problem(fact, TYPES[fact], value, None) is None:
            return Check(fact, op, Operand(value=value))


def _condition(rng: random.Random, depth: int = 0) -> Condition:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        return _test(rng)
    if roll < 0.6:
        return Not(_condition(rng, depth + 1))
    items = tuple(_condition(rng, depth + 1) for _ in range(rng.choice([0, 1, 2, 3])))
    return AllOf(items) if roll < 0.8 else AnyOf(items)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_table = table_of


_NAMES = iter(range(10**9))


def _ruleset(
    *tables: CompiledTable, types: Mapping[str, FactType] = TYPES
) -> durable.DurableRuleset:
    ruleset = durable.DurableRuleset(f"test_durable_{next(_NAMES)}", tables, types)
    ruleset.register()
    return ruleset


def test_a_list_fact_in_a_list_of_lists_compiles_as_facts_hold_lists() -> None:
    # The type rule allows it; the compiled operand holds the member lists as tuples.
    predicate = compile_condition(Check("xs", "in", Operand(value=[["p"], ["q", "r"]])))
    assert predicate({"xs": ("q", "r")})
    assert not predicate({"xs": ("p", "q")})


def test_the_random_conditions_draw_every_operator_of_the_registry_both_ways() -> None:
    rng = random.Random(0)
    drawn = {(t.op, t.operand.fact is not None) for t in (_test(rng) for _ in range(2000))}
    expected = {(name, False) for name in OPERATORS} | {
        (name, True) for name, op in OPERATORS.items() if op.fact_source is not None
    }
    assert drawn == expected


@needs_durable
@pytest.mark.parametrize("seed", range(4))
def test_every_operator_translates_exactly_as_the_native_compile_evaluates(seed: int) -> None:
    """Random conditions over every operator, null, not, nesting, fact-vs-fact and awkward
    numbers: durable-rules' matches equal the native predicates' on random facts."""
    rng = random.Random(seed)
    conditions = [_condition(rng) for _ in range(150)]
    table = _table("random", conditions)
    ruleset = _ruleset(table)
    for _ in range(300):
        # As the engine holds facts: lists as tuples.
        facts = {name: _hashable(_value(rng, name)) for name in TYPES}
        expected = tuple(native.match(table, facts))
        assert tuple(ruleset.match(table, facts)) == expected, facts


# -- compile-time errors ------------------------------------------------------------------


@needs_durable
def test_an_operator_it_cannot_translate_is_a_compile_time_error() -> None:
    table = _table("odd", [Check("text", "matches", Operand(value="^a"))])
    with pytest.raises(durable.DurableTranslationError) as caught:
        durable.DurableRuleset("test_durable_odd", [table], TYPES)
    assert str(caught.value) == (
        "table 'odd', rule 'odd.0': cannot run on the durable engine: "
        "operator 'matches' has no durable-rules translation"
    )
    assert isinstance(caught.value, EngineUnavailableError)


@needs_durable
def test_a_list_against_a_list_fact_of_unknown_values_is_a_compile_time_error() -> None:
    types = {**TYPES, "tags": FactType("list", None)}
    table = _table("lists", [Check("xs", "any_of", Operand(fact="tags"))])
    with pytest.raises(durable.DurableTranslationError, match="declared values of 'tags'"):
        durable.DurableRuleset("test_durable_lists", [table], types)


@needs_durable
def test_a_table_reading_more_keys_than_a_message_holds_is_a_compile_time_error() -> None:
    types = {f"b{i}": FactType("boolean") for i in range(300)}
    condition = AnyOf(tuple(Check(f"b{i}", "eq", Operand(value=True)) for i in range(300)))
    with pytest.raises(durable.DurableTranslationError, match="more than 253 encoded facts"):
        durable.DurableRuleset("test_durable_wide", [_table("wide", [condition])], types)


@needs_durable
def test_priorities_are_distinct_and_never_wrap(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    ruleset = durable.compile_ruleset(policy)
    priorities = [rule["pri"] for rule in ruleset.definition.values()]
    assert len(set(priorities)) == len(priorities)
    assert min(priorities) >= 1
    assert max(priorities) <= 0xFFFF
    monkeypatch.setattr(durable.ruleset, "MAX_PRIORITY", 3)
    table = _table("many", [Check("flag", "eq", Operand(value=True))] * 4)
    with pytest.raises(durable.DurableTranslationError, match="no distinct durable-rules"):
        durable.DurableRuleset("test_durable_many", [table], TYPES)


# -- durable-rules' failure modes, each handled -------------------------------------------


class RawHost:
    """A bare durable-rules host for showing the behaviour the engine works around."""

    def __init__(self) -> None:
        import durable.engine

        fired: list[str] = []
        self.fired = fired

        class Host(durable.engine.Host):  # type: ignore[misc]
            def _run(self) -> None:
                return None

            def get_action(self, name: str) -> Any:
                return lambda c: fired.append(name)

        self.host = Host()
        self.not_handled = durable.engine.MessageNotHandledException

    def ruleset(self, condition: Any) -> str:
        name = f"raw_{next(_NAMES)}"
        self.host.set_rulesets({name: {"r": {"all": [{"m": condition}], "run": "r"}}})
        return name

    def matches(self, name: str, message: dict[str, Any]) -> bool:
        self.fired.clear()
        try:
            self.host.post(name, {**message, "sid": "1"})
        except self.not_handled:
            return False
        return self.fired == ["r"]


@pytest.fixture
def raw() -> RawHost:
    return RawHost()


def _json_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_keys(item)


@needs_durable
def test_equality_coerces_types_so_facts_are_compared_as_tagged_strings(
    raw: RawHost, policy: Policy
) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"v": 1}]})
    assert raw.matches(name, {"t": "x", "v": True})  # the coercion
    assert raw.matches(name, {"t": "x", "v": "1"})
    assert [durable.tag(v) for v in (True, 1, "1", None, 1.0)] == [
        "b:true",
        "n:1",
        "s:1",
        "null",
        "n:1",
    ]
    conditions = [
        rule["all"][0]["m"] for rule in durable.compile_ruleset(policy).definition.values()
    ]
    assert "$ne" not in set(_json_keys(conditions))  # not a durable-rules operator


@needs_durable
def test_ne_is_not_an_operator_of_durable_rules(raw: RawHost) -> None:
    with pytest.raises(Exception, match="Could not create ruleset"):
        raw.ruleset({"$and": [{"t": "x"}, {"$ne": {"v": 1}}]})


@needs_durable
def test_numbers_in_exponent_form_are_rejected_so_numbers_go_as_order_keys(raw: RawHost) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"$lt": {"v": 1.5}}]})
    with pytest.raises(Exception, match="error code"):
        raw.matches(name, {"t": "x", "v": 1e-05})
    keys = [str(durable.order_key(v)) for v in (-1e300, -0.0, 0.0, 5e-324, 1e-05, 15, 1e16)]
    assert keys == sorted(keys)
    assert keys[1] == keys[2]
    assert durable.order_key(None) is None
    assert durable.order_key(float("nan")) is None


@needs_durable
def test_a_reference_to_a_missing_key_matches_so_references_are_guarded(
    raw: RawHost, policy: Policy
) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"$lt": {"a": {"$m": "b"}}}]})
    assert raw.matches(name, {"t": "x", "a": 1})  # b is missing, and yet a < b
    step7 = durable.compile_ruleset(policy).definition["tree.7.fix_faster"]["all"][0]["m"]
    assert {"$ex": {"ord:rollback_eta": 1}} in step7["$and"]
    incident = {
        "related_to_deployment": True,
        "fix_forward_eta_minutes": 20.0,
        "change": {"point_of_no_return": ["one_way_migration"]},
    }
    assert dump(incident, policy, "durable") == dump(incident, policy, "native")


@needs_durable
def test_iall_is_false_on_an_empty_list_so_lengths_are_tested_first(raw: RawHost) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"$iall": {"v": {"$i": "a"}}}]})
    assert not raw.matches(name, {"t": "x", "v": []})
    table = _table("subset", [Check("xs", "subset_of", Operand(value=["p"]))])
    assert list(_ruleset(table).match(table, {"xs": []})) == [0]


@needs_durable
def test_post_without_a_match_raises_so_a_gap_is_no_match(raw: RawHost) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"v": "never"}]})
    with pytest.raises(raw.not_handled):
        raw.host.post(name, {"t": "x", "v": "other", "sid": "1"})
    table = _table("gap", [Check("f", "eq", Operand(value="p"))], combine="first")
    assert list(_ruleset(table).match(table, {"f": "q"})) == []
    policy = load_policy()  # the core then reports the gap, as for the native engine
    with pytest.raises(DecisionError):
        core.run(policy, parse_incident({}), lambda t, f: ())


@needs_durable
def test_post_fires_the_lowest_priority_and_collect_tables_see_every_match() -> None:
    always = Check("flag", "ne", Operand(value="never"))
    first, collect = _table("first", [always] * 3, "first"), _table("all", [always] * 3)
    ruleset = _ruleset(first, collect)
    facts = {"flag": True}
    assert list(ruleset.match(first, facts)) == [0]
    for _ in range(3):  # asserted facts are retracted: the same facts match again
        assert list(ruleset.match(collect, facts)) == [0, 1, 2]


@needs_durable
def test_more_than_64_branches_at_once_overflow_so_wide_tables_are_split(raw: RawHost) -> None:
    name = f"raw_{next(_NAMES)}"
    rules = {
        f"r{i}": {"all": [{"m": {"$and": [{"t": "x"}, {f"k{i}": "y"}]}}], "run": "r"}
        for i in range(65)
    }
    raw.host.set_rulesets({name: rules})
    with pytest.raises(Exception, match="error code: 303"):  # MAX_STACK_SIZE
        raw.host.assert_fact(name, {"t": "x", "sid": "1", **{f"k{i}": "y" for i in range(65)}})
    types = {f"b{i}": FactType("boolean") for i in range(150)}
    table = _table("wide", [Check(f"b{i}", "eq", Operand(value=True)) for i in range(150)])
    ruleset = _ruleset(table, types=types)
    assert len(ruleset._tables["wide"].chunks) == 3
    facts = dict.fromkeys(types, True)
    assert list(ruleset.match(table, facts)) == list(range(150))
    first = _table("wide_first", list(table.rules[i].condition for i in range(150)), "first")
    ruleset = _ruleset(first, types=types)
    assert list(ruleset.match(first, {**facts, "b0": False, "b1": False})) == [2]
    assert list(ruleset.match(first, {**dict.fromkeys(types, False), "b140": True})) == [140]


@needs_durable
def test_a_condition_wider_than_durable_rules_evaluates_is_a_compile_time_error() -> None:
    types = {f"b{i}": FactType("boolean") for i in range(8)}

    def either(*names: str) -> AnyOf:
        return AnyOf(tuple(Check(name, "eq", Operand(value=True)) for name in names))

    fine = AllOf((either("b0", "b1"), either("b2", "b3"), either("b4", "b5")))
    ruleset = durable.DurableRuleset("test_durable_w8", [_table("w8", [fine])], types)
    assert durable.width(ruleset.definition["w8.0"]["all"][0]["m"]) == 2 * 2 * 2
    too_wide = AllOf((either(*types), either(*types)))
    with pytest.raises(durable.DurableTranslationError, match="may hold in 64 branches at once"):
        durable.DurableRuleset("test_durable_w64", [_table("w64", [too_wide])], types)
    # One key against many values holds in one branch at a time, repeated values or not.
    one_at_a_time = Check("f", "in", Operand(value=sorted(ENUM) * 30))
    durable.DurableRuleset("test_durable_in", [_table("in", [one_at_a_time])], TYPES)


@needs_durable
def test_a_rule_fires_once_per_branch_that_holds_so_matches_are_deduplicated(
    raw: RawHost,
) -> None:
    name = raw.ruleset({"$and": [{"t": "x"}, {"$or": [{"a": "y"}, {"b": "y"}]}]})
    raw.fired.clear()
    raw.host.assert_fact(name, {"t": "x", "a": "y", "b": "y", "sid": "1"})
    assert raw.fired == ["r", "r"]
    either = AnyOf((Check("flag", "eq", Operand(value=True)), Check("f", "eq", Operand(value="p"))))
    table = _table("twice", [either])
    assert list(_ruleset(table).match(table, {"flag": True, "f": "p"})) == [0]


@needs_durable
def test_rulesets_cannot_be_updated_so_each_policy_content_compiles_once(
    raw: RawHost, policy: Policy, rules_copy: Path
) -> None:
    name = raw.ruleset({"t": "x"})
    with pytest.raises(Exception, match="already registered"):
        raw.host.set_rulesets({name: {"r": {"all": [{"m": {"t": "x"}}], "run": "r"}}})
    once = durable.compile_ruleset(policy)
    assert durable.compile_ruleset(policy) is once  # kept by the policy's runtime
    again = load_policy(shipped_rules_dir())  # same files, another Policy object
    assert again is not policy
    assert durable.compile_ruleset(again) is once  # the host holds each content once
    assert once.name == f"rollback_decision_{policy.identity.content_hash}"
    params = rules_copy / "parameters.yaml"
    params.write_text(
        params.read_text(encoding="utf-8").replace("default: 15", "default: 25", 1),
        encoding="utf-8",
    )
    custom = load_policy(rules_copy)
    assert durable.compile_ruleset(custom) is not once
    assert durable.compile_ruleset(custom).name != once.name
    incident = {"related_to_deployment": True, "fix_forward_eta_minutes": 20.0}
    assert dump(incident, custom, "durable") == dump(incident, custom, "native")
    assert (
        dump(incident, custom, "durable")["action"] != dump(incident, policy, "durable")["action"]
    )


@needs_durable
def test_set_rulesets_mutates_its_argument_so_a_copy_is_registered(
    raw: RawHost, policy: Policy
) -> None:
    definition = {"r": {"all": [{"m": {"t": "x"}}], "run": "r"}}
    raw.host.set_rulesets({f"raw_{next(_NAMES)}": definition})
    assert "run" not in definition["r"]
    kept = durable.compile_ruleset(policy).definition
    assert all("run" in rule for rule in kept.values())


@needs_durable
def test_the_host_runs_no_timer_threads(policy: Policy) -> None:
    durable.compile_ruleset(policy)
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]


@needs_durable
def test_a_post_that_runs_no_action_is_an_error_not_an_empty_answer() -> None:
    table = _table("lost", [Check("flag", "eq", Operand(value=True))], combine="first")
    ruleset = _ruleset(table)

    class LosingHost:
        """Like the default Host when a timer thread took the action: handled, not run."""

        def post(self, name: str, message: Any) -> None:
            return None

        def delete_state(self, name: str, sid: str) -> None:
            self.deleted = sid

    ruleset._host = LosingHost()
    with pytest.raises(durable.DurableEngineError, match="ran no action"):
        ruleset.match(table, {"flag": True})
    assert ruleset._host.deleted  # the session is started afresh


@needs_durable
def test_1024_live_sessions_is_the_limit_so_session_ids_are_pooled(
    raw: RawHost, policy: Policy
) -> None:
    name = raw.ruleset({"t": "x"})

    def open_sessions() -> None:
        for sid in range(1100):
            raw.host.post(name, {"t": "x", "sid": str(sid)})

    with pytest.raises(MemoryError):
        open_sessions()
    ruleset = durable.compile_ruleset(policy)
    incident = parse_incident({"related_to_deployment": True})
    expected = dump(incident, policy, "native")

    def one() -> None:
        decided = core.assemble(policy, core.run(policy, incident, ruleset.match))
        results.append(decided.model_dump(mode="json"))

    results: list[Any] = []
    for _ in range(1100):  # more short-lived threads than durable-rules has sessions
        thread = threading.Thread(target=one)
        thread.start()
        thread.join()
    assert results == [expected] * 1100
    assert ruleset.sessions.created <= 8


def test_the_session_pool_never_leases_one_id_twice_and_waits_at_its_limit() -> None:
    sessions = durable._Sessions(limit=2)
    a, b = sessions.acquire(), sessions.acquire()
    assert a != b
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(sessions.acquire()))
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive()  # at the limit: waits
    assert got == []
    sessions.release(b)
    waiter.join(timeout=5)
    assert got == [b]
    assert sessions.created == 2


@needs_durable
def test_no_rule_is_a_lone_nex_every_rule_starts_with_its_table(policy: Policy) -> None:
    for table in policy.tables:
        ruleset = durable.compile_ruleset(policy)
        for rule in table.rules:
            condition = ruleset.definition[rule.id]["all"][0]["m"]
            first = condition["$and"][0] if "$and" in condition else condition
            assert first["table"].startswith(f"{table.id}#"), rule.id
    # An "is null" test is string equality, not $nex.
    uncertain = ruleset.definition["tree.2.relation_uncertain"]["all"][0]["m"]
    assert uncertain == {"$and": [{"table": "decision#0"}, {"eq:related_to_deployment": "null"}]}


@needs_durable
def test_deciding_raises_no_warnings_of_its_own(policy: Policy) -> None:
    clear_caches()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decide(
            {"related_to_deployment": True, "rollback_eta_minutes": 1e-05},
            policy=policy,
            engine="durable",
        )
    allowed = "datetime.datetime.utcfromtimestamp() is deprecated"
    unexpected = [str(w.message) for w in caught if not str(w.message).startswith(allowed)]
    assert unexpected == []
    if sys.version_info < (3, 12):
        assert caught == []


# -- helpers --------------------------------------------------------------------------------


def _random_incidents(rng: random.Random, count: int) -> list[Incident]:

    def maybe(*choices: Any) -> Any:
        return rng.choice(choices)

    out = []
    for _ in range(count):
        out.append(
            Incident.model_validate(
                {
                    "production_issue": maybe(True, True, False),
                    "related_to_deployment": maybe(True, True, False, None),
                    "severity": maybe(None, "critical", "non_critical"),
                    "symptoms": rng.sample(list(Symptom), rng.randint(0, 3)),
                    "production_down": maybe(False, True),
                    "critical_path_affected": maybe(False, True),
                    "fix_forward_eta_minutes": maybe(None, 5.0, 15.0, 20.0, 45.0),
                    "rollback_eta_minutes": maybe(None, 3.0, 20.0, 30.0),
                    "rollback_possible": maybe(None, True, False),
                    "rollback_risk": maybe("low", "high"),
                    "change": {
                        "components": rng.sample(list(Component), rng.randint(1, 3)),
                        "behind_feature_flag": maybe(False, True),
                        "data_scenario": rng.choice(list(DataScenario)),
                        "data_written_in_new_format": maybe(False, True),
                        "point_of_no_return": rng.sample(list(PointOfNoReturn), maybe(0, 0, 1)),
                    },
                }
            )
        )
    return out


@needs_durable
@pytest.mark.parametrize("failures", [REGISTER_ATTEMPTS - 1, REGISTER_ATTEMPTS])
def test_a_ruleset_rejected_with_error_102_is_handed_over_up_to_register_attempts_times(
    policy: Policy, monkeypatch: pytest.MonkeyPatch, failures: int
) -> None:
    """durable-rules has rejected a ruleset with its error 102 and accepted it on a later
    registration: the ruleset is handed over REGISTER_ATTEMPTS times before the rejection is
    final, and then the error says what durable-rules said."""
    import uuid

    from rollback_decision.engine.durable.errors import DurableTranslationError
    from rollback_decision.engine.durable.ruleset import DurableRuleset

    host = durable._host()
    real = host.set_rulesets
    calls: list[str] = []

    def flaky(definitions: dict[str, Any]) -> None:
        calls.append(next(iter(definitions)))
        if len(calls) <= failures:
            raise RuntimeError("Could not create ruleset, error code: 102")
        real(definitions)

    monkeypatch.setattr(host, "set_rulesets", flaky)
    ruleset = DurableRuleset(f"retry_{uuid.uuid4().hex}", policy.tables)
    if failures < REGISTER_ATTEMPTS:
        ruleset.register()
        assert calls == [ruleset.name] * (failures + 1)
        assert host.get_ruleset(ruleset.name) is not None  # registered
    else:
        with pytest.raises(DurableTranslationError, match="error code: 102"):
            ruleset.register()
        assert len(calls) == REGISTER_ATTEMPTS
