"""An incident over time: events in, decisions out, the policy's clocks in between.

:class:`IncidentSession` holds what is known about one incident at one moment. Time moves only
when the caller says so — :meth:`~IncidentSession.apply` (an event at its time) or
:meth:`~IncidentSession.advance_to` — so a replay is exact and fast. Between two moments the
clocks of the policy (``rules/clocks.yaml``) that fall due run out in time order; after every
event and every clock the decision is made again with :func:`rollback_decision.decide`, and a
*change* (of the action or the rollback type) is recorded with its cause.

The decision at any moment is ``decide()`` of the facts known then plus the clock facts: the
incident's facts from ``opened_at`` and every ``facts`` event, ``fix_forward_eta_minutes`` from
the last promise (0 once a fix is deployed, unknown once it failed or the promise lapsed),
``production_issue: false`` once resolved, and — once the time to decision ran out with no
decision accepted — the relation to the deployment presumed where it is still unknown ("don't
wait too long (default to rollback)").

A rejected event changes nothing: it is checked, and applied to a copy of the state that
replaces the state only when everything succeeded.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.engine import decide
from rollback_decision.errors import IncidentError, TimelineError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy, default_policy
from rollback_decision.policy.clocks import OPENED
from rollback_decision.timeline.changes import (
    Acceptance,
    Cause,
    Deadline,
    DecisionChange,
    RollbackState,
    TimelineWarning,
    format_time,
)
from rollback_decision.timeline.events import (
    DecisionAccepted,
    Event,
    FactsSet,
    FixEta,
    parse_event,
    parse_time,
)
from rollback_decision.timeline.state import RunningClock, SessionState, eta_given, start_clocks

__all__ = ["IncidentSession", "SessionObserver"]

#: Called after every :meth:`IncidentSession.apply` (with the event) and every
#: :meth:`IncidentSession.advance_to` that changed the decision (with None), with the decision
#: changes it made — what a decision log records (:mod:`rollback_decision.records`).
SessionObserver = Callable[["IncidentSession", "Event | None", "list[DecisionChange]"], None]


class IncidentSession:
    """One incident's decisions over time, under one policy.

    >>> session = IncidentSession(opened_at, {"related_to_deployment": True})
    >>> session.apply({"at": later, "type": "fix_eta", "minutes": 10})
    >>> session.advance_to(later + timedelta(minutes=11))
    >>> session.decision.action, [c.cause for c in session.changes]

    ``facts`` are the Incident fields known when it opened (a mapping or an
    :class:`~rollback_decision.Incident`). Times must be timezone-aware.
    """

    def __init__(
        self,
        opened_at: datetime,
        facts: Incident | Mapping[str, Any] | None = None,
        *,
        policy: Policy | None = None,
        incident_id: str | None = None,
    ) -> None:
        try:
            opened = parse_time(opened_at, what="opened_at")
        except ValueError as exc:
            raise TimelineError(str(exc), field="opened_at") from None
        self._policy = policy if policy is not None else default_policy()
        self._opened_at = opened
        self._incident_id = incident_id
        self._observers: list[SessionObserver] = []
        self._order = {rule.id: i for i, rule in enumerate(self._policy.clocks.rules)}
        if isinstance(facts, Incident):
            plain: dict[str, Any] = facts.model_dump(mode="json", exclude_defaults=True)
        else:
            plain = copy.deepcopy(dict(facts or {}))
        incident = self._validate(plain, field_prefix="facts", index=None)
        self._opening_facts: Mapping[str, Any] = copy.deepcopy(plain)
        decision = decide(incident, policy=self._policy)
        state = SessionState(
            now=opened,
            events=0,
            last_event_at=None,
            facts=plain,
            incident=incident,
            decision=decision,
            changes=(DecisionChange(opened, Cause(event=None), decision),),
        )
        state = start_clocks(self._policy.clocks.rules, state, OPENED, {}, opened)
        self._state = eta_given(self._policy.clocks.rules, state, None, opened)

    # -- what it shows --------------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def opened_at(self) -> datetime:
        return self._opened_at

    @property
    def incident_id(self) -> str | None:
        return self._incident_id

    @property
    def opening_facts(self) -> dict[str, Any]:
        """The Incident fields given when the incident opened (a copy)."""
        return copy.deepcopy(dict(self._opening_facts))

    @property
    def now(self) -> datetime:
        """The session's time: the last event's, or the last time it was advanced to."""
        return self._state.now

    @property
    def events_applied(self) -> int:
        return self._state.events

    @property
    def incident(self) -> Incident:
        """The facts known now, clock facts included: what the decision is made from."""
        return self._state.incident

    @property
    def decision(self) -> Decision:
        """The current decision: ``decide(self.incident, policy=self.policy)``."""
        return self._state.decision

    @property
    def changes(self) -> list[DecisionChange]:
        """Every change of the decision, the first being the decision at ``opened_at``."""
        return list(self._state.changes)

    @property
    def warnings(self) -> list[TimelineWarning]:
        """Warnings of the clocks that ran out, in time order."""
        return list(self._state.warnings)

    @property
    def acceptances(self) -> list[Acceptance]:
        return list(self._state.acceptances)

    @property
    def rollback_state(self) -> RollbackState:
        return self._state.rollback

    @property
    def deadlines(self) -> list[Deadline]:
        """The open clocks, earliest first."""
        return [
            Deadline(c.due, c.rule.id, c.text)
            for c in sorted(self._state.clocks, key=RunningClock.key)
        ]

    @property
    def next_deadline(self) -> Deadline | None:
        deadlines = self.deadlines
        return deadlines[0] if deadlines else None

    # -- moving it on -----------------------------------------------------------------------

    def apply(self, event: Event | Mapping[str, Any]) -> list[DecisionChange]:
        """Apply the next event (clocks due before its time run out first).

        Returns the decision changes this made. Raises :class:`TimelineError` naming the event
        (its index in the stream) and the field; the session is then unchanged.
        """
        state = self._state
        index = state.events
        parsed = event if isinstance(event, Event) else parse_event(event, index)

        def fail(field: str | None, message: str) -> TimelineError:
            return TimelineError(message, index=index, field=field, event_type=parsed.type)

        at = parsed.at
        if at < self._opened_at:
            opened = self._fmt(self._opened_at)
            raise fail("at", f"{format_time(at)} is before the incident opened ({opened})")
        if state.last_event_at is not None and at < state.last_event_at:
            raise fail(
                "at",
                f"{format_time(at)} is before the previous event "
                f"({self._fmt(state.last_event_at)}): events are in time order",
            )
        if at < state.now:
            raise fail(
                "at",
                f"{format_time(at)} is before the session's time ({self._fmt(state.now)}), "
                "which it was advanced to",
            )
        before = len(state.changes)
        state = self._run_clocks(state, at, inclusive=False)
        state = self._event(state, parsed, index, fail)
        self._state = state
        changes = list(state.changes[before:])
        self._notify(parsed, changes)
        return changes

    def advance_to(self, moment: datetime) -> list[DecisionChange]:
        """Move time on to ``moment``: every clock due until then (inclusive) runs out.

        Returns the decision changes this made. Moving back in time is an error.
        """
        try:
            target = parse_time(moment, what="time")
        except ValueError as exc:
            raise TimelineError(str(exc), field="at") from None
        if target < self._state.now:
            now = self._fmt(self._state.now)
            raise TimelineError(
                f"{format_time(target)} is before the session's time ({now})", field="at"
            )
        before = len(self._state.changes)
        self._state = self._run_clocks(self._state, target, inclusive=True)
        changes = list(self._state.changes[before:])
        if changes:
            self._notify(None, changes)
        return changes

    def poll(self, now: datetime) -> list[DecisionChange]:
        """For live use: advance to ``now`` (the real clock's time) and return what changed."""
        return self.advance_to(now)

    def observe(self, observer: SessionObserver) -> None:
        """Call ``observer(session, event, changes)`` after every applied event (``event`` set)
        and every advance that changed the decision (``event`` None). The session's state has
        already moved on when it is called: an observer that raises does not undo the event."""
        self._observers.append(observer)

    # -- internals --------------------------------------------------------------------------

    def _notify(self, event: Event | None, changes: list[DecisionChange]) -> None:
        for observer in self._observers:
            observer(self, event, list(changes))

    def _fmt(self, moment: datetime) -> str:
        return format_time(moment, self._opened_at)

    def _validate(
        self, facts: Mapping[str, Any], *, field_prefix: str, index: int | None
    ) -> Incident:
        try:
            return parse_incident(facts)
        except IncidentError as exc:
            name, message = exc.problems[0]
            raise TimelineError(
                message,
                index=index,
                field=f"{field_prefix}.{name}" if name else field_prefix,
                event_type="facts" if index is not None else None,
            ) from None

    def _event(
        self,
        state: SessionState,
        event: Event,
        index: int,
        fail: Callable[[str | None, str], TimelineError],
    ) -> SessionState:
        previous_eta = state.facts.get("fix_forward_eta_minutes")
        facts = copy.deepcopy(dict(state.facts))
        kind = event.type
        rollback = state.rollback
        rollback_type = state.rollback_type
        started_at = state.rollback_started_at
        acceptances = state.acceptances
        if isinstance(event, FactsSet):
            for key, value in event.set.items():
                if key == "change" and isinstance(value, Mapping):
                    facts.setdefault("change", {}).update(copy.deepcopy(dict(value)))
                elif key.startswith("change."):
                    change = facts.setdefault("change", {})
                    if not isinstance(change, dict):
                        raise fail(f"set.{key}", "'change' is not a mapping")
                    change[key.removeprefix("change.")] = copy.deepcopy(value)
                else:
                    facts[key] = copy.deepcopy(value)
        elif isinstance(event, FixEta):
            facts["fix_forward_eta_minutes"] = event.minutes
        elif kind == "fix_deployed":
            facts["fix_forward_eta_minutes"] = 0.0
        elif kind == "fix_failed":
            facts.pop("fix_forward_eta_minutes", None)
        elif kind == "resolved":
            facts["production_issue"] = False
        elif isinstance(event, DecisionAccepted):
            # Any role is accepted: who may accept is the authority's business, and timelines
            # from other tools name roles their own way.
            acceptances = (
                *acceptances,
                Acceptance(event.at, event.by, event.role, state.decision.action, index),
            )
        elif kind == "rollback_started":
            if rollback == "running":
                raise fail(
                    "type", f"a rollback is already under way (started by event {started_at})"
                )
            if rollback == "completed":
                raise fail(
                    "type", f"the rollback already completed (started by event {started_at})"
                )
            rollback, started_at = "running", index
            rollback_type = state.decision.rollback_type
        elif kind in ("rollback_completed", "rollback_failed"):
            if rollback != "running":
                why = {
                    "none": "no rollback_started before it",
                    "completed": "the rollback already completed",
                    "failed": "the rollback already failed; a retry starts with rollback_started",
                }[rollback]
                raise fail("type", f"{kind} with {why}")
            rollback = "completed" if kind == "rollback_completed" else "failed"
        incident = (
            self._validate(facts, field_prefix="set", index=index)
            if facts != state.facts
            else state.incident
        )
        state = replace(
            state,
            now=event.at,
            events=index + 1,
            last_event_at=event.at,
            facts=facts,
            incident=incident,
            rollback=rollback,
            rollback_started_at=started_at,
            rollback_type=rollback_type,
            acceptances=acceptances,
        )
        state = replace(state, clocks=tuple(c for c in state.clocks if kind not in c.rule.stops_on))
        state = start_clocks(self._policy.clocks.rules, state, kind, event.fields(), event.at)
        if isinstance(event, FactsSet):
            state = eta_given(self._policy.clocks.rules, state, previous_eta, event.at)
        return self._redecide(state, event.at, Cause(event=index, event_type=kind))

    def _run_clocks(self, state: SessionState, until: datetime, *, inclusive: bool) -> SessionState:
        while state.clocks:
            clock = min(state.clocks, key=RunningClock.key)
            if clock.due > until or (clock.due == until and not inclusive):
                break
            rest = tuple(c for c in state.clocks if c is not clock)
            if clock.rule.repeat and clock.minutes > 0:
                rest = (
                    *rest,
                    replace(clock, due=clock.due + timedelta(minutes=clock.minutes)),
                )
            state = replace(state, clocks=rest, now=max(state.now, clock.due))
            state = self._expire(state, clock)
        return replace(state, now=max(state.now, until))

    def _expire(self, state: SessionState, clock: RunningClock) -> SessionState:
        rule = clock.rule
        facts = copy.deepcopy(dict(state.facts))
        for name in rule.resets:
            facts.pop(name, None)
        for name, value in rule.presumes.items():
            if facts.get(name) is None:
                facts[name] = copy.deepcopy(value)
        warnings = state.warnings
        if rule.warning is not None:
            text = rule.render(rule.warning, clock.minutes, clock.rollback_type)
            warnings = (*warnings, TimelineWarning(clock.due, rule.id, text))
        if facts == state.facts:
            return replace(state, warnings=warnings)
        incident = self._validate(facts, field_prefix="facts", index=None)
        state = replace(state, facts=facts, incident=incident, warnings=warnings)
        return self._redecide(state, clock.due, Cause(clock=rule.id))

    def _redecide(self, state: SessionState, at: datetime, cause: Cause) -> SessionState:
        decision = decide(state.incident, policy=self._policy)
        last = state.changes[-1].decision
        state = replace(state, decision=decision)
        if (decision.action, decision.rollback_type) != (last.action, last.rollback_type):
            state = replace(state, changes=(*state.changes, DecisionChange(at, cause, decision)))
        return state

    # -- output -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``changes``, ``deadlines``, ``warnings`` and the ``final`` decision."""
        fmt = self._fmt
        return {
            "incident": self._incident_id,
            "opened_at": fmt(self._opened_at),
            "at": fmt(self.now),
            "changes": [
                {"at": fmt(c.at), "action": c.action.value, "cause": c.cause.to_dict()}
                for c in self._state.changes
            ],
            "deadlines": [
                {"at": fmt(d.at), "rule_id": d.rule_id, "text": d.text} for d in self.deadlines
            ],
            "warnings": [
                {"at": fmt(w.at), "rule_id": w.rule_id, "text": w.text}
                for w in self._state.warnings
            ],
            "final": self.decision.model_dump(mode="json"),
        }

    def __repr__(self) -> str:
        ident = f" {self._incident_id}" if self._incident_id else ""
        return (
            f"<IncidentSession{ident} at {self._fmt(self.now)}: {self.decision.action.value}, "
            f"{len(self._state.changes)} changes, {len(self._state.clocks)} open deadlines>"
        )
