"""The benchmark command: ``python -m benchmarks.run`` (from the repository root).

Every figure is a ratio against a baseline measured in the same run (these machines are
noisy, absolute times are not comparable between runs): decide() against the hand-written
if-chain in baseline.py over the same validated incidents, the durable-rules engine against
the native one, and verify_policy() against deciding every incident of its space one by one.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from benchmarks.baseline import decide_by_hand
from rollback_decision import (
    Component,
    DataScenario,
    Incident,
    PointOfNoReturn,
    Symptom,
    decide,
    load_policy,
)
from rollback_decision.engine import clear_caches

# Every value of each fact's type, so the incidents span the whole fact model.
COMPONENTS = [c.value for c in Component]
SYMPTOMS = [s.value for s in Symptom]
SCENARIOS = [d.value for d in DataScenario]
PONR = [p.value for p in PointOfNoReturn]


def random_incidents(count: int, seed: int = 2026) -> list[Incident]:
    """Incidents spread over the whole fact space, weighted towards the interesting branches."""
    rng = random.Random(seed)

    def maybe(p: float) -> bool:
        return rng.random() < p

    incidents = []
    for _ in range(count):
        data: dict[str, Any] = {
            "production_issue": maybe(0.95),
            "related_to_deployment": rng.choice([True, True, True, False, None]),
            "severity": rng.choice([None, None, "critical", "non_critical"]),
            "symptoms": rng.sample(SYMPTOMS, rng.randint(0, 3)),
            "production_down": maybe(0.1),
            "critical_path_affected": maybe(0.15),
            "fix_forward_eta_minutes": rng.choice([None, 5, 10, 14.9, 15, 20, 30, 60]),
            "rollback_eta_minutes": rng.choice([None, None, 3, 20, 30]),
            "rollback_possible": rng.choice([None, None, True, False]),
            "rollback_risk": rng.choice([None, None, "low", "high"]),
            "rollback_tested": rng.choice([None, True, True, False]),
            "previous_version_known_good": rng.choice([None, True, True, False]),
            "verified_backup": rng.choice([None, True, False]),
            "partial_deployment": maybe(0.1),
            "change": {
                "components": rng.sample(COMPONENTS, rng.randint(1, 3)),
                "behind_feature_flag": maybe(0.2),
                "data_scenario": rng.choice(SCENARIOS),
                "data_written_in_new_format": maybe(0.2),
                "point_of_no_return": rng.sample(PONR, rng.choice([0, 0, 0, 1])),
                "rollout": rng.choice(["all_at_once", "all_at_once", "rolling", "canary"]),
            },
        }
        incidents.append(Incident.model_validate(data))
    return incidents


def best_of(
    repeats: int, func: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    """The shortest of ``repeats`` timings of ``func``, each after an untimed ``setup``."""
    best = float("inf")
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def interleaved(
    repeats: int, timed: Mapping[str, tuple[Callable[[], object], Callable[[], object] | None]]
) -> dict[str, float]:
    """:func:`best_of` for each of ``timed`` (name: (func, setup)), the timings taken in turns
    (one of each per round) rather than one after the other: a ratio between two of them then
    compares timings taken under the same load of a shared machine, which drifts over seconds.
    """
    best = dict.fromkeys(timed, float("inf"))
    for _ in range(repeats):
        for name, (func, setup) in timed.items():
            best[name] = min(best[name], best_of(1, func, setup))
    return best


def bench_decide(incidents: Sequence[Incident], repeats: int) -> dict[str, float]:
    policy = load_policy()
    for incident in incidents:  # like for like: both compute the same answer
        decision = decide(incident, policy=policy)
        auth = next((k for k, a in policy.authorities.items() if a == decision.authority), None)
        expected = decide_by_hand(incident)
        got = (decision.action.value, auth, decision.rollback_type)
        if got != expected:
            raise SystemExit(
                f"baseline disagrees with decide() on {incident!r}: {expected} vs {got}"
            )

    def first_sight() -> None:
        for incident in incidents:
            decide(incident, policy=policy)

    # Emptying the memos (freeing the last run's thousands of decisions and parts) is set-up,
    # not deciding: it is done before the clock starts. The warm run follows a first-sight
    # one, which leaves every incident remembered.
    best = interleaved(
        repeats,
        {
            "chain": (lambda: [decide_by_hand(i) for i in incidents], None),
            "bare": (lambda: [decide(i, policy=policy, remember=False) for i in incidents], None),
            "cold": (first_sight, lambda: clear_caches(policy)),
            "warm": (first_sight, None),
        },
    )
    chain, n = best["chain"], len(incidents)
    return {
        "baseline_us": chain / n * 1e6,
        **{f"{name}_us": best[name] / n * 1e6 for name in ("bare", "cold", "warm")},
        **{f"{name}_ratio": best[name] / chain for name in ("bare", "cold", "warm")},
    }


def breakdown(incidents: Sequence[Incident], repeats: int) -> list[str]:
    """Where a first-sight decision's time goes, part by part (memos empty at the start), as
    ratios to the if-chain; timed once as decide() runs (the garbage collector on) and once
    with the collector off, to show its share. For finding what to work on next."""
    import gc

    from rollback_decision.engine import native
    from rollback_decision.engine.core import _action, _decision, incident_facts
    from rollback_decision.engine.rationale import rationale
    from rollback_decision.facts import parse_incident

    policy = load_policy()
    parts = ("incident facts", "generated pipeline", "plan parts", "rationale", "Decision")
    clock = time.perf_counter_ns

    def run() -> list[int]:
        clear_caches(policy)
        assert policy.plan is not None
        pipe, explain, expand = (
            native.pipeline(policy),
            rationale(policy),
            policy.plan.expander(policy.runtime),
        )
        spent = [0] * len(parts)
        for incident in incidents:
            t0 = clock()
            values = incident_facts(parse_incident(incident))
            key = tuple(values.values())
            memo = policy.runtime.memo("decisions.native")
            memo.get(key)
            t1 = clock()
            facts, fired = pipe.run(values)
            t2 = clock()
            action = _action(policy, facts["action"])
            expanded = expand(facts)
            t3 = clock()
            steps = explain.steps(facts, fired, action[2])
            t4 = clock()
            memo.put(key, _decision(policy, facts, steps, expanded, action))
            t5 = clock()
            for i, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
                spent[i] += b - a
        return spent

    chain = best_of(repeats, lambda: [decide_by_hand(i) for i in incidents]) * 1e9
    lines = [f"first-sight decide() by part ({len(incidents)} incidents, ratio to the if-chain)"]
    for label, collect in (("collector on", True), ("collector off", False)):
        if not collect:
            gc.disable()
        try:
            best = [min(column) for column in zip(*(run() for _ in range(repeats)), strict=True)]
        finally:
            gc.enable()
        shown = "  ".join(f"{name} {t / chain:4.1f}x" for name, t in zip(parts, best, strict=True))
        lines.append(f"  {label}: {shown}  = {sum(best) / chain:5.1f}x")
    return lines


#: How many times ``--instructions`` runs the if-chain over the incidents: the set-up of a
#: run (loading the policy, making the incidents: ~5 billion instructions) varies by a few
#: million from run to run, as much as one pass of the if-chain over 2,000 incidents.
CHAIN_PASSES = 20


def count_run(mode: str, incidents: Sequence[Incident], n: int) -> None:
    """What ``--instructions`` counts: the first ``n`` of ``incidents`` decided at first sight
    (``first-sight``: the memos emptied once, then each incident decided) or by the if-chain
    (``chain``, :data:`CHAIN_PASSES` times), after the same set-up whatever ``n`` is (a run
    with ``n`` 0 is subtracted)."""
    policy = load_policy()
    decide(incidents[0], policy=policy)  # everything compiled once
    clear_caches(policy)
    if mode == "chain":
        for _ in range(CHAIN_PASSES):
            for incident in incidents[:n]:
                decide_by_hand(incident)
    else:
        for incident in incidents[:n]:
            decide(incident, policy=policy)


def instructions(count: int) -> list[str]:
    """Instructions a decision (cachegrind, ``--cache-sim=no``, the collector on): a run that
    decides ``count`` incidents minus one that decides none, over ``count``; for first-sight
    decide() and for the if-chain. Steady where timings are not (a shared machine)."""
    import os
    import re
    import shutil
    import subprocess

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (e.g. apt-get install valgrind)")
    env = {**os.environ, "PYTHONHASHSEED": "0"}

    def refs(mode: str, n: int) -> int:
        command = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks.run",
            "--incidents",
            str(count),
            "--count",
            f"{mode}:{n}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from valgrind:\n{done.stderr}")
        return int(found.group(1).replace(",", ""))

    per = {
        mode: (refs(mode, count) - refs(mode, 0)) / (count * passes)
        for mode, passes in (("first-sight", 1), ("chain", CHAIN_PASSES))
    }
    return [
        f"instructions a decision over {count} incidents (cachegrind, the collector on)",
        f"  hand-written if-chain (baseline): {per['chain']:10,.0f}",
        f"  decide(), incident never seen:    {per['first-sight']:10,.0f}"
        f"  = {per['first-sight'] / per['chain']:5.1f}x baseline  (memos start empty)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--verify-scale",
        action="store_true",
        help="only the growth curve of verify with an organisation's added threshold rules",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="only where a first-sight decision's time goes, part by part",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="only first-sight decide() and the if-chain counted in instructions (valgrind)",
    )
    parser.add_argument("--count", help=argparse.SUPPRESS)  # one run that --instructions counts
    args = parser.parse_args(argv)
    if args.count:
        mode, _, n = args.count.partition(":")
        count_run(mode, random_incidents(args.incidents), int(n))
        return 0
    if args.instructions:
        print("\n".join(instructions(args.incidents)))
        return 0
    if args.breakdown:
        print("\n".join(breakdown(random_incidents(args.incidents), args.repeats)))
        return 0
    if args.verify_scale:
        from benchmarks.bench_verify import scale_report, verify_scale

        rows = verify_scale()
        print("\n".join(scale_report(rows)))
        return 0 if all(r["within_budget"] for r in rows) else 1
    incidents = random_incidents(args.incidents)
    result = bench_decide(incidents, args.repeats)
    print(
        f"decide() on {len(incidents)} validated incidents, "
        f"best of {args.repeats} runs taken in turns"
    )
    print(f"  hand-written if-chain (baseline): {result['baseline_us']:8.2f} µs/incident")
    print(
        f"  decide(), incident seen before:   {result['warm_us']:8.2f} µs/incident"
        f"  = {result['warm_ratio']:5.1f}x baseline  (target ≤ 5x)"
    )
    print(
        f"  decide(), incident never seen:    {result['cold_us']:8.2f} µs/incident"
        f"  = {result['cold_ratio']:5.1f}x baseline  (target ≤ 15x; memos start empty)"
    )
    print(
        f"  decide(), nothing remembered:     {result['bare_us']:8.2f} µs/incident"
        f"  = {result['bare_ratio']:5.1f}x baseline  (remember=False)"
    )
    from benchmarks.bench_engines import report as engines_report

    print("\n".join(engines_report(incidents, args.repeats)))

    from benchmarks.bench_batch import report as batch_report

    print("\n".join(batch_report(repeats=3)))

    from benchmarks.bench_verify import bench_verify_fresh

    verify = bench_verify_fresh(repeat=3)
    brute_force = verify["space_size"] * result["cold_us"] / 1e6
    print("verify_policy() on the shipped policy, best of 3 runs (one core, a fresh process)")
    print(
        f"  {verify['seconds']:.2f} s for {verify['space_size']:,} incidents in "
        f"{verify['classes']:,} classes (budget {verify['budget_seconds']:g} s)"
    )
    print(
        f"  deciding each incident instead would take ~{brute_force / 3600:,.0f} h at the "
        f"never-seen rate above: {brute_force / verify['seconds']:,.0f}x longer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
