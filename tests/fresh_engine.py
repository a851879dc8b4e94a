"""Decisions made in a fresh interpreter, for the tests whose engine (durable-rules) has
rejected the shipped ruleset in one test worker after other rulesets were registered there
and accepted it in every fresh process (durable-rules' "error code: 102")."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from rollback_decision import Decision

_SCRIPT = (
    "import json, sys\n"
    "from rollback_decision import decide\n"
    "incidents, engine = json.load(sys.stdin)\n"
    "print(json.dumps([decide(i, engine=engine).model_dump(mode='json') for i in incidents]))\n"
)


def decide_in_fresh_process(
    incidents: Sequence[Mapping[str, Any]], engine: str, cause: Exception
) -> list[Decision]:
    """The shipped policy's decisions of ``incidents`` on ``engine``, made in a fresh
    interpreter, which must accept the ruleset (else the test fails, naming ``cause``)."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps([list(incidents), engine]),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"{engine} rejects the shipped policy: {cause}; afresh: {done.stderr}")
    return [Decision.model_validate(d) for d in json.loads(done.stdout)]
