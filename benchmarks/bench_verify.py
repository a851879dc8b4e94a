"""How long ``verify_policy`` takes on the shipped policy, and how large the space is.

Standalone: ``python -m benchmarks.bench_verify`` (from the repository root). The benchmark
command calls :func:`bench_verify`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rollback_decision import load_policy
from rollback_decision.verify import verify_policy

#: The issue's budget for verifying the shipped policy on one core.
BUDGET_SECONDS = 10.0


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    result = bench_verify(repeat=int(args[0]) if args else 3)
    print(json.dumps(result, indent=2))
    return 0 if result["within_budget"] and not result["findings"] else 1


if __name__ == "__main__":
    sys.exit(main())
