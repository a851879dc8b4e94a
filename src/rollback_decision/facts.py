"""Stage 1 of the pipeline: the typed facts of an incident.

These models are the public contract other tooling depends on: names and values are fixed.
They say *what is observed*; what the policy makes of it lives in ``rules/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rollback_decision.errors import IncidentError, did_you_mean

__all__ = [
    "Change",
    "Component",
    "DataScenario",
    "Incident",
    "PointOfNoReturn",
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


_FROZEN = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Change(BaseModel):
    """What was deployed."""

    model_config = _FROZEN

    components: list[Component] = Field(
        default_factory=lambda: [Component.APPLICATION_CODE],
        min_length=1,
        description="The changed components; several mean a coordinated rollback.",
    )
    behind_feature_flag: bool = Field(
        default=False, description="The new behaviour can be switched off by a feature flag."
    )
    data_scenario: DataScenario = Field(
        default=DataScenario.NO_DATA_CHANGES,
        description="How the change touched data (DATA ROLLBACK STRATEGIES 1-5).",
    )
    data_written_in_new_format: bool = Field(
        default=False, description="Data has already been written in the new format."
    )
    point_of_no_return: list[PointOfNoReturn] = Field(
        default_factory=list, description="Parts of the change that cannot be undone (type 5)."
    )
    trading_system: bool = Field(
        default=False,
        description="The change touches the trading system (its own stakeholder list).",
    )
    customer_facing: bool = Field(
        default=False, description="End users see the change (they are then notified)."
    )


class Incident(BaseModel):
    """The facts of a production incident, as handed to :func:`rollback_decision.decide`."""

    model_config = _FROZEN

    production_issue: bool = Field(default=True, description="Decision tree step 1.")
    related_to_deployment: bool | None = Field(
        default=None, description="Step 2; null means not known yet (uncertain)."
    )
    severity: Literal["critical", "non_critical"] | None = Field(
        default=None, description="Step 3; null means derive it from the other facts."
    )
    symptoms: list[Symptom] = Field(default_factory=list, description="What is observed.")
    production_down: bool = Field(
        default=False, description="Production is down (authority 'Production Down')."
    )
    critical_path_affected: bool = Field(
        default=False, description="A critical path is affected (functional-errors scenario)."
    )
    fix_forward_eta_minutes: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Steps 4 and 7; null = unknown."
    )
    rollback_eta_minutes: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="Step 7; null = estimate it from the change's procedures.",
    )
    rollback_possible: bool | None = Field(
        default=None, description="Step 5; null = derive it from the change."
    )
    rollback_risk: Literal["low", "high"] = Field(default="low", description="Step 6.")
    rollback_tested: bool | None = Field(
        default=None,
        description="The rollback procedure was tested during deployment planning; null = unknown.",
    )
    verified_backup: bool | None = Field(
        default=None,
        description="A recent, verified database backup exists; null = unknown.",
    )
    partial_deployment: bool = Field(
        default=False,
        description="The deployment succeeded on some servers and failed on others.",
    )
    change: Change = Field(
        default_factory=Change, description="What was deployed (a plain code change by default)."
    )


def _describe(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_incident(data: Incident | Mapping[str, Any], *, source: str | None = None) -> Incident:
    """Validate ``data`` into an :class:`Incident`, naming the bad field on failure."""
    if isinstance(data, Incident):
        return data
    if not isinstance(data, Mapping):
        raise IncidentError(
            source=source,
            field=None,
            message=f"expected a mapping of incident fields, got {type(data).__name__}",
        )
    try:
        return Incident.model_validate(dict(data))
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = [
            (_describe(err["loc"]), _explain(err)) for err in exc.errors(include_url=False)
        ]
        raise IncidentError.from_problems(source, problems) from None


def _explain(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        loc = err["loc"]
        model: type[BaseModel] = Change if loc and loc[0] == "change" else Incident
        return "unknown field" + did_you_mean(str(loc[-1]), model.model_fields)
    if kind == "missing":
        return "field required"
    ctx = err.get("ctx") or {}
    if kind in ("enum", "literal_error") and "expected" in ctx:
        choices = re.findall(r"'([^']*)'", str(ctx["expected"]))
        hint = did_you_mean(str(err["input"]), choices)
        many = "one of " if len(choices) > 2 else ""
        return f"expected {many}{ctx['expected']}, got {err['input']!r}{hint}"
    return f"{err['msg'][0].lower()}{err['msg'][1:]}, got {err['input']!r}"


def load_incident(path: str) -> Incident:
    """Read an incident from a YAML or JSON file (``-`` for standard input)."""
    import sys
    from pathlib import Path

    from rollback_decision.policy.yamlio import YamlReadError, read_yaml_text, to_plain

    name = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IncidentError(
            source=name, field=None, message=f"cannot read file: {reason}"
        ) from None
    try:
        data = read_yaml_text(text)
    except YamlReadError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise IncidentError(source=name, field=None, message=where + exc.message) from None
    if data is None:
        data = {}
    return parse_incident(to_plain(data), source=name)
