"""The example decisions, byte for byte: a refactoring of the engine must not change them.

Each example incident is decided under the shipped policy and the example organisation
policy; the JSON is compared with the copy kept in ``tests/golden/``. After a deliberate
change of the rules, rewrite the copies with ``ROLLBACK_DECISION_WRITE_GOLDEN=1 pytest
tests/test_golden.py`` and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rollback_decision import decide, load_policy
from rollback_decision.facts import load_incident
from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"
INCIDENTS = sorted((EXAMPLES / "incidents").glob("*.yaml"))
POLICIES = {"shipped": None, "org": EXAMPLES / "org-policy.yaml"}


@pytest.mark.parametrize("policy_name", sorted(POLICIES))
@pytest.mark.parametrize("path", INCIDENTS, ids=lambda p: p.stem)
def test_example_decision_json_is_unchanged(path: Path, policy_name: str) -> None:
    policy = load_policy(POLICIES[policy_name])
    decision = decide(load_incident(str(path)), policy=policy)
    text = json.dumps(decision.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    golden = GOLDEN / f"{path.stem}.{policy_name}.json"
    if os.environ.get("ROLLBACK_DECISION_WRITE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden copy {golden.name}; see this module's docstring"
    assert text == golden.read_text(encoding="utf-8")
