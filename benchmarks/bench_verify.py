"""How long ``verify_policy`` takes on the shipped policy, and how large the space is; and how
its time and memory grow with an organisation's own threshold rules.

Standalone: ``python -m benchmarks.bench_verify`` (from the repository root); the growth
curve: ``python -m benchmarks.run --verify-scale``. The benchmark command calls
:func:`bench_verify` and :func:`verify_scale`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rollback_decision import load_policy
from rollback_decision.verify import diff_policies, verify_policy

#: The budget for verifying the shipped policy on one core (issue 16: under 3 s).
BUDGET_SECONDS = 3.0


def bench_verify(repeat: int = 3) -> dict[str, Any]:
    """The best of ``repeat`` runs of ``verify_policy`` on the shipped policy."""
    policy = load_policy()
    times: list[float] = []
    report = None
    for _ in range(repeat):
        started = time.perf_counter()
        report = verify_policy(policy)
        times.append(time.perf_counter() - started)
    assert report is not None
    best = min(times)
    return {
        "name": "verify shipped policy",
        "seconds": round(best, 3),
        "seconds_all": [round(t, 3) for t in times],
        "budget_seconds": BUDGET_SECONDS,
        "within_budget": best < BUDGET_SECONDS,
        "space_size": report.space_size,
        "classes": report.classes,
        "table_evaluations": report.table_evaluations,
        "findings": len(report.findings),
    }


def bench_verify_fresh(repeat: int = 3) -> dict[str, Any]:
    """:func:`bench_verify` in a fresh process: a process that has just decided hundreds of
    thousands of incidents holds their objects, and the garbage collector's passes over them
    would be counted as the verifier's time."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_verify", str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


#: Rules added for the growth curve, and the issue's budgets (seconds, MB) where it sets one.
SCALE_SIZES = (0, 25, 50, 200, 1000)
SCALE_BUDGETS = {0: (3.0, None), 50: (10.0, 500.0), 1000: (60.0, 1000.0)}


#: A size that has not finished after this long is stopped and reported as such.
SCALE_TIMEOUT_SECONDS = 600.0


def verify_one(rules: int, folder: Path) -> dict[str, Any]:
    """Load the shipped policy plus ``rules`` threshold rules (the mixed shapes: half in the
    decision and rollback-ETA tables, half in the plan and communication tables) and verify
    it (in this process: :func:`verify_scale` runs each size in a fresh one, so peak memory is
    that size's)."""
    from benchmarks.verify_scale import write_org_policy

    started = time.perf_counter()
    policy = load_policy(write_org_policy(folder, rules, mix="mixed"))
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    report = verify_policy(policy)
    seconds = time.perf_counter() - started
    verify_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    diff = diff_policies(load_policy(), policy)
    diff_seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "rules_added": rules,
        "load_seconds": round(loaded, 2),
        "verify_seconds": round(seconds, 2),
        "diff_seconds": round(diff_seconds, 2),
        "diff_changed": diff.changed,
        "peak_mb": round(peak_kb / 1024, 1),
        "verify_peak_mb": round(verify_kb / 1024, 1),
        "classes": report.classes,
        "table_evaluations": report.table_evaluations,
        "complete": not any(f.kind == "incomplete" for f in report.findings),
        "diff_complete": not any(f.kind == "incomplete" for f in diff.findings),
        "findings": [f"{f.kind}: {f.subject}" for f in report.findings],
    }


def verify_scale(sizes: Sequence[int] = SCALE_SIZES) -> list[dict[str, Any]]:
    """One fresh process per size (peak memory is per process), in the same run."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for rules in sizes:
            seconds, mb = SCALE_BUDGETS.get(rules, (None, None))
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_verify", "--one", str(rules), tmp],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=SCALE_TIMEOUT_SECONDS,
                )
                row = json.loads(done.stdout)
            except subprocess.TimeoutExpired:
                row = {
                    "rules_added": rules,
                    "timed_out": True,
                    "verify_seconds": SCALE_TIMEOUT_SECONDS,
                    "diff_seconds": None,
                    "peak_mb": None,
                    "verify_peak_mb": None,
                    "classes": 0,
                    "complete": False,
                    "diff_complete": False,
                    "findings": [],
                }
            row["budget"] = {"seconds": seconds, "mb": mb}
            row["within_budget"] = (
                row["complete"]
                and (seconds is None or row["verify_seconds"] < seconds)
                and row["diff_complete"]
                and (mb is None or (row["peak_mb"] is not None and row["peak_mb"] < mb))
            )
            out.append(row)
    return out


def scale_report(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "verify_policy() on the shipped policy plus N threshold rules of an organisation",
        "  (one fresh process per N; peak = the process's maximum resident set)",
        "  (half the rules in the decision and rollback-ETA tables, half in the plan tables)",
        "  (x N=0: verify's time as a ratio to the shipped policy's in the same run)",
        "      N   verify s   x N=0   diff s   peak MB (verify)   classes   budget"
        "           findings",
    ]
    shipped = next(
        (r["verify_seconds"] for r in rows if r["rules_added"] == 0 and not r.get("timed_out")),
        None,
    )
    for row in rows:
        if row.get("timed_out"):
            lines.append(
                f"  {row['rules_added']:5d}   stopped after {SCALE_TIMEOUT_SECONDS:g} s"
                "  OVER BUDGET"
            )
            continue
        budget = row["budget"]
        text = (
            f"< {budget['seconds']:g} s" + (f", {budget['mb']:g} MB" if budget["mb"] else "")
            if budget["seconds"]
            else "-"
        )
        mark = "" if row["within_budget"] else "  OVER BUDGET"
        if not row["complete"]:
            mark += "  INCOMPLETE (verify)"
        if not row["diff_complete"]:
            mark += "  INCOMPLETE (diff)"
        lines.append(
            f"  {row['rules_added']:5d}   {row['verify_seconds']:8.2f}"
            f"   {row['verify_seconds'] / shipped if shipped else float('nan'):5.1f}"
            f"   {row['diff_seconds']:6.2f}"
            f"   {row['peak_mb']:7.1f} ({row['verify_peak_mb']:6.1f})   {row['classes']:7,d}"
            f"   {text:<16s} {len(row['findings'])}{mark}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--one"]:
        print(json.dumps(verify_one(int(args[1]), Path(args[2]) / f"n{args[1]}")))
        return 0
    result = bench_verify(repeat=int(args[0]) if args else 3)
    print(json.dumps(result, indent=2))
    return 0 if result["within_budget"] and not result["findings"] else 1


if __name__ == "__main__":
    sys.exit(main())
