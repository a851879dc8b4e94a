"""Decision-consistency invariants: what must hold for every incident, whatever the rules say.

Each :class:`Invariant` names the policy clause it protects and checks one incident's decision::

    from rollback_decision import decide, load_policy
    from rollback_decision.invariants import INVARIANTS, check_incident

    policy = load_policy()
    for violation in check_incident(policy, incident):
        print(violation)

Some invariants compare two decisions (a more severe incident, a later fix): they derive the
paired incident with ``incident.model_copy(update=...)`` and decide it with the ``decide``
callable they are given (by default :func:`rollback_decision.decide` on the same policy with
``remember=False``, so that deciding again really works the decision out again).
``rollback-decision verify`` runs every invariant over the whole discretised fact space; the
project's property tests run them on random incidents.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rollback_decision.decision import Action, Authority, Decision
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Incident
from rollback_decision.policy import Policy

__all__ = [
    "INVARIANTS",
    "Along",
    "Decider",
    "Invariant",
    "Violation",
    "action_urgency",
    "authority_rank",
    "check_incident",
    "decide_with",
    "get_invariant",
]

#: Decides a (derived) incident under the policy being checked.
Decider = Callable[[Incident], Decision]
Check = Callable[[Policy, Incident, Decision, Decider], "str | None"]
#: An invariant checked along a number (see :class:`Along`): the number's values in increasing
#: order and the decision at each -> the positions where the invariant fails.
AlongCheck = Callable[[Policy, Sequence[Any], Sequence[Decision]], list[int]]

_TREE = "ROLLBACK DECISION FRAMEWORK › DECISION TREE"


@dataclass(frozen=True)
class Along:
    """How an invariant that reads one number (``fact``) is checked over all its values at
    once, where a single table reads that number.

    The verifier gives ``check`` the number's values in increasing order, one per stretch
    of values the tables treat alike (the invariant must answer alike for every value of a
    stretch), with everything else about the incident the same, and the decision at each as
    far as that table and the tables before it make it (fields later tables make are None);
    ``check`` returns the positions where the invariant fails. It must find what the
    invariant's ``run`` finds: the verifier shows each failure with ``run``'s message, and
    its tests compare both."""

    fact: str
    check: AlongCheck


@dataclass(frozen=True)
class Invariant:
    """A property every decision of a sound policy has.

    ``reads`` names the incident facts (``change.*`` flattened) the check looks at, besides the
    decision; the verifier keeps them apart when it merges incidents. ``scope`` is
    ``"incident"`` when the answer depends on the incident, ``"outcome"`` when it depends only
    on the decision made (the verifier then checks it once per distinct decision). ``along``
    lets the verifier check it over every value of the one number it reads at once.
    """

    name: str
    clause: str
    section: str
    reads: frozenset[str]
    run: Check
    scope: Literal["incident", "outcome"] = "incident"
    along: Along | None = None

    def check(
        self, policy: Policy, incident: Incident, decision: Decision, decide: Decider | None = None
    ) -> str | None:
        """None when the invariant holds, else what is wrong. ``decide`` defaults to
        :func:`rollback_decision.decide` on ``policy`` with ``remember=False``."""
        if decide is None:
            from rollback_decision.engine import decide as decide_with

            def decide(other: Incident) -> Decision:
                return decide_with(other, policy=policy, remember=False)

        return self.run(policy, incident, decision, decide)


@dataclass(frozen=True)
class Violation:
    invariant: Invariant
    message: str

    def __str__(self) -> str:
        return f"{self.invariant.name}: {self.message} (policy: {self.invariant.section})"


def decide_with(decide: Decider, incident: Incident, name: str, value: Any) -> Decision:
    """``decide`` on ``incident`` with its fact ``name`` (a top-level field) set to ``value``.

    A decider that offers ``with_fact(incident, name, value)`` (the verifier's, which checks
    every class of incidents and varies each many times) is asked that way, without building
    the changed incident; any other gets the changed copy."""
    shortcut = getattr(decide, "with_fact", None)
    if shortcut is not None:
        found: Decision = shortcut(incident, name, value)
        return found
    return decide(incident.model_copy(update={name: value}))


# -- orderings ----------------------------------------------------------------------------------


#: The actions that roll back.
_ROLLBACKS = frozenset(action for action in Action if action.is_rollback)
#: Each action's position in :class:`Action`'s declaration.
_URGENCY = {action: position for position, action in enumerate(Action)}


def action_urgency(action: Action) -> int:
    """0 for the most urgent action; :class:`Action` is declared from most to least urgent."""
    return _URGENCY[action]


def authority_rank(policy: Policy, authority: Authority | None) -> int | None:
    """The ``rank`` the policy gives an authority row (0 for no authority), or None if unranked.

    Ranks are data (``rules/authority.yaml``): the more severe the situation a row handles,
    the higher its rank.
    """
    if authority is None:
        return 0
    rows = policy.authorities.items()
    # A decision holds the policy's own row: found by identity, else (a copy) by value.
    for same in (operator.is_, operator.eq):
        for ident, row in rows:
            if same(row, authority):
                return policy.authority_ranks.get(ident)
    return None


# -- the checks ---------------------------------------------------------------------------------


def _no_issue(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    if not incident.production_issue and decision.action is not Action.NO_ACTION:
        return f"no production issue, but the action is {decision.action.value}"
    return None


def _unrelated(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    if incident.related_to_deployment is False and decision.action.is_rollback:
        return (
            f"the issue is unrelated to the deployment, but the action is {decision.action.value}"
        )
    return None


def _impossible(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    if not decision.action.is_rollback:
        return None
    reasons = []
    if incident.rollback_possible is False:
        reasons.append("rollback is reported impossible")
    if incident.change.point_of_no_return:
        reasons.append("the change passed a point of no return")
    if decision.rollback_type == 5:
        reasons.append("the rollback type is 5 (point of no return)")
    if reasons:
        return f"{' and '.join(reasons)}, but the action is {decision.action.value}"
    return None


def _severity(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    if incident.severity == "critical":
        return None
    worse = decide_with(decide, incident, "severity", "critical")
    before = incident.severity or "not reported"
    if action_urgency(worse.action) > action_urgency(decision.action):
        return (
            f"severity {before} gives {decision.action.value}, but critical gives the slower "
            f"{worse.action.value}"
        )
    rank, worse_rank = (
        authority_rank(policy, decision.authority),
        authority_rank(policy, worse.authority),
    )
    if rank is not None and worse_rank is not None and worse_rank < rank:
        return (
            f"severity {before} needs authority {_situation(decision)}, but critical only "
            f"the weaker {_situation(worse)}"
        )
    return None


def _situation(decision: Decision) -> str:
    return decision.authority.situation if decision.authority else "none"


def _later_fix(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    eta = incident.fix_forward_eta_minutes
    if eta is None or not decision.action.is_rollback:
        return None
    for later in later_values(policy, eta, decision.rollback_eta_minutes):
        other = decide_with(decide, incident, "fix_forward_eta_minutes", later)
        if other.action in (Action.FIX_FORWARD,):
            return (
                f"a fix in {eta:g} min gives {decision.action.value}, but a later fix "
                f"({later:g} min) gives {other.action.value}"
            )
    return None


def _later_fix_along(
    policy: Policy, values: Sequence[Any], decisions: Sequence[Decision]
) -> list[int]:
    # A rollback at a fix ETA fails when a fix forward comes at any later one (positions
    # with no ETA count for neither); the failing positions from the last down.
    actions = [d.action if v is not None else None for v, d in zip(values, decisions, strict=True)]
    last_fix = next(
        (i for i in range(len(actions) - 1, -1, -1) if actions[i] is Action.FIX_FORWARD), 0
    )
    return [i for i in range(last_fix - 1, -1, -1) if actions[i] in _ROLLBACKS]


def later_values(policy: Policy, current: float, rollback_eta: float | None) -> list[float]:
    """Fix-forward ETAs later than ``current`` that the policy can tell apart: each threshold
    it compares the ETA with (and the rollback time), the midpoints, and one beyond."""
    from rollback_decision.verify.domains import FactSpace
    from rollback_decision.verify.schedule import split_tables

    def make() -> frozenset[float]:
        # Only the tables the action depends on can tell two fix-forward ETAs apart: a
        # threshold of a plan or communication rule changes no action.
        core = split_tables(policy, ("action",))[0]
        return frozenset(FactSpace([policy], [core]).number_thresholds("fix_forward_eta_minutes"))

    thresholds: frozenset[float] = policy.runtime.once("invariants.fix_forward_thresholds", make)
    cuts = sorted({t for t in (*thresholds, rollback_eta) if t is not None and t > current})
    out = {current + 1.0, *cuts}
    for low, high in zip([current, *cuts], cuts, strict=False):
        out.add((low + high) / 2)
    if cuts:
        out.add(cuts[-1] + 1.0)
    return sorted(out)


def _ties(policy: Policy, incident: Incident, decision: Decision, decide: Decider) -> str | None:
    return _tie(policy, incident.fix_forward_eta_minutes, decision)


def _ties_along(policy: Policy, values: Sequence[Any], decisions: Sequence[Decision]) -> list[int]:
    return [
        i
        for i, (eta, d) in enumerate(zip(values, decisions, strict=True))
        if eta is not None and eta == d.rollback_eta_minutes and _tie(policy, eta, d)
    ]


def _tie(policy: Policy, eta: float | None, decision: Decision) -> str | None:
    if eta is None or decision.rollback_eta_minutes is None or eta != decision.rollback_eta_minutes:
        return None
    window = policy.parameters.get("fix_forward_window_minutes", 0)
    quick = isinstance(window, (int, float)) and eta < window
    if decision.action is Action.FIX_FORWARD and not quick:
        return (
            f"fixing forward and rolling back both take {eta:g} min, but the action is fix_forward"
        )
    return None


def _deterministic(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    # ``decide`` works every decision out afresh (no memo), so a nondeterministic engine shows.
    if decide(incident) != decision:
        return "deciding the same incident twice gave different decisions"
    return None


def _total(policy: Policy, incident: Incident, decision: Decision, decide: Decider) -> str | None:
    # Reaching the check means a decision was made; check_incident() reports DecisionError
    # under this invariant, and the verifier reports gaps and overlaps.
    return None


def _json(policy: Policy, incident: Incident, decision: Decision, decide: Decider) -> str | None:
    text = decision.model_dump_json()
    if Decision.model_validate_json(text) != decision:
        return "the decision does not survive a JSON round trip"
    return None


def _authority(
    policy: Policy, incident: Incident, decision: Decision, decide: Decider
) -> str | None:
    if not decision.action.is_rollback:
        return None
    if decision.authority is None:
        return f"the action is {decision.action.value}, but no authority is named"
    if not decision.authority.decided_by or not decision.authority.approvers:
        return (
            f"the action is {decision.action.value}, but authority "
            f"{decision.authority.situation!r} names no decision maker or no approvers"
        )
    return None


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        name="no_production_issue_means_no_action",
        clause="1. IS THERE A PRODUCTION ISSUE? NO → No rollback needed, continue monitoring",
        section=f"{_TREE} › 1. IS THERE A PRODUCTION ISSUE?",
        reads=frozenset({"production_issue"}),
        run=_no_issue,
    ),
    Invariant(
        name="unrelated_issue_is_never_rolled_back",
        clause="2. IS IT RELATED TO RECENT DEPLOYMENT? NO → Investigate other causes, don't "
        "rollback",
        section=f"{_TREE} › 2. IS IT RELATED TO RECENT DEPLOYMENT?",
        reads=frozenset({"related_to_deployment"}),
        run=_unrelated,
    ),
    Invariant(
        name="what_cannot_be_rolled_back_is_never_rolled_back",
        clause="5. IS ROLLBACK POSSIBLE? NO → Must fix forward; TYPE 5: POINT OF NO RETURN - "
        "For these: Fix forward only",
        section=f"{_TREE} › 5. IS ROLLBACK POSSIBLE?",
        reads=frozenset({"rollback_possible", "point_of_no_return"}),
        run=_impossible,
    ),
    Invariant(
        name="higher_severity_never_slows_or_weakens_the_decision",
        clause="3. IS THE IMPACT CRITICAL? CRITICAL → Immediate rollback, skip to execution; "
        "DECISION AUTHORITY by situation",
        section=f"{_TREE} › 3. IS THE IMPACT CRITICAL?",
        reads=frozenset({"severity"}),
        run=_severity,
    ),
    Invariant(
        name="later_fix_never_turns_a_rollback_into_a_fix_forward",
        clause="4. CAN IT BE FIXED FORWARD QUICKLY? YES (< 15 min) → Consider fix forward; "
        "7. ROLLBACK FASTER → Rollback",
        section=f"{_TREE} › 7. TIME TO ROLLBACK vs. TIME TO FIX?",
        reads=frozenset({"fix_forward_eta_minutes"}),
        run=_later_fix,
        along=Along("fix_forward_eta_minutes", _later_fix_along),
    ),
    Invariant(
        name="equal_fix_and_rollback_times_default_to_rollback",
        clause="7. TIME TO ROLLBACK vs. TIME TO FIX? EQUAL → Default to rollback (safer)",
        section=f"{_TREE} › 7. TIME TO ROLLBACK vs. TIME TO FIX?",
        reads=frozenset({"fix_forward_eta_minutes"}),
        run=_ties,
        along=Along("fix_forward_eta_minutes", _ties_along),
    ),
    Invariant(
        name="every_rollback_names_its_authority_and_approvers",
        clause="ROLLBACK CHECKLIST: Rollback decision authority confirmed; DECISION AUTHORITY: "
        "Authority, Approval",
        section="ROLLBACK DECISION FRAMEWORK › DECISION AUTHORITY",
        reads=frozenset(),
        run=_authority,
    ),
    Invariant(
        name="every_incident_gets_a_decision",
        clause="DECISION TREE: every path ends in an action",
        section=_TREE,
        reads=frozenset(),
        run=_total,
    ),
    Invariant(
        name="decision_is_deterministic",
        clause="DECISION TREE: the same facts lead to the same decision",
        section=_TREE,
        reads=frozenset(),
        run=_deterministic,
        scope="outcome",
    ),
    Invariant(
        name="decision_round_trips_through_json",
        clause="Incident documented; decision points documented (ROLLBACK CHECKLIST)",
        section="ROLLBACK DECISION FRAMEWORK › ROLLBACK CHECKLIST",
        reads=frozenset(),
        run=_json,
        scope="outcome",
    ),
)


def get_invariant(name: str) -> Invariant:
    for invariant in INVARIANTS:
        if invariant.name == name:
            return invariant
    raise KeyError(name)


def check_incident(
    policy: Policy,
    incident: Incident,
    invariants: Sequence[Invariant] = INVARIANTS,
    decide: Decider | None = None,
) -> Iterator[Violation]:
    """Every violation of ``invariants`` by ``incident``'s decision under ``policy``."""
    from rollback_decision.engine import decide as decide_with

    try:
        decision = decide_with(incident, policy=policy)
    except DecisionError as exc:
        yield Violation(get_invariant("every_incident_gets_a_decision"), str(exc))
        return
    for invariant in invariants:
        message = invariant.check(policy, incident, decision, decide)
        if message is not None:
            yield Violation(invariant, message)
