"""Stage 1 of the pipeline: the typed facts of an incident.

These models are the public contract other tooling depends on: names and values are fixed.
They say *what is observed*; what the policy makes of it lives in ``rules/``.

Facts are strict, in files and in mappings passed to ``decide()`` alike: a boolean only from a
boolean (not ``"no"``, ``0`` or ``"off"``), a number only from an integer or a finite float
(not a boolean, not a numeric string), an enum only from one of its values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from rollback_decision.errors import IncidentError, did_you_mean, escape, excerpt

__all__ = [
    "Change",
    "Component",
    "DataScenario",
    "Incident",
    "PointOfNoReturn",
    "Rollout",
    "Symptom",
    "load_incident",
    "parse_incident",
]


class Symptom(StrEnum):
    """What is observed in production ("WHEN TO ROLLBACK", "COMMON ROLLBACK SCENARIOS")."""

    # Immediate rollback triggers.
    CRITICAL_PRODUCTION_ERRORS = "critical_production_errors"
    PERFORMANCE_BEYOND_SLA = "performance_beyond_sla"
    DATA_CORRUPTION = "data_corruption"
    SECURITY_VULNERABILITY = "security_vulnerability"
    TRADING_LOGIC_ERROR = "trading_logic_error"
    SYSTEM_INSTABILITY = "system_instability"
    UNACCEPTABLE_BUSINESS_IMPACT = "unacceptable_business_impact"
    # Consider-rollback signals.
    NON_CRITICAL_ERRORS = "non_critical_errors"
    PERFORMANCE_WITHIN_TOLERANCE = "performance_within_tolerance"
    MINOR_FUNCTIONAL_ISSUE = "minor_functional_issue"
    MONITORING_ALERT = "monitoring_alert"
    # Neither list: an external integration broke.
    INTEGRATION_FAILURE = "integration_failure"


class Component(StrEnum):
    """A part of the system a deployment changed ("ROLLBACK PROCEDURES BY COMPONENT")."""

    APPLICATION_CODE = "application_code"
    DATABASE_SCHEMA = "database_schema"
    CONFIGURATION = "configuration"
    FEATURE_FLAG = "feature_flag"
    INFRASTRUCTURE = "infrastructure"
    NETWORK = "network"
    DEPENDENCY = "dependency"


class DataScenario(StrEnum):
    """How the deployment touched data ("DATA ROLLBACK STRATEGIES", scenarios 1-5)."""

    NO_DATA_CHANGES = "no_data_changes"
    BACKWARD_COMPATIBLE_SCHEMA = "backward_compatible_schema"
    FORWARD_COMPATIBLE_SCHEMA = "forward_compatible_schema"
    INCOMPATIBLE_SCHEMA = "incompatible_schema"
    IRREVERSIBLE_TRANSFORMATION = "irreversible_transformation"


class PointOfNoReturn(StrEnum):
    """Changes that cannot be rolled back ("ROLLBACK CLASSIFICATION", type 5)."""

    DESTRUCTIVE_DATA_OPERATION = "destructive_data_operation"
    ONE_WAY_MIGRATION = "one_way_migration"
    THIRD_PARTY_API_CHANGE = "third_party_api_change"
    EXTERNAL_DEPENDENCY = "external_dependency"
    IRREVERSIBLE_BUSINESS_PROCESS = "irreversible_business_process"


class Rollout(StrEnum):
    """How the change reached production ("ROLLBACK CLASSIFICATION", type 1: "Canary
    deployment gone wrong"; "DEPLOYMENT BEST PRACTICES": canary deployments, gradual rollouts)."""

    ALL_AT_ONCE = "all_at_once"
    ROLLING = "rolling"
    CANARY = "canary"
    BLUE_GREEN = "blue_green"


_FROZEN = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


def _only_values(value: Any, enum: type[Enum]) -> Any:
    """``value`` when it is a member of ``enum`` or a ``str`` (or a list of them): pydantic's
    lax enum validation also takes bytes, and its strict mode refuses the strings a YAML or
    JSON file holds; this keeps exactly the members and their values."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not (isinstance(item, enum) or type(item) is str):
            values = [repr(member.value) for member in enum]
            expected = ", ".join(values[:-1]) + " or " + values[-1]
            raise PydanticCustomError(
                "enum", "Input should be {expected}", {"expected": expected, "got": item}
            )
    return value


class Change(BaseModel):
    """What was deployed."""

    model_config = _FROZEN

    @field_validator("components", "point_of_no_return", "data_scenario", "rollout", mode="before")
    @classmethod
    def _enum_values_only(cls, value: Any, info: ValidationInfo) -> Any:
        enum = {
            "components": Component,
            "point_of_no_return": PointOfNoReturn,
            "rollout": Rollout,
        }.get(str(info.field_name), DataScenario)
        return _only_values(value, enum)

    components: list[Component] = Field(
        default_factory=lambda: [Component.APPLICATION_CODE],
        min_length=1,
        description="The changed components; several mean a coordinated rollback.",
    )
    behind_feature_flag: bool = Field(
        strict=True,
        default=False,
        description="The new behaviour can be switched off by a feature flag.",
    )
    data_scenario: DataScenario = Field(
        default=DataScenario.NO_DATA_CHANGES,
        description="How the change touched data (DATA ROLLBACK STRATEGIES 1-5).",
    )
    data_written_in_new_format: bool = Field(
        strict=True, default=False, description="Data has already been written in the new format."
    )
    point_of_no_return: list[PointOfNoReturn] = Field(
        default_factory=list, description="Parts of the change that cannot be undone (type 5)."
    )
    trading_system: bool = Field(
        strict=True,
        default=False,
        description="The change touches the trading system (its own stakeholder list).",
    )
    customer_facing: bool = Field(
        strict=True, default=False, description="End users see the change (they are then notified)."
    )
    rollout: Rollout = Field(
        default=Rollout.ALL_AT_ONCE,
        description=(
            "How the new version reached production; a canary or blue-green rollout can be "
            "rolled back by routing traffic back to the old version (type 1)."
        ),
    )
    traffic_percent: float | None = Field(
        default=None,
        ge=0,
        le=100,
        allow_inf_nan=False,
        strict=True,
        description="Share of the traffic the new version serves (0-100); null = unknown.",
    )


class Incident(BaseModel):
    """The facts of a production incident, as handed to :func:`rollback_decision.decide`."""

    model_config = _FROZEN

    @field_validator("symptoms", mode="before")
    @classmethod
    def _enum_values_only(cls, value: Any) -> Any:
        return _only_values(value, Symptom)

    production_issue: bool = Field(strict=True, default=True, description="Decision tree step 1.")
    related_to_deployment: bool | None = Field(
        strict=True, default=None, description="Step 2; null means not known yet (uncertain)."
    )
    severity: Literal["critical", "non_critical"] | None = Field(
        default=None, description="Step 3; null means derive it from the other facts."
    )
    symptoms: list[Symptom] = Field(default_factory=list, description="What is observed.")
    production_down: bool = Field(
        strict=True, default=False, description="Production is down (authority 'Production Down')."
    )
    critical_path_affected: bool = Field(
        strict=True,
        default=False,
        description="A critical path is affected (functional-errors scenario).",
    )
    fix_forward_eta_minutes: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        strict=True,
        description="Steps 4 and 7; null = unknown.",
    )
    rollback_eta_minutes: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        strict=True,
        description="Step 7; null = estimate it from the change's procedures.",
    )
    rollback_possible: bool | None = Field(
        strict=True, default=None, description="Step 5; null = derive it from the change."
    )
    rollback_risk: Literal["low", "high"] | None = Field(
        default=None,
        description="Step 6, as reported; null = derive it from the rollback's prerequisites.",
    )
    previous_version_known_good: bool | None = Field(
        strict=True,
        default=None,
        description=(
            "The version rolled back to is tested and known-good (application code "
            "prerequisite); null = unknown."
        ),
    )
    rollback_tested: bool | None = Field(
        strict=True,
        default=None,
        description="The rollback procedure was tested during deployment planning; null = unknown.",
    )
    verified_backup: bool | None = Field(
        strict=True,
        default=None,
        description="A recent, verified database backup exists; null = unknown.",
    )
    partial_deployment: bool = Field(
        strict=True,
        default=False,
        description="The deployment succeeded on some servers and failed on others.",
    )
    change: Change = Field(
        default_factory=Change, description="What was deployed (a plain code change by default)."
    )


def _describe(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_incident(data: Incident | Mapping[str, Any], *, source: str | None = None) -> Incident:
    """Validate ``data`` into an :class:`Incident`, naming the bad field on failure.

    Facts are strict (see the module's docstring); a mapping from a form where everything
    is text must be converted by its caller, deliberately.
    """
    return _validate(data, source, None)


def _validate(data: Any, source: str | None, raw: Any) -> Incident:
    if isinstance(data, Incident):
        return data
    if not isinstance(data, Mapping):
        raise IncidentError(
            source=source,
            field=None,
            message=f"expected a mapping of incident fields, got {_kind(data)}",
            line=_line_of(raw) if raw is not None else None,
        )
    try:
        return Incident.model_validate(dict(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems: list[tuple[str | None, str]] = [
            (_describe(err["loc"]), _explain(err)) for err in errors
        ]
        line = _line_of(raw, tuple(errors[0]["loc"])) if raw is not None else None
        raise IncidentError.from_problems(source, problems, line=line) from None
    except RecursionError:
        raise IncidentError(
            source=source, field=None, message="nested too deeply to be an incident"
        ) from None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return escape(type(value).__name__, 40)


def _explain(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        loc = err["loc"]
        model: type[BaseModel] = Change if loc and loc[0] == "change" else Incident
        return "unknown field" + did_you_mean(str(loc[-1]), model.model_fields)
    if kind == "missing":
        return "field required"
    ctx = err.get("ctx") or {}
    shown = excerpt(ctx["got"] if "got" in ctx else err["input"])
    if kind in ("enum", "literal_error") and "expected" in ctx:
        choices = re.findall(r"'([^']*)'", str(ctx["expected"]))
        hint = did_you_mean(err["input"], choices) if isinstance(err["input"], str) else ""
        many = "one of " if len(choices) > 2 else ""
        return f"expected {many}{ctx['expected']}, got {shown}{hint}"
    if kind == "bool_type":
        return f"expected true or false, got {shown}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number of minutes, got {shown}"
    if kind == "finite_number":
        return "expected a finite number of minutes"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}, got {shown}"


def load_incident(path: str, *, max_bytes: int | None = None) -> Incident:
    """Read an incident from a YAML or JSON file (``-`` for standard input).

    At most ``max_bytes`` bytes are read (default 1 MiB); nesting and aliases are limited as
    for policy files (:class:`~rollback_decision.policy.yamlio.Limits`). A pipe or a device
    is read up to the limit, a folder is refused. An empty document (nothing, comments,
    ``null``) is refused: "the incident is empty"; ``{}`` is an incident with every fact
    unknown.
    """

    name, plain, raw = read_document_input(
        path,
        max_bytes=max_bytes,
        error=IncidentError,
        empty="the incident is empty (an incident with every fact unknown is {})",
    )
    return _validate(plain, name, raw)


def _line_of(raw: Any, loc: tuple[Any, ...] = ()) -> int | None:
    from rollback_decision.policy.yamlio import line_of as line_in

    return line_in(raw, loc)


def read_document_input(
    path: str, *, max_bytes: int | None, error: type[IncidentError], empty: str
) -> tuple[str, Any, Any]:
    """Read a fact document (an incident, a deployment plan) from a file or ``-`` within the
    input limits: its display name, plain value and line-numbered tree. A read problem or an
    empty document raises ``error`` (an :class:`IncidentError`) naming the file."""
    from rollback_decision.policy.yamlio import DEFAULT_LIMITS, YamlReadError, read_input, to_plain

    name = "<stdin>" if path == "-" else path
    try:
        raw = read_input(path, DEFAULT_LIMITS.with_max_bytes(max_bytes))
    except YamlReadError as exc:
        raise error(source=name, field=exc.key, message=exc.message, line=exc.line) from None
    if raw is None:
        raise error(source=name, field=None, message=empty)
    return name, to_plain(raw), raw
