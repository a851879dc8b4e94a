"""The shape of the rule files (``rules/*.yaml``), as pydantic models.

Structure is checked here; meaning (names of facts, parameters, roles; types of values) is
checked by :mod:`rollback_decision.policy.validate` once every file is read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = [
    "ActionSpec",
    "ApprovalSpec",
    "AuthoritySpec",
    "ChecklistSpec",
    "ClockExpirySpec",
    "ClockSpec",
    "CommunicationPlanSpec",
    "MessageSpec",
    "MonitoringSpec",
    "OutputSpec",
    "ParamRef",
    "ParameterSpec",
    "PhaseSpec",
    "PolicyDocument",
    "PolicyMeta",
    "PostMortemSpec",
    "ProcedureSpec",
    "RoleSpec",
    "RollbackTypeSpec",
    "RuleSpec",
    "StakeholderGroupSpec",
    "StepSpec",
    "TableSpec",
    "WarningSpec",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)

Id = str


class ParamRef(BaseModel):
    """``{param: name}``: the value of a declared parameter."""

    model_config = _STRICT
    param: str


#: A bound of a number parameter: an integer or a finite float, never a boolean or a string.
Bound = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class ParameterSpec(BaseModel):
    """A named value of the policy that an organisation may override.

    ``min`` and ``max`` (number and integer parameters only) bound the value, both included:
    the default and every organisation's value are checked against them.
    """

    model_config = _STRICT
    type: str = Field(
        description="number, integer, boolean, string, or list[symptom|component|role|string]"
    )
    default: Any
    section: str
    description: str = ""
    min: Bound | None = Field(default=None, description="The least value allowed (included).")
    max: Bound | None = Field(default=None, description="The greatest value allowed (included).")

    def bounds_problem(self) -> str | None:
        """What is wrong with the declared bounds themselves, if anything."""
        if self.min is None and self.max is None:
            return None
        if self.type not in ("number", "integer"):
            return f"'min' and 'max' bound number and integer parameters, not {self.type!r}"
        if self.min is not None and self.max is not None and self.min > self.max:
            return f"'min' ({self.min:g}) is greater than 'max' ({self.max:g})"
        return None

    def out_of_bounds(self, value: Any) -> str | None:
        """Why ``value`` (already of the parameter's type) is outside the bounds, or None."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if self.min is not None and value < self.min:
            return f"must be at least {self.min:g}"
        if self.max is not None and value > self.max:
            return f"must be at most {self.max:g}"
        return None


class RoleSpec(BaseModel):
    model_config = _STRICT
    name: str
    description: str = ""


class ApprovalSpec(BaseModel):
    model_config = _STRICT
    name: str
    description: str = ""


class AuthoritySpec(BaseModel):
    """A row of the authority matrix ("DECISION AUTHORITY")."""

    model_config = _STRICT
    situation: str
    decided_by: Id | ParamRef
    approval: Id
    min_approvers: int | ParamRef
    approvers: list[Id] | ParamRef = Field(default_factory=list)
    notify: list[Id] | ParamRef = Field(default_factory=list)
    section: str
    rank: int | None = Field(
        default=None,
        ge=1,
        description="How severe the situation the row handles is, relative to the other rows: "
        "a more severe incident never gets a lower-ranked authority (checked by verify).",
    )


class ActionSpec(BaseModel):
    """What the policy says about one recommended action."""

    model_config = _STRICT
    summary: str
    reports_rollback_type: bool
    section: str


class RollbackTypeSpec(BaseModel):
    """One of the rollback types 1-5 ("ROLLBACK CLASSIFICATION")."""

    model_config = _STRICT
    name: str
    budget_minutes: float | ParamRef | None
    section: str
    characteristics: list[str] = Field(default_factory=list)
    mechanisms: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    use_when: list[str] = Field(default_factory=list)


class OutputSpec(BaseModel):
    """A fact a table sets, with its type (checked against every rule that sets it)."""

    model_config = _STRICT
    type: Literal["boolean", "number", "integer", "enum", "action", "authority", "list"]
    values: list[Any] | None = None
    of: str | None = Field(
        default=None, description="list outputs: the catalogue their ids point into (procedures)"
    )
    nullable: bool = False
    aggregate: str | None = Field(
        default=None, description="collect tables only: sum, max, min, any, all, union"
    )
    description: str = ""


class RuleSpec(BaseModel):
    """One rule: when its condition holds, it sets outputs and says why."""

    model_config = _STRICT
    id: Id
    section: str | None = None
    when: Any = None
    set: dict[str, Any] = Field(default_factory=dict)
    because: str | None = None
    if_not: str | None = Field(
        default=None,
        description="first tables: said when the rule was checked and did not match",
    )


class TableSpec(BaseModel):
    """A decision table: rules, and how their matches combine."""

    model_config = _STRICT
    id: Id
    section: str
    combine: str = Field(description="first, unique or collect")
    description: str = ""
    outputs: dict[str, OutputSpec]
    rules: list[RuleSpec] = Field(min_length=1)
    subject: Literal["incident", "deployment_plan"] = Field(
        default="incident",
        description="What the conditions read: an incident (the pipeline's tables) or a "
        "deployment plan (readiness tables, outside the pipeline; see rollback_decision.readiness)",
    )


# -- the rollback plan: catalogues that tables select from by id ------------------------------


class PhaseSpec(BaseModel):
    """A phase of a plan; steps of every selected procedure are merged in phase rank order."""

    model_config = _STRICT
    rank: int
    title: str
    description: str = ""


class StepSpec(BaseModel):
    """One step of a procedure. ``{param}`` placeholders are filled when the policy compiles."""

    model_config = _STRICT
    text: str
    phase: Id
    section: str | None = None
    duration: str | None = None
    command: str | None = None
    validation: str | None = None
    checks: list[str] = Field(default_factory=list)
    key: str | None = Field(
        default=None,
        description="steps sharing a key are one step: the first in plan order is kept, "
        "a fallback step only when no other step has its key",
    )
    fallback: bool = False


class ProcedureSpec(BaseModel):
    """A procedure of the policy (a rollback type's, a component's, a scenario's)."""

    model_config = _STRICT
    title: str
    section: str
    steps: list[StepSpec] = Field(min_length=1)


class ChecklistSpec(BaseModel):
    model_config = _STRICT
    title: str
    section: str
    items: list[str] = Field(min_length=1)


class MonitoringSpec(BaseModel):
    model_config = _STRICT
    duration: str
    section: str
    focus: list[str] = Field(default_factory=list)


class WarningSpec(BaseModel):
    """A prerequisite the facts show as unmet or unknown; ``text`` may name facts."""

    model_config = _STRICT
    text: str
    section: str


class StakeholderGroupSpec(BaseModel):
    model_config = _STRICT
    title: str
    section: str
    members: list[str] = Field(min_length=1)


class MessageSpec(BaseModel):
    """A notification template; ``{name}`` placeholders are filled from the facts."""

    model_config = _STRICT
    title: str
    channel: str
    section: str
    subject: str | None = None
    text: str


class CommunicationPlanSpec(BaseModel):
    model_config = _STRICT
    section: str
    recipients: str
    channels: list[str] = Field(min_length=1)
    update_every_minutes: float | ParamRef | None = None


class PostMortemSpec(BaseModel):
    model_config = _STRICT
    title: str
    section: str
    within_hours: float | ParamRef
    attendees: list[str] = Field(min_length=1)
    agenda: list[str] = Field(default_factory=list)
    deliverables: list[str] = Field(default_factory=list)


class ClockExpirySpec(BaseModel):
    """What happens when a clock runs out (every part optional)."""

    model_config = _STRICT
    presume: dict[str, Any] = Field(
        default_factory=dict,
        description="incident facts still unknown (null) then are presumed to have this value",
    )
    reset: list[str] = Field(
        default_factory=list, description="incident facts reset to their default (unknown)"
    )
    warning: str | None = Field(default=None, description="a warning; {name} placeholders")


class ClockSpec(BaseModel):
    """A clock of the policy: started and stopped by timeline events, due after a duration.

    The duration (``after``) is ``{minutes: VALUE}`` or ``{hours: VALUE}``; a VALUE is a number,
    ``{param: NAME}``, ``{event: FIELD}`` (a number of the event that started the clock),
    ``{by_rollback_type: {TYPE: VALUE}}`` or ``{min: [VALUE, ...]}``; checked when the policy
    compiles (:mod:`rollback_decision.policy.clocks`).
    """

    model_config = _STRICT
    section: str
    text: str = Field(description="what the deadline is; {name} placeholders")
    starts_on: list[str] = Field(min_length=1, description="event types that start it")
    stops_on: list[str] = Field(default_factory=list, description="event types that stop it")
    after: dict[str, Any]
    repeat: bool = Field(default=False, description="due again every 'after' until stopped")
    restart: bool = Field(
        default=True, description="a start while it runs starts it again (else it keeps running)"
    )
    on_expiry: ClockExpirySpec = Field(default_factory=ClockExpirySpec)


class PolicyMeta(BaseModel):
    model_config = _STRICT
    name: str
    version: str
    title: str = ""
    source: str = ""


class PolicyDocument(BaseModel):
    """One rule file. Every section is optional; together the files must hold them all."""

    model_config = _STRICT
    policy: PolicyMeta | None = None
    pipeline: list[Id] | None = None
    parameters: dict[Id, ParameterSpec] = Field(default_factory=dict)
    roles: dict[Id, RoleSpec] = Field(default_factory=dict)
    approvals: dict[Id, ApprovalSpec] = Field(default_factory=dict)
    authorities: dict[Id, AuthoritySpec] = Field(default_factory=dict)
    actions: dict[Id, ActionSpec] = Field(default_factory=dict)
    rollback_types: dict[int, RollbackTypeSpec] = Field(default_factory=dict)
    tables: list[TableSpec] = Field(default_factory=list)
    phases: dict[Id, PhaseSpec] = Field(default_factory=dict)
    procedures: dict[Id, ProcedureSpec] = Field(default_factory=dict)
    checklists: dict[Id, ChecklistSpec] = Field(default_factory=dict)
    monitoring: dict[Id, MonitoringSpec] = Field(default_factory=dict)
    warnings: dict[Id, WarningSpec] = Field(default_factory=dict)
    stakeholder_groups: dict[Id, StakeholderGroupSpec] = Field(default_factory=dict)
    messages: dict[Id, MessageSpec] = Field(default_factory=dict)
    communication_plans: dict[Id, CommunicationPlanSpec] = Field(default_factory=dict)
    post_mortems: dict[Id, PostMortemSpec] = Field(default_factory=dict)
    #: The policy's clocks (``rules/clocks.yaml``), read by incident timelines.
    clocks: dict[Id, ClockSpec] = Field(default_factory=dict)
