"""Counterfactuals: the smallest changes of an incident's facts that change the action.

Candidate values come from the policy, never guessed: each number is tried at the thresholds
its rules compare it with, between them and beyond them (and at the current values of the
facts it is compared with); enums, booleans and nulls at every value; lists at the value
classes the rules tell apart and one member added or removed
(:class:`~rollback_decision.verify.domains.FactSpace`); lists with one member added or
removed. One fact is changed at a time; pairs are tried only for actions that no single change
reaches. A number's changes with the same result are merged into one range ("under 15"), a
list's additions with the same result into one ("also included a (or any of b, c)").
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rollback_decision.decision import Action, Decision
from rollback_decision.engine import EngineName, decide, native
from rollback_decision.engine.core import incident_facts
from rollback_decision.errors import DecisionError, IncidentError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy, default_policy
from rollback_decision.verify.domains import is_number
from rollback_decision.whatif.batch import fact_space
from rollback_decision.whatif.fields import FIELDS, resolve_field, set_field

__all__ = ["Counterfactual", "Counterfactuals", "FactChange", "counterfactuals", "why_not"]


@dataclass(frozen=True)
class FactChange:
    """One fact set to ``value`` (a representative of ``wording``: "under 15")."""

    field: str
    value: Any
    wording: str

    def phrase(self) -> str:
        return f"{self.field} {self.wording}"


@dataclass(frozen=True)
class Counterfactual:
    """A change of one or two facts and the decision it leads to."""

    changes: tuple[FactChange, ...]
    decision: Decision

    @property
    def action(self) -> Action:
        return self.decision.action

    @property
    def sentence(self) -> str:
        """ "fix forward if fix_forward_eta_minutes were under 15"."""
        what = " and ".join(change.phrase() for change in self.changes)
        return f"{self.action.value.replace('_', ' ')} if {what}"

    def overrides(self) -> dict[str, Any]:
        """The change as ``what_if`` overrides."""
        return {change.field: change.value for change in self.changes}


@dataclass(frozen=True)
class Counterfactuals:
    """The counterfactuals of one incident (``target``: those asked for by :func:`why_not`)."""

    incident: Incident
    decision: Decision
    items: tuple[Counterfactual, ...]
    target: Action | None = None
    #: why there are none, when there are none
    reason: str | None = None
    considered: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Counterfactual]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Counterfactual:
        return self.items[index]

    def sentences(self) -> list[str]:
        return [item.sentence for item in self.items]

    def _repr_html_(self) -> str:
        from rollback_decision.whatif import display

        return display.counterfactuals_html(self)

    def _repr_markdown_(self) -> str:
        from rollback_decision.whatif import display

        return display.counterfactuals_markdown(self)


class _Search:
    def __init__(self, incident: Incident, policy: Policy, fields: Sequence[str] | None) -> None:
        self.policy = policy
        self.space = fact_space(policy)
        self.pipe = native.pipeline(policy)
        self.incident = incident
        self.data = incident.model_dump()
        chosen = [resolve_field(f) for f in fields] if fields is not None else list(FIELDS)
        self.fields = [c for c in chosen if FIELDS[c] in self.space.read]

    def with_change(self, data: Mapping[str, Any], column: str, value: Any) -> dict[str, Any]:
        out = dict(data)
        out["change"] = dict(data["change"])
        set_field(out, column, list(value) if isinstance(value, tuple) else value)
        return out

    def run(self, data: Mapping[str, Any]) -> tuple[Incident, dict[str, Any]] | None:
        try:
            incident = parse_incident(data)
            facts, _ = self.pipe.run(incident_facts(incident))
        except (IncidentError, DecisionError):
            return None
        return incident, facts

    def candidates(
        self, column: str, data: Mapping[str, Any], facts: Mapping[str, Any]
    ) -> list[tuple[Any, str]]:
        """(value, wording) for every value of ``column`` worth trying from ``data``."""
        fact = FIELDS[column]
        space = self.space
        current = incident_facts(parse_incident(data))[fact]
        kind = space.types[fact].kind
        if kind == "number":
            extra = [facts[p] for p in space.number_partners(fact) if is_number(facts.get(p))]
            points = space.number_points(fact, extra)
            return [(p, _exactly(p)) for p in points if p != current]
        if kind == "list":
            values: dict[tuple[Any, ...], str] = {}
            have = tuple(current)
            order = _members(fact)
            for member in order:
                if member in have:
                    values[tuple(m for m in have if m != member)] = f"no longer included {member}"
                else:
                    values[(*have, member)] = f"also included {member}"
            return [
                (v, wording)
                for v, wording in values.items()
                if sorted(map(str, v)) != sorted(map(str, have)) and space.valid(fact, v)
            ]
        return [(v, f"were {_shown(v)}") for v in space.domains[fact].values or () if v != current]


def _members(fact: str) -> list[Any]:
    from rollback_decision.verify.domains import _model_field_values

    return [getattr(v, "value", v) for v in _model_field_values(fact)]


def _shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(getattr(v, "value", v)) for v in value) or "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return str(getattr(value, "value", value))


def _exactly(value: Any) -> str:
    return f"were {_shown(value)}"


def _ranges(
    points: Sequence[tuple[Any, str]], actions: Sequence[Any], current: Any, cuts: set[float]
) -> list[tuple[int, str]]:
    """Merge a number's points with the same action into ranges bounded by ``cuts`` (the
    thresholds): (representative index, wording) per range. Null stays apart."""
    out = [(i, wording) for i, (p, wording) in enumerate(points) if p is None]
    numbered = sorted(
        (i for i, (p, _) in enumerate(points) if p is not None), key=lambda i: points[i][0]
    )
    values = [points[i][0] for i in numbered]
    top = max(cuts)
    start = 0
    while start < len(numbered):
        end = start
        while end + 1 < len(numbered) and actions[numbered[end + 1]] == actions[numbered[start]]:
            end += 1
        first, last = values[start], values[end]
        parts = []
        if start > 0:
            below = [c for c in cuts if c < first]
            parts.append(
                f"at least {_shown(first)}"
                if first in cuts or not below
                else f"over {_shown(max(below))}"
            )
        if end + 1 < len(values):
            above = [c for c in cuts if c > last]
            parts.append(
                f"at most {_shown(last)}"
                if last in cuts or not above
                else f"under {_shown(min(above))}"
            )
        if first == last and first in cuts and first <= top:
            wording = f"were {_shown(first)}"
        elif parts:
            wording = "were " + " and ".join(parts)
        else:
            wording = "were any number"
        # the representative: the value of the range nearest the current one
        chosen = min(
            range(start, end + 1),
            key=lambda k: abs(values[k] - current) if is_number(current) else values[k],
        )
        out.append((numbered[chosen], wording))
        start = end + 1
    return out


def _merge_additions(
    options: Sequence[tuple[Any, str]], actions: Sequence[Any]
) -> list[tuple[int, str]]:
    """One pick per (kind of edit, action) for list additions; other options as they are."""
    picks: list[tuple[int, str]] = []
    grouped: dict[Any, list[int]] = {}
    for i, (_, wording) in enumerate(options):
        if wording.startswith("also included "):
            grouped.setdefault(actions[i], []).append(i)
        else:
            picks.append((i, wording))
    for indexes in grouped.values():
        first = options[indexes[0]][1]
        others = [options[i][1].removeprefix("also included ") for i in indexes[1:]]
        picks.append((indexes[0], first + (f" (or any of {', '.join(others)})" if others else "")))
    return sorted(picks)


def _singles(search: _Search, base_action: Any) -> list[tuple[str, Any, str, Any]]:
    """(field, value, wording, action) of every single change that changes the action."""
    base = search.run(search.data)
    assert base is not None
    _, facts = base
    found: list[tuple[str, Any, str, Any]] = []
    for column in search.fields:
        options = search.candidates(column, search.data, facts)
        actions = []
        for value, _ in options:
            result = search.run(search.with_change(search.data, column, value))
            actions.append(result[1]["action"] if result is not None else None)
        if search.space.types[FIELDS[column]].kind == "number":
            current = incident_facts(search.incident)[FIELDS[column]]
            # the current value's own class joins the ranges, so none spans across it
            options = [*options, (current, "")]
            actions = [*actions, base_action]
            _, facts_now = base
            fact = FIELDS[column]
            partners = search.space.number_partners(fact)
            cuts = {0.0, *search.space.number_thresholds(fact)}
            cuts |= {float(facts_now[p]) for p in partners if is_number(facts_now.get(p))}
            picks = _ranges(options, actions, current, cuts)
        else:
            picks = _merge_additions(options, actions)
        for i, wording in picks:
            action = actions[i]
            if action is not None and action != base_action:
                found.append((column, options[i][0], wording, action))
    return found


def _pairs(
    search: _Search, base_action: Any, targets: set[Any], single_fields: Mapping[Any, set[str]]
) -> list[tuple[tuple[tuple[str, Any, str], ...], Any]]:
    """Changes of two facts reaching an action of ``targets`` (one per pair of fields and
    action), neither field reaching it alone."""
    base = search.run(search.data)
    assert base is not None
    found: list[tuple[tuple[tuple[str, Any, str], ...], Any]] = []
    seen: set[tuple[str, str, Any]] = set()
    for first, second in itertools.combinations(search.fields, 2):
        for value1, wording1 in search.candidates(first, search.data, base[1]):
            data1 = search.with_change(search.data, first, value1)
            run1 = search.run(data1)
            if run1 is None:
                continue
            for value2, wording2 in search.candidates(second, data1, run1[1]):
                result = search.run(search.with_change(data1, second, value2))
                if result is None:
                    continue
                action = result[1]["action"]
                if action not in targets or (first, second, action) in seen:
                    continue
                seen.add((first, second, action))
                found.append((((first, value1, wording1), (second, value2, wording2)), action))
    return found


def _build(
    search: _Search, changes: Sequence[tuple[str, Any, str]], engine: EngineName
) -> Counterfactual:
    data: Mapping[str, Any] = search.data
    for column, value, _ in changes:
        data = search.with_change(data, column, value)
    decision = decide(parse_incident(data), policy=search.policy, engine=engine)
    return Counterfactual(
        tuple(
            FactChange(column, list(v) if isinstance(v, tuple) else v, wording)
            for column, v, wording in changes
        ),
        decision,
    )


def counterfactuals(
    incident: Incident | Mapping[str, Any],
    *,
    policy: Policy | None = None,
    fields: Sequence[str] | None = None,
    pairs: bool = True,
    engine: EngineName = "native",
) -> Counterfactuals:
    """The smallest changes of ``incident``'s facts that change its action.

    Every single-fact change that changes the action (a number's as ranges); then, for an
    action no single change reaches, changes of two facts (one per pair of fields), unless
    ``pairs`` is false. ``fields`` limits the facts that may change (dotted names).
    """
    chosen = policy if policy is not None else default_policy()
    parsed = parse_incident(incident)
    search = _Search(parsed, chosen, fields)
    decision = decide(parsed, policy=chosen, engine=engine)
    base_action = decision.action.value
    singles = _singles(search, base_action)
    items = [_build(search, [(c, v, w)], engine) for c, v, w, _ in singles]
    if pairs:
        reached = {a for *_, a in singles}
        targets = {a.value for a in chosen.actions} - reached - {base_action}
        reach: dict[Any, set[str]] = {}
        for column, _, _, action in singles:
            reach.setdefault(action, set()).add(column)
        if targets:
            items += [
                _build(search, list(ch), engine)
                for ch, _ in _pairs(search, base_action, targets, reach)
            ]
    return Counterfactuals(parsed, decision, tuple(items), considered=tuple(search.fields))


def why_not(
    incident: Incident | Mapping[str, Any],
    action: Action | str,
    *,
    policy: Policy | None = None,
    fields: Sequence[str] | None = None,
    engine: EngineName = "native",
) -> Counterfactuals:
    """What would have to be true for ``action``: the smallest changes (one fact, else two)
    that make it the action, or none and the ``reason`` nothing can."""
    chosen = policy if policy is not None else default_policy()
    target = Action(action)
    parsed = parse_incident(incident)
    decision = decide(parsed, policy=chosen, engine=engine)
    if decision.action is target:
        return Counterfactuals(
            parsed, decision, (), target, reason=f"the action already is {target.value}"
        )
    if not any(
        name == "action" and value == target.value
        for table in chosen.tables
        for rule in table.rules
        for name, value, _ in rule.sets
    ):
        return Counterfactuals(
            parsed, decision, (), target, reason=f"no rule of the policy sets {target.value}"
        )
    search = _Search(parsed, chosen, fields)
    singles = [s for s in _singles(search, decision.action.value) if s[3] == target.value]
    items = [_build(search, [(c, v, w)], engine) for c, v, w, _ in singles]
    if not items:
        items = [
            _build(search, list(ch), engine)
            for ch, _ in _pairs(search, decision.action.value, {target.value}, {})
        ]
    reason = None if items else f"no change of one or two facts makes it {target.value}"
    return Counterfactuals(
        parsed, decision, tuple(items), target, reason=reason, considered=tuple(search.fields)
    )
