"""The scenario table: incidents and their expected decisions, kept as data in scenarios/*.yaml.

Every engine runs the whole table (tests/test_scenarios.py), so the table is the shared
conformance suite of the policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from ruamel.yaml import YAML

from rollback_decision import Decision

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str | None = None
    rollback_type: int | str | None = "any"
    situation: str | bool | None = True  # True: not checked
    decided_by: str | None = None
    approval: str | None = None
    min_approvers: int | None = None
    notify: list[str] | None = None
    rollback_eta_minutes: float | str | None = "any"
    rollback_eta_estimated: bool | None = None
    #: ids of rules that fired, in rationale order (Decision.rule_ids)
    rules: list[str] = Field(default_factory=list)
    #: ids of rules that did not fire but whose if_not the rationale says (fired: false)
    not_fired: list[str] = Field(default_factory=list)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    incident: dict[str, Any]
    expect: Expectation
    file: str = ""


def load_scenarios() -> list[Scenario]:
    yaml = YAML(typ="safe", pure=True)
    scenarios: list[Scenario] = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"))
        for entry in data["scenarios"]:
            scenarios.append(Scenario.model_validate({**entry, "file": path.name}))
    ids = [s.id for s in scenarios]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"scenario ids used twice: {sorted(duplicates)}"
    return scenarios


def mismatches(scenario: Scenario, decision: Decision) -> list[str]:
    """What differs between the expectation and the decision (empty when it holds)."""
    want = scenario.expect
    got: list[str] = []

    def check(name: str, expected: Any, actual: Any) -> None:
        if expected != actual:
            got.append(f"{name}: expected {expected!r}, got {actual!r}")

    if want.action is not None:
        check("action", want.action, decision.action.value)
    if want.rollback_type != "any":
        check("rollback_type", want.rollback_type, decision.rollback_type)
    if want.rollback_eta_minutes != "any":
        check("rollback_eta_minutes", want.rollback_eta_minutes, decision.rollback_eta_minutes)
    if want.rollback_eta_estimated is not None:
        check(
            "rollback_eta_estimated", want.rollback_eta_estimated, decision.rollback_eta_estimated
        )
    authority = decision.authority
    if want.situation is not True:
        check("situation", want.situation, authority.situation if authority else None)
    for name in ("decided_by", "approval", "min_approvers", "notify"):
        expected = getattr(want, name)
        if expected is not None:
            check(name, expected, getattr(authority, name) if authority else None)
    ids = decision.rule_ids
    position = 0
    for rule_id in want.rules:
        try:
            position = ids.index(rule_id, position) + 1
        except ValueError:
            got.append(f"rationale lacks {rule_id!r} (in order) — rule ids: {ids}")
            break
    said = [step.rule_id for step in decision.rationale if not step.fired]
    for rule_id in want.not_fired:
        if rule_id not in said:
            got.append(f"rationale does not say why {rule_id!r} did not fire — said: {said}")
    for rule_id in ids:
        if rule_id in said:
            got.append(f"{rule_id!r} is listed as fired and as not fired")
    return got
