"""Grids and batch decisions: decide_many, decide_frame (pandas and dask), sweep, pivot."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollback_decision import Change, Incident, IncidentError, decide, load_policy
from rollback_decision.notebook import decide_frame, decide_many, pivot, sweep
from rollback_decision.strategies import incidents
from rollback_decision.whatif.batch import HEADLINE, decision_row, headline
from rollback_decision.whatif.fields import FIELDS
from rollback_decision.whatif.grid import base_row
from tests.property.settings import SETTINGS

pd = pytest.importorskip("pandas")

BASE = Incident.model_validate({"related_to_deployment": True, "fix_forward_eta_minutes": 20})


def _expected(incident: Incident) -> dict[str, Any]:
    return decision_row(decide(incident, remember=False))


def _frame(items: list[Incident]) -> Any:
    return pd.DataFrame([base_row(i) for i in items])


@SETTINGS
@given(st.lists(incidents(), min_size=1, max_size=30))
def test_decide_frame_rows_equal_deciding_each_row_alone(items: list[Incident]) -> None:
    frame = _frame(items)
    out = decide_frame(frame)
    names = headline(frame.columns)
    for position, incident in enumerate(items):
        got = {name: out[names[name]].iloc[position] for name in HEADLINE}
        assert got == _expected(incident)


def test_numbers_between_the_same_thresholds_share_a_class_but_not_across_one() -> None:
    # 14.9 and 15 fall on either side of the fix-forward window; every value is decided right.
    fix = [0, 1, 7.5, 14.9, 14.99, 15, 15.01, 20, 29.9, 30, 31, 1000, None]
    reported = [None, 3, 20, 30, 7, None, 3, 20, 30, 7, 31, None, 5]
    frame = pd.DataFrame(
        {
            "related_to_deployment": [True] * len(fix),
            "fix_forward_eta_minutes": pd.Series(fix, dtype=object),
            "rollback_eta_minutes": pd.Series(reported, dtype=object),
        }
    )
    out = decide_frame(frame)
    for position, row in enumerate(out.to_dict("records")):
        incident = Incident.model_validate(
            {
                "related_to_deployment": True,
                "fix_forward_eta_minutes": fix[position],
                "rollback_eta_minutes": reported[position],
            }
        )
        expected = _expected(incident)
        assert row["action"] == expected["action"], fix[position]
        assert row["decision.rollback_eta_minutes"] == expected["rollback_eta_minutes"]


def test_decide_frame_keeps_other_columns_and_does_not_change_its_input() -> None:
    frame = pd.DataFrame({"incident_id": ["a", "b"], "production_issue": [True, False]})
    out = decide_frame(frame)
    assert list(out["incident_id"]) == ["a", "b"]
    assert list(out["action"]) == ["escalate", "no_action"]
    assert list(frame.columns) == ["incident_id", "production_issue"]
    # The decision's rollback time sits beside the reported one, not over it.
    assert "decision.rollback_eta_minutes" in out.columns
    assert "rollback_eta_minutes" not in out.columns


def test_decide_frame_refuses_a_bad_cell_naming_row_and_column() -> None:
    frame = pd.DataFrame({"fix_forward_eta_minutes": [5.0, -3.0]}, index=["x", "y"])
    with pytest.raises(IncidentError, match=r"row 'y'.*fix_forward_eta_minutes"):
        decide_frame(frame)
    frame = pd.DataFrame({"change.data_scenario": ["no_data_changes", "sideways"]})
    with pytest.raises(IncidentError, match=r"row 1.*change\.data_scenario"):
        decide_frame(frame)


def test_decide_frame_maps_over_dask_partitions() -> None:
    dd = pytest.importorskip("dask.dataframe")
    import dask

    grid = sweep(
        BASE,
        {
            "fix_forward_eta_minutes": [5, 14.9, 15, 45, None],
            "severity": [None, "critical", "non_critical"],
            "change.data_scenario": ["no_data_changes", "incompatible_schema"],
        },
    )
    frame = grid[["fix_forward_eta_minutes", "severity", "change.data_scenario"]].copy()
    frame["related_to_deployment"] = True
    # Numbers as floats (NaN: unknown): dask would read an object column as text.
    frame["fix_forward_eta_minutes"] = frame["fix_forward_eta_minutes"].astype(float)
    meta = decide_frame(frame.iloc[:0])
    lazy = dd.from_pandas(frame, npartitions=4).map_partitions(decide_frame, meta=meta)
    with dask.config.set(scheduler="threads"):
        result = lazy.compute()
    assert lazy.npartitions == 4
    alone = decide_frame(frame)
    assert list(result.columns) == list(alone.columns)
    for name in HEADLINE:
        column = headline(frame.columns)[name]
        assert list(result[column]) == list(alone[column]), name
    assert list(result["action"]) == list(grid["action"])


def test_decide_many_shares_one_decision_between_equal_incidents() -> None:
    items: list[Any] = [BASE, {"related_to_deployment": True, "fix_forward_eta_minutes": 20}, {}]
    decisions = decide_many(items)
    assert decisions[0] is decisions[1]
    assert decisions == [decide(i) for i in items]
    with pytest.raises(IncidentError, match=r"incident 1: .*sevrity"):
        decide_many([{}, {"sevrity": "critical"}])


def test_sweep_over_many_fields_has_every_combination() -> None:
    grid = sweep(
        BASE,
        {
            "fix_forward_eta_minutes": [5, 20],
            "severity": [None, "critical"],
            "change.data_scenario": ["no_data_changes", "irreversible_transformation"],
        },
    )
    assert len(grid) == 8
    assert list(grid.columns[:3]) == ["fix_forward_eta_minutes", "severity", "change.data_scenario"]
    for row in grid.to_dict("records"):
        incident = Incident.model_validate(
            {
                "related_to_deployment": True,
                "fix_forward_eta_minutes": row["fix_forward_eta_minutes"],
                "severity": row["severity"],
                "change": {"data_scenario": row["change.data_scenario"]},
            }
        )
        assert row["action"] == decide(incident).action


def test_sweep_names_a_misspelt_field_and_pivot_shows_two_axes() -> None:
    with pytest.raises(IncidentError, match=r"'change\.data_scenaro'.*did you mean"):
        sweep(BASE, {"change.data_scenaro": ["no_data_changes"]})
    with pytest.raises(IncidentError, match="did you mean 'severity'"):
        sweep(BASE, {"sevrity": ["critical"]})
    grid = sweep(
        BASE,
        {
            "fix_forward_eta_minutes": [5, 20, None],
            "change.point_of_no_return": [[], ["one_way_migration"]],
        },
    )
    table = pivot(grid, "fix_forward_eta_minutes", "change.point_of_no_return")
    assert table.loc[5, "none"] == "fix_forward"
    assert table.loc[20, "none"] == "rollback"
    assert table.loc["unknown", "one_way_migration"] == "must_fix_forward"


def test_every_model_field_is_a_column() -> None:
    columns = set(base_row(BASE))
    assert columns == set(FIELDS)
    assert {f"change.{name}" for name in Change.model_fields} <= columns


def test_one_field_sweep_keeps_its_form() -> None:
    table = sweep(BASE, "change.data_scenario", ["no_data_changes", "irreversible_transformation"])
    assert list(table.index) == ["no_data_changes", "irreversible_transformation"]
    assert list(table["action"]) == ["rollback", "must_fix_forward"]
    assert load_policy() is not None


def test_a_fix_time_is_placed_against_each_class_s_own_rollback_time() -> None:
    # The fix-forward time is compared with the rollback time, which the change determines:
    # ties and both sides of each rollback time are decided as they are one by one.
    fix = [None, 0, 4.9, 5, 5.1, 10, 14.9, 15, 20, 34.9, 35, 35.1, 60, 61, 200]
    components = [["application_code"], ["configuration", "dependency"], ["network"]]
    grid = sweep(
        {"related_to_deployment": True, "change": {"data_scenario": "incompatible_schema"}},
        {"fix_forward_eta_minutes": fix, "change.components": components},
    )
    for row in grid.to_dict("records"):
        incident = Incident.model_validate(
            {
                "related_to_deployment": True,
                "fix_forward_eta_minutes": row["fix_forward_eta_minutes"],
                "change": {
                    "data_scenario": "incompatible_schema",
                    "components": row["change.components"],
                },
            }
        )
        assert row["action"] == decide(incident).action, row
