"""Runtime state: every memo belongs to a policy's runtime, is bounded, and can be bypassed."""

from __future__ import annotations

import re

import pytest

from rollback_decision import Policy, decide, load_policy
from rollback_decision.engine import clear_caches, native
from rollback_decision.runtime import Memo, Runtime
from tests.conftest import EXAMPLES

INCIDENT = {
    "related_to_deployment": True,
    "symptoms": ["trading_logic_error"],
    "change": {"components": ["application_code"]},
}


def test_a_memo_keeps_at_most_its_limit_dropping_the_oldest() -> None:
    memo: Memo[int, str] = Memo("numbers", limit=3)
    for n in range(5):
        memo.put(n, str(n))
    assert len(memo) == 3
    assert memo.get(0) is None
    assert memo.get(1) is None
    assert memo.get(4) == "4"
    with pytest.raises(ValueError, match="at least one entry"):
        Memo("empty", limit=0)


def test_decisions_are_remembered_by_the_policy_that_made_them() -> None:
    policy = load_policy(EXAMPLES / "org-policy.yaml")
    policy.runtime.clear()
    first = decide(INCIDENT, policy=policy)
    assert decide(INCIDENT, policy=policy) is first
    assert policy.runtime.sizes()["decisions.native"] == 1
    clear_caches(policy)
    assert decide(INCIDENT, policy=policy) is not first
    assert decide(INCIDENT, policy=policy) == first


def test_remember_false_leaves_the_runtime_untouched(policy: Policy) -> None:
    fresh = load_policy(EXAMPLES / "org-policy.yaml")
    fresh.runtime.clear()
    decide(INCIDENT, policy=fresh, remember=False)
    # Compiled state (the generated pipeline, the rationale plan) may be made; nothing is
    # remembered about the incident.
    assert not any(fresh.runtime.sizes().values())
    assert decide(INCIDENT, policy=fresh, remember=False) is not decide(
        INCIDENT, policy=fresh, remember=False
    )


def test_two_policies_never_share_remembered_decisions(policy: Policy) -> None:
    org = load_policy(EXAMPLES / "org-policy.yaml")
    incident = {"related_to_deployment": True, "fix_forward_eta_minutes": 20}
    assert decide(incident, policy=policy).policy == policy.identity
    assert decide(incident, policy=org).policy == org.identity


def test_the_generated_pipeline_holds_no_text_from_the_rule_files(policy: Policy) -> None:
    source = native.pipeline(policy).source
    # Every name and value a rule file gives is bound to a generated identifier.
    assert not re.search(r"['\"]", source)
    for table in policy.tables:
        assert table.id not in source
        for rule in table.rules:
            assert rule.id not in source


def test_compiled_state_is_made_once_and_outlives_clearing_the_memos() -> None:
    runtime = Runtime()
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    assert runtime.once("thing", make) == 1
    assert runtime.once("thing", make) == 1
    runtime.memo("decisions").put("incident", "decision")
    runtime.clear()
    assert runtime.once("thing", make) == 1
    assert runtime.sizes() == {"decisions": 0}


def test_making_compiled_state_may_ask_the_runtime_for_memos() -> None:
    runtime = Runtime()
    memo = runtime.once("compiled", lambda: runtime.memo("inside"))
    assert memo is runtime.memo("inside")


def test_compiled_state_is_made_from_the_arguments_given_once() -> None:
    runtime = Runtime()
    calls: list[tuple[int, int]] = []

    def make(a: int, b: int) -> int:
        calls.append((a, b))
        return a + b

    assert runtime.once("sum", make, 2, 3) == 5
    assert runtime.once("sum", make, 7, 7) == 5
    assert calls == [(2, 3)]
