"""The timeline event format: a contract other tools and the decision log build on.

Every event has ``at`` (an ISO 8601 time with a zone offset) and ``type``; the other fields
depend on the type::

    facts               set: {FIELD: VALUE, "change.FIELD": VALUE, ...}   Incident fields
    fix_eta             minutes: NUMBER                                   a promised fix
    fix_deployed
    fix_failed
    decision_accepted   by: NAME, role: ROLE_ID
    rollback_started
    rollback_completed
    rollback_failed     reason: TEXT
    data_loss           records: NUMBER (optional)
    resolved

Unknown types and fields are errors, with "did you mean" for near names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from rollback_decision.errors import TimelineError, did_you_mean

__all__ = [
    "EVENT_FIELDS",
    "EVENT_MODELS",
    "NUMBER_FIELDS",
    "DataLoss",
    "DecisionAccepted",
    "Event",
    "FactsSet",
    "FixDeployed",
    "FixEta",
    "FixFailed",
    "Resolved",
    "RollbackCompleted",
    "RollbackFailed",
    "RollbackStarted",
    "parse_event",
    "parse_time",
]

_EVENT = ConfigDict(frozen=True, extra="forbid")


class Event(BaseModel):
    """What every event has: when it happened, and its type."""

    model_config = _EVENT
    at: AwareDatetime
    type: str

    def fields(self) -> dict[str, Any]:
        """The event's own fields (what clocks may read), without ``at`` and ``type``."""
        return {k: v for k, v in self.__dict__.items() if k not in ("at", "type")}


class FactsSet(Event):
    """``facts``: Incident fields learnt or changed (``change.FIELD`` keys allowed)."""

    set: dict[str, Any] = Field(min_length=1)


class FixEta(Event):
    """``fix_eta``: a fix forward is promised in ``minutes``."""

    minutes: float = Field(ge=0, allow_inf_nan=False)


class FixDeployed(Event):
    """``fix_deployed``: the fix forward is in production."""


class FixFailed(Event):
    """``fix_failed``: the fix forward did not work."""


class DecisionAccepted(Event):
    """``decision_accepted``: someone with a role accepted the current decision."""

    by: str = Field(min_length=1)
    role: str = Field(min_length=1)


class RollbackStarted(Event):
    """``rollback_started``."""


class RollbackCompleted(Event):
    """``rollback_completed``."""


class RollbackFailed(Event):
    """``rollback_failed``: with the ``reason``."""

    reason: str = Field(min_length=1)


class DataLoss(Event):
    """``data_loss``: data was lost (``records``, when counted)."""

    records: int | None = Field(default=None, ge=0)


class Resolved(Event):
    """``resolved``: the production issue is gone."""


#: Event type -> its model.
EVENT_MODELS: Mapping[str, type[Event]] = MappingProxyType(
    {
        "facts": FactsSet,
        "fix_eta": FixEta,
        "fix_deployed": FixDeployed,
        "fix_failed": FixFailed,
        "decision_accepted": DecisionAccepted,
        "rollback_started": RollbackStarted,
        "rollback_completed": RollbackCompleted,
        "rollback_failed": RollbackFailed,
        "data_loss": DataLoss,
        "resolved": Resolved,
    }
)
#: Event type -> the names of its own fields.
EVENT_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        name: tuple(f for f in model.model_fields if f not in ("at", "type"))
        for name, model in EVENT_MODELS.items()
    }
)
#: Event type -> its number fields (what a clock's ``{event: FIELD}`` duration may read).
NUMBER_FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"fix_eta": frozenset({"minutes"}), "data_loss": frozenset({"records"})}
)


def parse_time(value: Any, *, what: str = "time") -> datetime:
    """An aware datetime from a datetime or an ISO 8601 string; ValueError says why not."""
    if isinstance(value, datetime):
        moment = datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
        )
    elif isinstance(value, date):
        raise ValueError(f"{what} {value.isoformat()} has no time of day; give a time and offset")
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{what} {value!r} is not an ISO 8601 time (e.g. 2026-03-02T14:00:00Z)"
            ) from None
    else:
        raise ValueError(f"{what} must be an ISO 8601 time, got {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} {moment.isoformat()} is naive: give a zone offset (Z or +HH:MM)")
    return moment


def parse_event(raw: Any, index: int, *, source: str | None = None) -> Event:
    """Validate one event (``index``: its place in the stream), or raise :class:`TimelineError`
    naming the event and the field."""

    def fail(field: str | None, message: str, kind: str | None = None) -> TimelineError:
        return TimelineError(message, source=source, index=index, field=field, event_type=kind)

    if not isinstance(raw, Mapping):
        raise fail(None, f"an event is a mapping with 'at' and 'type', got {raw!r}")
    kind = raw.get("type")
    if kind is None:
        raise fail("type", "field required: the event type, one of " + ", ".join(EVENT_MODELS))
    if not isinstance(kind, str) or kind not in EVENT_MODELS:
        raise fail(
            "type",
            f"unknown event type {kind!r}{did_you_mean(str(kind), EVENT_MODELS)}; "
            f"expected one of {', '.join(EVENT_MODELS)}",
        )
    model = EVENT_MODELS[kind]
    data = dict(raw)
    if "at" not in data:
        raise fail("at", "field required: when it happened (ISO 8601 with an offset)", kind)
    try:
        data["at"] = parse_time(data["at"], what="time")
    except ValueError as exc:
        raise fail("at", str(exc), kind) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # An unknown field first: its "did you mean" explains a missing one.
        err = min(errors, key=lambda e: e["type"] != "extra_forbidden")
        loc = [str(p) for p in err["loc"]]
        field = ".".join(loc) or None
        raise fail(field, _explain(err, kind), kind) from None


def _explain(err: Any, kind: str) -> str:
    if err["type"] == "extra_forbidden":
        fields = EVENT_FIELDS[kind]
        known = f"; a {kind} event has " + (", ".join(fields) if fields else "no other fields")
        return f"unknown field{did_you_mean(str(err['loc'][-1]), fields)}{known}"
    if err["type"] == "missing":
        return "field required"
    value = err.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}, got {value!r}"
