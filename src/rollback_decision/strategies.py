"""Hypothesis strategies for incidents, for property tests of decisions (yours and ours).

Needs the ``strategies`` extra (``pip install 'rollback-decision[strategies]'``)::

    from hypothesis import given
    from rollback_decision import decide
    from rollback_decision.strategies import incidents

    @given(incidents(related_to_deployment=False))
    def test_unrelated_is_never_rolled_back(incident):
        assert not decide(incident).action.is_rollback

Every field of :class:`~rollback_decision.Incident` and :class:`~rollback_decision.Change` is
drawn; a keyword fixes a field to a value or draws it from a strategy you give.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without hypothesis only
    raise ImportError(
        "rollback_decision.strategies needs hypothesis: pip install 'rollback-decision[strategies]'"
    ) from exc

from rollback_decision.errors import did_you_mean
from rollback_decision.facts import (
    Change,
    Component,
    DataScenario,
    Incident,
    PointOfNoReturn,
    Rollout,
    Symptom,
)

__all__ = [
    "change_fields",
    "changes",
    "deployment_plans",
    "incident_fields",
    "incidents",
    "minutes",
    "rollback_tests",
]


def minutes(*, nullable: bool = True, max_value: float = 240.0) -> st.SearchStrategy[float | None]:
    """Durations in minutes: often whole (so that times tie), sometimes fractional, or null."""
    whole = st.integers(min_value=0, max_value=int(max_value)).map(float)
    fraction = st.floats(min_value=0.0, max_value=max_value, allow_nan=False, allow_infinity=False)
    values: st.SearchStrategy[float | None] = st.one_of(whole, fraction)
    return st.one_of(st.none(), values) if nullable else values


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def change_fields() -> dict[str, st.SearchStrategy[Any]]:
    """A strategy for every field of :class:`Change` (a fresh dict; edit it freely)."""
    return {
        "components": st.lists(st.sampled_from(Component), min_size=1, max_size=4, unique=True),
        "behind_feature_flag": st.booleans(),
        "data_scenario": st.sampled_from(DataScenario),
        "data_written_in_new_format": st.booleans(),
        "point_of_no_return": st.lists(st.sampled_from(PointOfNoReturn), max_size=2, unique=True),
        "trading_system": st.booleans(),
        "customer_facing": st.booleans(),
        "rollout": st.sampled_from(Rollout),
        "traffic_percent": _maybe(
            st.one_of(
                st.sampled_from([0.0, 5.0, 50.0, 100.0]),
                st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
            )
        ),
    }


def incident_fields() -> dict[str, st.SearchStrategy[Any]]:
    """A strategy for every field of :class:`Incident` but ``change`` (a fresh dict)."""
    return {
        "production_issue": st.booleans(),
        "related_to_deployment": _maybe(st.booleans()),
        "severity": st.sampled_from([None, "critical", "non_critical"]),
        "symptoms": st.lists(st.sampled_from(Symptom), max_size=4, unique=True),
        "production_down": st.booleans(),
        "critical_path_affected": st.booleans(),
        "fix_forward_eta_minutes": minutes(),
        "rollback_eta_minutes": minutes(),
        "rollback_possible": _maybe(st.booleans()),
        "rollback_risk": st.sampled_from([None, "low", "high"]),
        "previous_version_known_good": _maybe(st.booleans()),
        "rollback_tested": _maybe(st.booleans()),
        "verified_backup": _maybe(st.booleans()),
        "partial_deployment": st.booleans(),
    }


def _merge(
    model: str,
    fields: dict[str, st.SearchStrategy[Any]],
    fixed: Mapping[str, Any],
    extra: tuple[str, ...] = (),
) -> dict[str, st.SearchStrategy[Any]]:
    for name, value in fixed.items():
        if name not in fields:
            hint = did_you_mean(name, [*fields, *extra])
            raise TypeError(f"{model} has no field {name!r}{hint}")
        fields[name] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return fields


def changes(**fixed: Any) -> st.SearchStrategy[Change]:
    """Changes with every field drawn; ``changes(components=[...])`` fixes a field."""
    return st.builds(Change, **_merge("Change", change_fields(), fixed))


def incidents(
    *, change: Change | st.SearchStrategy[Change] | None = None, **fixed: Any
) -> st.SearchStrategy[Incident]:
    """Incidents with every field drawn; a keyword fixes a field or gives its strategy.

    ``incidents(related_to_deployment=True, production_issue=True)`` draws only related
    production issues; ``change=changes(point_of_no_return=[...])`` constrains the change.
    """
    fields = _merge("Incident", incident_fields(), fixed, extra=("change",))
    if change is None:
        fields["change"] = changes()
    else:
        fields["change"] = change if isinstance(change, st.SearchStrategy) else st.just(change)
    return st.builds(Incident, **fields)


# -- deployment plans (rollback_decision.readiness) ---------------------------------------------


def rollback_tests(**fixed: Any) -> st.SearchStrategy[Any]:
    """Rollback test records, each documentation field drawn or left out (null)."""
    from datetime import date

    from rollback_decision.readiness import RollbackTest, TestEnvironment

    texts = st.lists(st.sampled_from(["slow step", "lock timeout", "retried"]), max_size=2)
    fields: dict[str, st.SearchStrategy[Any]] = {
        "date": _maybe(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 1, 1))),
        "environment": _maybe(st.sampled_from(TestEnvironment)),
        "tester": _maybe(st.sampled_from(["A. Chen", "J. Rivera"])),
        "rollback_time_minutes": minutes(max_value=180.0),
        "issues_found": _maybe(texts),
        "modifications": _maybe(texts),
        "final_validation": st.sampled_from([None, "pass", "fail"]),
        "production_like_data": _maybe(st.booleans()),
        "under_load": _maybe(st.booleans()),
    }
    return st.builds(RollbackTest, **_merge("RollbackTest", fields, fixed))


def deployment_plans(
    *, change: Change | st.SearchStrategy[Change] | None = None, **fixed: Any
) -> st.SearchStrategy[Any]:
    """Deployment plans with every field drawn; a keyword fixes a field or gives its strategy
    (``deployment_plans(rollback_tests=[])`` draws only plans without a tested rollback)."""
    from rollback_decision.readiness import DeploymentPlan, Prerequisite, RolloutStrategy

    fields: dict[str, st.SearchStrategy[Any]] = {
        "rollback_tests": st.lists(rollback_tests(), max_size=2),
        "prerequisites": st.dictionaries(
            st.sampled_from(Prerequisite), _maybe(st.booleans()), max_size=len(Prerequisite)
        ),
        "performance_critical": st.booleans(),
        "high_risk": st.booleans(),
        "rollout_strategy": st.sampled_from(RolloutStrategy),
        "low_traffic_window": _maybe(st.booleans()),
        "approvals": st.lists(
            st.sampled_from(["type_5_extra_scrutiny", "cab_approval"]), unique=True
        ),
    }
    fields = _merge("DeploymentPlan", fields, fixed, extra=("change",))
    if change is None:
        fields["change"] = changes()
    else:
        fields["change"] = change if isinstance(change, st.SearchStrategy) else st.just(change)
    return st.builds(DeploymentPlan, **fields)
