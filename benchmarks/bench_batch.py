"""Batch decisions: decide_frame() over a realistic what-if grid against a plain Python loop
of the hand-written if-chain (baseline.py) over the same rows, in the same run."""

from __future__ import annotations

import itertools
import time
from typing import Any

from benchmarks.baseline import decide_by_hand
from rollback_decision import Incident, load_policy

#: A grid an analyst sweeps: the fix and rollback times in fine steps, the severity, the data
#: scenario, the components, whether production is down and a point of no return.
AXES: dict[str, list[Any]] = {
    "fix_forward_eta_minutes": [None, *range(0, 60, 3)],
    "rollback_eta_minutes": [None, 3, 20, 30],
    "severity": [None, "critical", "non_critical"],
    "change.data_scenario": [
        "no_data_changes",
        "backward_compatible_schema",
        "forward_compatible_schema",
        "incompatible_schema",
        "irreversible_transformation",
    ],
    "change.components": [["application_code"], ["configuration", "database_schema"]],
    "production_down": [False, True],
    "change.point_of_no_return": [[], ["one_way_migration"]],
}
BASE = {"related_to_deployment": True, "symptoms": ["minor_functional_issue"]}


def grid_rows(count: int) -> list[dict[str, Any]]:
    """``count`` rows of the grid (repeated from the start when the grid is smaller)."""
    combos = itertools.product(*AXES.values())
    rows = []
    for values in itertools.islice(itertools.cycle(combos), count):
        rows.append(dict(zip(AXES, values, strict=True)))
    return rows


def _incident(row: dict[str, Any]) -> Incident:
    data: dict[str, Any] = dict(BASE)
    change: dict[str, Any] = {}
    for key, value in row.items():
        _, dot, field = key.partition(".")
        if dot:
            change[field] = value
        else:
            data[key] = value
    data["change"] = change
    return Incident.model_validate(data)


def bench_batch(count: int, repeats: int = 3) -> dict[str, float]:
    import pandas as pd

    from rollback_decision.notebook import decide_frame

    policy = load_policy()
    rows = grid_rows(count)
    incidents = [_incident(row) for row in rows]
    frame = pd.DataFrame(rows)
    for key, value in BASE.items():
        frame[key] = pd.Series([value] * len(frame), dtype=object)

    def best(func: Any) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
        return min(times)

    chain = best(lambda: [decide_by_hand(i) for i in incidents])
    cold = best(lambda: decide_frame(frame, policy=policy, remember=False))
    warm = best(lambda: decide_frame(frame, policy=policy))
    out = decide_frame(frame, policy=policy)
    for position in range(0, count, max(1, count // 500)):  # like for like: same answers
        expected = decide_by_hand(incidents[position])[0]
        if out["action"].iloc[position] != expected:
            raise SystemExit(f"decide_frame disagrees with the baseline on row {position}")
    classes = len({repr(row) for row in rows})
    return {
        "rows": count,
        "distinct": classes,
        "chain_s": chain,
        "cold_s": cold,
        "warm_s": warm,
        "cold_ratio": cold / chain,
        "warm_ratio": warm / chain,
    }


def report(repeats: int = 3) -> list[str]:
    lines = ["decide_frame() on a what-if grid against a loop of the if-chain, best of runs"]
    for count in (10_000, 100_000):
        r = bench_batch(count, repeats)
        lines.append(
            f"  {count:>7,} rows ({r['distinct']:,} distinct): if-chain loop {r['chain_s']:.3f} s;"
            f" decide_frame {r['warm_s']:.3f} s = {r['warm_ratio']:4.2f}x baseline (target ≤ 3x),"
            f" nothing remembered {r['cold_s']:.3f} s = {r['cold_ratio']:4.2f}x"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(report()))
