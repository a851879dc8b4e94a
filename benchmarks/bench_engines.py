"""The durable-rules engine against the native engine, measured in the same run.

``python -m benchmarks.bench_engines`` (from the repository root) on its own, or as a section of
``python -m benchmarks.run``. Both engines decide the same validated incidents through the
shared core (``run`` + ``assemble``), bypassing decide()'s memo of repeated incidents so that
every decision reaches the engine; the figure that matters is the ratio, both measured now.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benchmarks.run import best_of, random_incidents
from rollback_decision import Incident, Policy, load_policy
from rollback_decision.engine import core, durable, native
from rollback_decision.errors import EngineUnavailableError

__all__ = ["bench_engines", "main", "report"]


def bench_engines(
    incidents: Sequence[Incident], repeats: int, policy: Policy | None = None
) -> dict[str, float]:
    """µs per decision on each engine (best of ``repeats`` passes) and durable / native;
    ``*_match_*``: the tables alone (``core.run``), without assembling the Decision.

    Raises :class:`EngineUnavailableError` when durable-rules is not installed.
    """
    policy = policy if policy is not None else load_policy()
    engines = {"native": native.match, "durable": durable.matcher(policy)}
    for incident in incidents:  # like for like: both engines give the same decision
        answers = {
            name: core.assemble(policy, core.run(policy, incident, match))
            for name, match in engines.items()
        }
        if answers["native"] != answers["durable"]:
            raise SystemExit(f"the engines disagree on {incident!r}")

    n = len(incidents)

    def decisions(match: core.Matcher) -> float:
        return best_of(
            repeats, lambda: [core.assemble(policy, core.run(policy, i, match)) for i in incidents]
        )

    def matching(match: core.Matcher) -> float:
        return best_of(repeats, lambda: [core.run(policy, i, match) for i in incidents])

    result = {
        "native_us": decisions(engines["native"]) / n * 1e6,
        "durable_us": decisions(engines["durable"]) / n * 1e6,
        "native_match_us": matching(engines["native"]) / n * 1e6,
        "durable_match_us": matching(engines["durable"]) / n * 1e6,
    }
    result["ratio"] = result["durable_us"] / result["native_us"]
    result["match_ratio"] = result["durable_match_us"] / result["native_match_us"]
    return result


def report(incidents: Sequence[Incident], repeats: int) -> list[str]:
    """The engines section of the benchmark report, as lines."""
    head = f"engines on {len(incidents)} validated incidents, every decision computed, "
    lines = [head + f"best of {repeats} runs"]
    try:
        result = bench_engines(incidents, repeats)
    except EngineUnavailableError as exc:
        return [*lines, f"  durable engine: not measured ({exc})"]
    lines.append(f"  native engine:          {result['native_us']:8.2f} µs/decision")
    lines.append(
        f"  durable-rules engine:   {result['durable_us']:8.2f} µs/decision"
        f"  = {result['ratio']:5.1f}x native"
    )
    lines.append(
        f"  tables alone (no Decision): native {result['native_match_us']:.2f} µs, "
        f"durable {result['durable_match_us']:.2f} µs = {result['match_ratio']:.1f}x"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("\n".join(report(random_incidents(args.incidents), args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
