"""``verify_policy``: gaps, overlaps, dead rules and invariant violations of a policy, over
its whole discretised fact space."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rollback_decision.engine.core import DECISION_OUTPUTS, Matcher
from rollback_decision.invariants import INVARIANTS, Invariant
from rollback_decision.policy import Policy, default_policy
from rollback_decision.verify.along import AlongChecks, AlongUnavailable
from rollback_decision.verify.classes import MAX_CLASSES, WalkLimit
from rollback_decision.verify.collector import pausing
from rollback_decision.verify.domains import FactSpace, outside_cuts, table_needs
from rollback_decision.verify.findings import incomplete, structural, unenumerable
from rollback_decision.verify.invariants_check import check_invariants
from rollback_decision.verify.report import Finding, VerifyReport
from rollback_decision.verify.schedule import split_tables
from rollback_decision.verify.sinks import check_sinks
from rollback_decision.verify.walk import Walk

__all__ = ["EngineChoice", "resolve_engine", "verify_policy"]

EngineChoice = str | Matcher


def resolve_engine(engine: EngineChoice, policy: Policy) -> tuple[str, Matcher | None]:
    if callable(engine):
        return getattr(engine, "__name__", "custom"), engine
    if engine == "native":
        return "native", None  # the walk evaluates the compiled conditions itself
    from rollback_decision.engine import matcher_for

    return engine, matcher_for(engine, policy)


@pausing
def verify_policy(
    policy: Policy | None = None,
    *,
    engine: EngineChoice = "native",
    invariants: Sequence[Invariant] = INVARIANTS,
    max_classes: int = MAX_CLASSES,
    exhaustive: bool = False,
) -> VerifyReport:
    """Check ``policy`` (default: the shipped one) over its whole discretised fact space.

    Reports gaps (no rule of a first or unique table decides), overlaps (several rules of a
    unique table match), rules that can never fire (never match, or always shadowed by an
    earlier rule) and invariant violations, each with the smallest incident that shows it.
    ``engine`` is an engine name or a :data:`~rollback_decision.engine.core.Matcher`.

    ``exhaustive`` keeps every point of a number the invariants read apart (the first
    verifier's walk, for comparison): by default consecutive points that get the same decision
    and stand in the same order to the numbers they are compared with are one class.

    When part of the space cannot be checked (the walk would hold more than ``max_classes``
    classes, or a fact some rule reads cannot be enumerated), the report has an
    ``incomplete`` finding, so it is never "no findings".
    """
    policy = policy if policy is not None else default_policy()
    started = time.perf_counter()
    engine_name, matcher = resolve_engine(engine, policy)
    core, sinks = split_tables(policy, DECISION_OUTPUTS)
    interface = sorted(
        {
            n
            for t in sinks
            for n in table_needs(t)
            if policy.producers.get(n) in {c.id for c in core}
        }
    )
    # A plan rule comparing a decision fact (the rollback ETA, say) with a number needs the
    # decision's walk to reach both sides of that number.
    space = FactSpace([policy], [core], cuts=outside_cuts(sinks, interface))
    # Invariants with an ``along`` are checked where the walk sums their number out
    # (verify/along.py); the exhaustive walk keeps every number the invariants read.
    swept = [i for i in invariants if i.along is not None and not exhaustive]
    full_space = FactSpace([policy]) if sinks else space
    # First-match tables keep only the rule that fires; a rule that never fires is then
    # walked again with every match kept, to tell a shadowed rule from an unreachable one.
    winners = not exhaustive
    try:
        while True:
            along = AlongChecks(policy, swept) if swept else None
            kept = [i for i in invariants if i.scope == "incident" and i not in swept]
            walk = Walk(
                space,
                [matcher],
                keep=frozenset().union(*(i.reads for i in kept)),
                outputs=tuple(dict.fromkeys([*DECISION_OUTPUTS, *interface])),
                tables=[core],
                max_classes=max_classes,
                runs=not exhaustive,
                along=along,
                winners=winners,
            )
            try:
                walk.run()
            except AlongUnavailable as unavailable:  # kept for them instead
                swept = [i for i in swept if i.along and i.along.fact != unavailable.name]
                continue
            # A number no table of the walk reads was never summed out: the invariants
            # reading it are checked on the final classes (at its default), as without along.
            if winners and walk.unfired():
                winners = False
                continue
            if along is None or along.swept >= set(along.by_fact):
                break
            swept = [i for i in swept if i.along and i.along.fact in along.swept]
    except WalkLimit as limit:
        return VerifyReport(
            policy=policy.identity,
            engine=engine_name,
            space_size=0,
            classes=0,
            table_evaluations=walk.evaluated,
            seconds=time.perf_counter() - started,
            domains=tuple(d.describe() for d in full_space.domains.values()),
            fixed_facts=tuple(d.name for d in full_space.domains.values() if not d.read),
            invariants=tuple(i.name for i in invariants),
            findings=(
                *unenumerable(full_space.unenumerable),
                incomplete("verify", f"nothing was checked: {limit}"),
            ),
            sink_tables=tuple(t.id for t in sinks),
        )
    findings: list[Finding] = unenumerable(full_space.unenumerable)
    findings += structural(policy, walk, 0, tables=core)
    findings += check_invariants(policy, walk, invariants)
    evaluated = walk.evaluated
    if sinks:
        count, sink_findings = check_sinks(policy, matcher, walk, sinks, full_space)
        findings += sink_findings
        evaluated += count
    from rollback_decision.readiness.verify import verify_readiness  # its own fact model

    findings += verify_readiness(policy)
    seconds = time.perf_counter() - started
    return VerifyReport(
        policy=policy.identity,
        engine=engine_name,
        space_size=walk.total(),
        classes=len(walk.final),
        table_evaluations=evaluated,
        seconds=seconds,
        domains=tuple(d.describe() for d in full_space.domains.values()),
        fixed_facts=tuple(d.name for d in full_space.domains.values() if not d.read),
        invariants=tuple(i.name for i in invariants),
        findings=tuple(findings),
        sink_tables=tuple(t.id for t in sinks),
        clocks=tuple((c.id, c.section, c.text) for c in policy.clocks.listing()),
    )
