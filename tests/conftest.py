"""Shared fixtures: the shipped policy, the rules folder, and copies of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rollback_decision import Policy, load_policy
from rollback_decision.policy.loader import shipped_rules_dir

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped rules, to edit in a test."""
    target = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), target)
    return target
