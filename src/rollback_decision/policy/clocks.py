"""The policy's clocks (``clocks:`` in ``rules/clocks.yaml``): checked and compiled once.

A clock is a rule with an id, a section and a text like every other rule. Timeline events start
and stop it; it is due a duration after it started. When it runs out it may presume facts
still unknown (the relation to the deployment, once the time to decision has passed), reset
facts to unknown (a lapsed fix-forward promise) and raise a warning. A repeating clock is due
again every duration until it is stopped. Durations::

    after: {minutes: VALUE}      # or {hours: VALUE}
    VALUE: 15                            a number
           {param: NAME}                 a number parameter of the policy
           {event: FIELD}                a number of the event that started the clock
           {by_rollback_type: {2: VALUE, ...}}   by the rollback type in question; a type
                                                 not listed does not start the clock
           {min: [VALUE, ...]}           the earliest

Nothing here looks at time: :mod:`rollback_decision.timeline` runs the clocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rollback_decision.errors import IncidentError, did_you_mean
from rollback_decision.policy.spec import ClockSpec, PolicyDocument
from rollback_decision.policy.templates import Template
from rollback_decision.policy.types import FactType

__all__ = ["OPENED", "ClockCatalogue", "ClockListing", "ClockRule", "compile_clocks"]

#: The pseudo event type that starts clocks when a timeline opens.
OPENED = "opened"
#: Names a clock's texts may use besides the policy's parameters.
CLOCK_TEXT_NAMES = ("minutes", "rollback_type")
_UNITS = {"minutes": 1.0, "hours": 60.0}

#: report(section, ident, message, *subpath)
Report = Callable[..., None]


# -- durations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    minutes: float

    def evaluate(self, event: Mapping[str, Any], rollback_type: int | None) -> float | None:
        return self.minutes


@dataclass(frozen=True)
class _EventField:
    name: str
    scale: float

    def evaluate(self, event: Mapping[str, Any], rollback_type: int | None) -> float | None:
        value = event.get(self.name)
        return None if value is None else float(value) * self.scale


@dataclass(frozen=True)
class _ByType:
    by_type: Mapping[int, _Duration]

    def evaluate(self, event: Mapping[str, Any], rollback_type: int | None) -> float | None:
        chosen = self.by_type.get(rollback_type) if rollback_type is not None else None
        return None if chosen is None else chosen.evaluate(event, rollback_type)


@dataclass(frozen=True)
class _Min:
    parts: tuple[_Duration, ...]

    def evaluate(self, event: Mapping[str, Any], rollback_type: int | None) -> float | None:
        values = [v for p in self.parts if (v := p.evaluate(event, rollback_type)) is not None]
        return min(values) if values else None


_Duration = _Literal | _EventField | _ByType | _Min


# -- compiled clocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockListing:
    """What ``verify`` shows of a clock: its id, section and text (parameters filled in)."""

    id: str
    section: str
    text: str


@dataclass(frozen=True)
class ClockRule:
    """One compiled clock."""

    id: str
    section: str
    starts_on: frozenset[str]
    stops_on: frozenset[str]
    repeat: bool
    restart: bool
    #: facts presumed when it runs out, if still unknown (field -> value)
    presumes: Mapping[str, Any]
    #: facts reset to their default (unknown) when it runs out
    resets: tuple[str, ...]
    text: Template
    warning: Template | None
    parameters: Mapping[str, Any]
    duration: _Duration

    def minutes(self, event: Mapping[str, Any], rollback_type: int | None) -> float | None:
        """Minutes from the start until it is due; None: it does not start (no duration)."""
        value = self.duration.evaluate(event, rollback_type)
        if value is None or math.isnan(value):
            return None
        return max(value, 0.0)

    def render(self, template: Template, minutes: float, rollback_type: int | None) -> str:
        values = {**self.parameters, "minutes": minutes, "rollback_type": rollback_type}
        return template.render({name: values[name] for name in template.names})


@dataclass(frozen=True)
class ClockCatalogue:
    """Every clock of a policy, in declaration order (the order ties fire in)."""

    rules: tuple[ClockRule, ...]

    def rule(self, clock_id: str) -> ClockRule:
        for rule in self.rules:
            if rule.id == clock_id:
                return rule
        raise KeyError(clock_id)

    def listing(self) -> list[ClockListing]:
        """(id, section, text) of every clock, for ``verify`` and documentation."""
        out = []
        for rule in self.rules:
            text = rule.text.render(
                {
                    **{n: rule.parameters[n] for n in rule.text.names if n in rule.parameters},
                    "minutes": "N",
                    "rollback_type": "N",
                }
            )
            out.append(ClockListing(rule.id, rule.section, text))
        return out


# -- compiling ---------------------------------------------------------------------------------


def compile_clocks(
    doc: PolicyDocument,
    params: Mapping[str, tuple[FactType, Any]],
    report: Report,
) -> ClockCatalogue:
    """Check every clock of ``doc``; problems go to ``report``, broken clocks are left out."""
    from rollback_decision.timeline.events import EVENT_FIELDS, NUMBER_FIELDS

    values = {name: value for name, (_, value) in params.items()}
    known_text = {*values, *CLOCK_TEXT_NAMES}
    rules: list[ClockRule] = []
    for ident, spec in doc.clocks.items():
        clock_id = str(ident)
        before = _Counter(report)
        _check_events(clock_id, spec, EVENT_FIELDS, before)
        duration = _duration(clock_id, spec, params, NUMBER_FIELDS, before)
        presumes = _presumes(clock_id, spec, before)
        resets = _resets(clock_id, spec, before)

        def template(text: str, *path: str, _id: str = clock_id, _r: _Counter = before) -> Template:
            return Template.parse(text, known_text, lambda m: _r("clocks", _id, m, *path))

        text = template(spec.text, "text")
        warning = (
            template(spec.on_expiry.warning, "on_expiry", "warning")
            if spec.on_expiry.warning is not None
            else None
        )
        if before.count or duration is None:
            continue
        rules.append(
            ClockRule(
                id=clock_id,
                section=spec.section,
                starts_on=frozenset(spec.starts_on),
                stops_on=frozenset(spec.stops_on),
                repeat=spec.repeat,
                restart=spec.restart,
                presumes=MappingProxyType(presumes),
                resets=resets,
                text=text,
                warning=warning,
                parameters=MappingProxyType(values),
                duration=duration,
            )
        )
    return ClockCatalogue(tuple(rules))


class _Counter:
    """Passes problems on to ``report`` and counts them."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1
        self.report(*args)


def _check_events(
    clock_id: str, spec: ClockSpec, event_fields: Mapping[str, Any], report: _Counter
) -> None:
    for key, names, allowed in (
        ("starts_on", spec.starts_on, [OPENED, *event_fields]),
        ("stops_on", spec.stops_on, list(event_fields)),
    ):
        for index, name in enumerate(names):
            if name not in allowed:
                report(
                    "clocks",
                    clock_id,
                    f"unknown event type {name!r}{did_you_mean(name, allowed)}",
                    key,
                    index,
                )


def _duration(
    clock_id: str,
    spec: ClockSpec,
    params: Mapping[str, tuple[FactType, Any]],
    number_fields: Mapping[str, frozenset[str]],
    report: _Counter,
) -> _Duration | None:
    after = spec.after
    if len(after) != 1 or next(iter(after)) not in _UNITS:
        keys = ", ".join(map(repr, after)) or "nothing"
        hint = did_you_mean(str(next(iter(after))), _UNITS) if len(after) == 1 else ""
        report(
            "clocks",
            clock_id,
            f"'after' is {{minutes: VALUE}} or {{hours: VALUE}}, got {keys}{hint}",
            "after",
        )
        return None
    unit, raw = next(iter(after.items()))
    scale = _UNITS[unit]
    # {event: FIELD} must be a number of every event type that starts the clock.
    starters = [number_fields.get(name, frozenset()) for name in spec.starts_on]
    event_numbers = frozenset.intersection(*starters) if starters else frozenset()

    def parse(value: Any, path: tuple[str | int, ...]) -> _Duration | None:
        def bad(message: str) -> None:
            report("clocks", clock_id, message, "after", unit, *path)

        if isinstance(value, bool):
            bad(f"a duration is a number, a parameter or a rule of one; got {value!r}")
            return None
        if isinstance(value, (int, float)):
            if not math.isfinite(value) or value < 0:
                bad(f"a duration is a finite number of at least 0, got {value!r}")
                return None
            return _Literal(float(value) * scale)
        if isinstance(value, Mapping) and len(value) == 1:
            (key, inner), *_ = value.items()
            if key == "param":
                name = str(inner)
                if name not in params:
                    bad(f"unknown parameter {name!r}{did_you_mean(name, params)}")
                    return None
                ptype, pvalue = params[name]
                if pvalue is None:
                    return None  # its declaration is broken: reported there
                if ptype.kind not in ("number", "integer"):
                    bad(f"parameter {name!r} is {ptype.describe()}, not a number")
                    return None
                return _Literal(float(pvalue) * scale)
            if key == "event":
                name = str(inner)
                if name not in event_numbers:
                    choices = sorted(frozenset().union(*starters)) if starters else []
                    bad(
                        f"{name!r} is not a number of every event that starts the clock "
                        f"({', '.join(spec.starts_on)}){did_you_mean(name, choices)}"
                    )
                    return None
                return _EventField(name, scale)
            if key == "by_rollback_type" and isinstance(inner, Mapping):
                by_type: dict[int, _Duration] = {}
                for rtype, sub in inner.items():
                    if isinstance(rtype, bool) or rtype not in (1, 2, 3, 4, 5):
                        bad(f"rollback types are 1 to 5, got {rtype!r}")
                        return None
                    parsed = parse(sub, (*path, "by_rollback_type", rtype))
                    if parsed is None:
                        return None
                    by_type[int(rtype)] = parsed
                return _ByType(MappingProxyType(by_type))
            if key == "min" and isinstance(inner, Sequence) and not isinstance(inner, str):
                parts = [parse(sub, (*path, "min", i)) for i, sub in enumerate(inner)]
                if not parts or any(p is None for p in parts):
                    if not parts:
                        bad("'min' takes a list of at least one duration")
                    return None
                return _Min(tuple(p for p in parts if p is not None))
        forms = ("param", "event", "by_rollback_type", "min")
        hint = (
            did_you_mean(str(next(iter(value))), forms)
            if isinstance(value, Mapping) and len(value) == 1
            else ""
        )
        bad(
            "a duration is a number, {param: NAME}, {event: FIELD}, "
            f"{{by_rollback_type: {{TYPE: VALUE}}}} or {{min: [VALUE, ...]}}, got {value!r}{hint}"
        )
        return None

    duration = parse(raw, ())
    if duration is not None and spec.repeat:
        probe = duration.evaluate({}, None)
        if isinstance(duration, _Literal) and (probe is None or probe <= 0):
            report("clocks", clock_id, "a repeating clock needs a duration above 0", "after")
            return None
    return duration


def _presumes(clock_id: str, spec: ClockSpec, report: _Counter) -> dict[str, Any]:
    from rollback_decision.facts import Incident, parse_incident

    out: dict[str, Any] = {}
    for name, value in spec.on_expiry.presume.items():
        if name not in Incident.model_fields or name == "change":
            fields = [f for f in Incident.model_fields if f != "change"]
            report(
                "clocks",
                clock_id,
                f"unknown incident fact {name!r}{did_you_mean(name, fields)}",
                "on_expiry",
                "presume",
                name,
            )
            continue
        try:
            parse_incident({name: value})
            parse_incident({name: None})
        except IncidentError as exc:
            message = exc.problems[0][1]
            if value is not None and "None" in message:
                message = f"only a fact that may be unknown (null) is presumed; {name!r} may not"
            report("clocks", clock_id, message, "on_expiry", "presume", name)
            continue
        out[name] = value
    return out


def _resets(clock_id: str, spec: ClockSpec, report: _Counter) -> tuple[str, ...]:
    from rollback_decision.facts import Incident

    fields = [f for f in Incident.model_fields if f != "change"]
    out = []
    for index, name in enumerate(spec.on_expiry.reset):
        if name not in fields:
            report(
                "clocks",
                clock_id,
                f"unknown incident fact {name!r}{did_you_mean(name, fields)}",
                "on_expiry",
                "reset",
                index,
            )
            continue
        out.append(name)
    return tuple(out)
