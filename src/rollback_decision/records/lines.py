"""The lines of a decision log: one model per line type, their JSON form, and the check of
one decoded line.

Each line is an event of the timeline format (:mod:`rollback_decision.timeline.events`) with
the ``incident`` id added, or one of these::

    {"type": "opened", "incident", "at", "facts": {...}, "issue": "optional root problem key"}
    {"type": "deployed", "at", "deployment": "id", "incident": "optional"}
    {"type": "decision", "incident", "at", "action", "rollback_type", "cause",
     "policy": {"name", "version", "content_hash"}, "rules": [rule ids, optional]}
    {"type": "post_mortem", "incident", "at", "preventable": bool, "action_items": [...]}

``cause`` is the timeline's: ``{"event": INDEX}`` (null for the opening facts) or
``{"clock": RULE_ID}``. ``rules`` (the rule ids of the decision's rationale) is written by
:class:`~rollback_decision.records.log.DecisionLog`; logs from other tools may leave it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from rollback_decision.decision import Action, PolicyIdentity
from rollback_decision.errors import DecisionLogError, TimelineError, did_you_mean
from rollback_decision.timeline.changes import format_time
from rollback_decision.timeline.events import EVENT_MODELS, Event, parse_event, parse_time

__all__ = [
    "LINE_TYPES",
    "ActionItem",
    "Cause",
    "DecisionRecord",
    "Deployed",
    "EventRecord",
    "LogTime",
    "Opened",
    "PostMortemRecord",
    "Record",
    "parse_record",
    "record_to_dict",
]


def _time(value: Any) -> datetime:
    if not isinstance(value, (str, datetime)):
        raise ValueError(f"a time is an ISO 8601 string with a zone offset, got {value!r}")
    return parse_time(value)


#: An ISO 8601 time with a zone offset (a string in the log; naive times are refused).
LogTime = Annotated[datetime, BeforeValidator(_time)]

_LINE = ConfigDict(frozen=True, extra="forbid")


class Opened(BaseModel):
    """``opened``: an incident opened with the facts known then; ``issue`` names the root
    problem (what a repeat rollback repeats)."""

    model_config = _LINE
    type: Literal["opened"] = "opened"
    incident: str = Field(min_length=1)
    at: LogTime
    facts: dict[str, Any] = Field(default_factory=dict)
    issue: str | None = Field(default=None, min_length=1)


class Deployed(BaseModel):
    """``deployed``: a deployment, with the incident it caused when there is one."""

    model_config = _LINE
    type: Literal["deployed"] = "deployed"
    at: LogTime
    deployment: str = Field(min_length=1)
    incident: str | None = Field(default=None, min_length=1)


class Cause(BaseModel):
    """Why a decision changed: ``{"event": INDEX}`` (null: the opening facts) or
    ``{"clock": RULE_ID}``."""

    model_config = _LINE
    event: int | None = Field(default=None, ge=0)
    clock: str | None = Field(default=None, min_length=1)


class DecisionRecord(BaseModel):
    """``decision``: the recommendation changed (written by a session each time it does)."""

    model_config = _LINE
    type: Literal["decision"] = "decision"
    incident: str = Field(min_length=1)
    at: LogTime
    action: Action
    rollback_type: int | None = Field(ge=1, le=5)
    cause: Cause
    policy: PolicyIdentity
    rules: list[str] | None = None


class ActionItem(BaseModel):
    """An action item ("ROLLBACK POST-MORTEM › ACTION ITEMS › Each Action Item")."""

    model_config = _LINE
    description: str = Field(min_length=1)
    owner: str | None = None
    due: str | None = None
    priority: str | None = None
    success_criteria: str | None = None
    category: str | None = None


class PostMortemRecord(BaseModel):
    """``post_mortem``: held; whether the rollback was preventable, and the action items (a
    text or an :class:`ActionItem` each)."""

    model_config = _LINE
    type: Literal["post_mortem"] = "post_mortem"
    incident: str = Field(min_length=1)
    at: LogTime
    preventable: bool
    action_items: list[str | ActionItem] = Field(default_factory=list)


@dataclass(frozen=True)
class EventRecord:
    """A timeline event of ``incident`` (its index in the incident's stream is its order in
    the log)."""

    incident: str
    event: Event

    @property
    def at(self) -> datetime:
        return self.event.at

    @property
    def type(self) -> str:
        return self.event.type


Record = Opened | Deployed | DecisionRecord | PostMortemRecord | EventRecord

_MODELS: Mapping[str, type[BaseModel]] = {
    "opened": Opened,
    "deployed": Deployed,
    "decision": DecisionRecord,
    "post_mortem": PostMortemRecord,
}
#: Every line type: the log's own and the timeline's events.
LINE_TYPES: tuple[str, ...] = (*_MODELS, *EVENT_MODELS)


def record_to_dict(record: Record) -> dict[str, Any]:
    """The JSON form of a record (what one line holds)."""
    if isinstance(record, EventRecord):
        data = record.event.model_dump(mode="json")
        data = {k: v for k, v in data.items() if v is not None}
        data["at"] = format_time(record.event.at)
        return {"type": data.pop("type"), "incident": record.incident, **data}
    data = record.model_dump(mode="json", exclude_none=False)
    data["at"] = format_time(record.at)
    if isinstance(record, Deployed) and record.incident is None:
        del data["incident"]
    if isinstance(record, Opened) and record.issue is None:
        del data["issue"]
    if isinstance(record, DecisionRecord):
        if record.rules is None:
            del data["rules"]
        data["cause"] = (
            {"clock": record.cause.clock}
            if record.cause.clock is not None
            else {"event": record.cause.event}
        )
    if isinstance(record, PostMortemRecord):
        data["action_items"] = [
            item
            if isinstance(item, str)
            else {k: v for k, v in item.model_dump().items() if v is not None}
            for item in record.action_items
        ]
    return {"type": data.pop("type"), **data}


def parse_record(raw: Any, *, source: str | None = None, line: int | None = None) -> Record:
    """Check one decision-log line (already JSON-decoded) against its type."""

    def fail(message: str, at: str | None = None) -> DecisionLogError:
        return DecisionLogError(message, source=source, line=line, field=at)

    if not isinstance(raw, Mapping):
        raise fail(f"a line is a JSON object with 'type', got {type(raw).__name__}")
    kind = raw.get("type")
    if kind is None:
        raise fail("field required: the line type, one of " + ", ".join(LINE_TYPES), "type")
    if not isinstance(kind, str) or kind not in LINE_TYPES:
        raise fail(
            f"unknown line type {kind!r}{did_you_mean(str(kind), LINE_TYPES)}; "
            f"expected one of {', '.join(LINE_TYPES)}",
            "type",
        )
    if kind in EVENT_MODELS:
        data = dict(raw)
        incident = data.pop("incident", None)
        if not isinstance(incident, str) or not incident:
            raise fail(f"field required: the incident id of the {kind} event", "incident")
        try:
            event = parse_event(data, 0)
        except TimelineError as exc:
            raise fail(exc.message, exc.field) from None
        return EventRecord(incident, event)
    try:
        record = _MODELS[kind].model_validate(dict(raw))
    except ValidationError as exc:
        err = min(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
        where = ".".join(str(p) for p in err["loc"]) or None
        model = _MODELS[kind]
        if err["type"] == "extra_forbidden":
            known = [f for f in model.model_fields if f != "type"]
            name = str(err["loc"][-1])
            message = f"unknown field{did_you_mean(name, known)}; a {kind} line has " + ", ".join(
                known
            )
        elif err["type"] == "missing":
            message = "field required"
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {err.get('input')!r}"
        raise fail(message, where) from None
    assert isinstance(record, (Opened, Deployed, DecisionRecord, PostMortemRecord))
    return record
