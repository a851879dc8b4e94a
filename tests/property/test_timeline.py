"""Replaying an event stream: the decision at every event time is ``decide()`` of the facts
known then plus the clock facts.

The facts expected at each moment are computed here from the event format's meaning alone
(``fix_eta`` promises a fix that lapses at the promised time, at the latest the fix-forward
window after the promise; ``fix_deployed`` and ``fix_failed`` end the promise; ``resolved``
ends the issue; with no ``decision_accepted`` within the time to decision, a relation still
unknown is presumed), not from the session's code.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rollback_decision import decide, load_policy
from rollback_decision.timeline import IncidentSession
from tests.property.settings import SETTINGS

POLICY = load_policy()
WINDOW = float(POLICY.parameters["fix_forward_window_minutes"])
TARGET = float(POLICY.parameters["target_time_to_decision_minutes"])
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

FACT_SETS = st.fixed_dictionaries(
    {},
    optional={
        "related_to_deployment": st.sampled_from([None, True, False]),
        "severity": st.sampled_from([None, "critical", "non_critical"]),
        "symptoms": st.sampled_from([[], ["monitoring_alert"], ["trading_logic_error"]]),
        "rollback_risk": st.sampled_from(["low", "high"]),
        "rollback_eta_minutes": st.sampled_from([None, 5.0, 20.0, 60.0]),
        "change.components": st.sampled_from([["application_code"], ["infrastructure"]]),
        "change.point_of_no_return": st.sampled_from([[], ["one_way_migration"]]),
    },
)

EVENT_BODIES = st.one_of(
    FACT_SETS.filter(bool).map(lambda s: {"type": "facts", "set": s}),
    st.integers(0, 40).map(lambda m: {"type": "fix_eta", "minutes": m}),
    st.sampled_from(
        [
            {"type": "fix_deployed"},
            {"type": "fix_failed"},
            {"type": "decision_accepted", "by": "dana", "role": "incident_commander"},
            {"type": "rollback_started"},
            {"type": "rollback_completed"},
            {"type": "rollback_failed", "reason": "health check"},
            {"type": "data_loss"},
            {"type": "resolved"},
        ]
    ),
)
STREAMS = st.lists(st.tuples(st.integers(0, 12), EVENT_BODIES), max_size=12)


def valid_events(stream: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Timed events, with rollback events kept only where the format allows them."""
    events = []
    minute = 0
    rollback = "none"
    for step, body in stream:
        minute += step
        kind = body["type"]
        if kind == "rollback_started":
            if rollback in ("running", "completed"):
                continue
            rollback = "running"
        elif kind in ("rollback_completed", "rollback_failed"):
            if rollback != "running":
                continue
            rollback = "completed" if kind == "rollback_completed" else "failed"
        events.append({"at": T0 + timedelta(minutes=minute), **body})
    return events


def expected_facts(opening: dict[str, Any], events: list[dict[str, Any]], now: datetime) -> Any:
    """The facts known at ``now``, clock facts included, from the events up to then."""
    facts = dict(opening)
    change: dict[str, Any] = {}
    promise_due: datetime | None = None
    decision_due: datetime | None = T0 + timedelta(minutes=TARGET)

    def lapse_before(moment: datetime, inclusive: bool) -> None:
        nonlocal promise_due
        due = promise_due
        if due is not None and (due < moment or (inclusive and due == moment)):
            facts.pop("fix_forward_eta_minutes", None)
            promise_due = None

    for event in events:
        if event["at"] > now:
            break
        lapse_before(event["at"], inclusive=False)
        if decision_due is not None and event["at"] > decision_due:
            presume(facts)
            decision_due = None
        kind = event["type"]
        if kind == "facts":
            for key, value in event["set"].items():
                if key.startswith("change."):
                    change[key.removeprefix("change.")] = value
                else:
                    facts[key] = value
        elif kind == "fix_eta":
            facts["fix_forward_eta_minutes"] = float(event["minutes"])
            promise_due = event["at"] + timedelta(minutes=min(event["minutes"], WINDOW))
        elif kind == "fix_deployed":
            facts["fix_forward_eta_minutes"] = 0.0
            promise_due = None
        elif kind == "fix_failed":
            facts.pop("fix_forward_eta_minutes", None)
            promise_due = None
        elif kind == "resolved":
            facts["production_issue"] = False
            promise_due = None
        accepted = kind in ("decision_accepted", "resolved")
        if accepted and decision_due is not None and event["at"] <= decision_due:
            decision_due = None
    lapse_before(now, inclusive=True)
    if decision_due is not None and now >= decision_due:
        presume(facts)
    return {**facts, "change": change}


def presume(facts: dict[str, Any]) -> None:
    """Don't wait too long (default to rollback): an unknown relation is presumed."""
    if facts.get("related_to_deployment") is None:
        facts["related_to_deployment"] = True


@SETTINGS
@given(opening=FACT_SETS, stream=STREAMS)
def test_decision_at_every_event_time_is_decide_of_the_facts_known_then(
    opening: dict[str, Any], stream: list[tuple[int, dict[str, Any]]]
) -> None:
    events = valid_events(stream)
    base = {k: v for k, v in opening.items() if not k.startswith("change.")}
    base_change = {
        k.removeprefix("change."): v for k, v in opening.items() if k.startswith("change.")
    }
    session = IncidentSession(T0, {**base, "change": base_change}, policy=POLICY)
    times = sorted({T0, *(e["at"] for e in events), T0 + timedelta(minutes=TARGET)})
    applied = 0
    for moment in times:
        while applied < len(events) and events[applied]["at"] <= moment:
            session.apply(events[applied])
            applied += 1
        session.advance_to(moment)
        prefix = [dict(e) for e in events]
        facts = expected_facts(base, prefix, moment)
        facts["change"] = {**base_change, **facts["change"]}
        expected = decide(facts, policy=POLICY)
        assert session.decision == expected, (moment, facts)
    # Every recorded change really is one, and the last is the decision now.
    changes = session.changes
    for previous, current in itertools.pairwise(changes):
        assert (previous.action, previous.rollback_type) != (current.action, current.rollback_type)
        assert previous.at <= current.at
    assert (changes[-1].action, changes[-1].rollback_type) == (
        session.decision.action,
        session.decision.rollback_type,
    )
