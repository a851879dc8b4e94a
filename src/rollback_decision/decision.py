"""Stage 4 of the pipeline: the typed decision the engine returns.

A ``Decision`` is immutable and round-trips through JSON
(``Decision.model_validate(d.model_dump(mode="json")) == d``).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Action",
    "Authority",
    "Checklist",
    "Communication",
    "Decision",
    "DecisionWarning",
    "Message",
    "Monitoring",
    "PlanStep",
    "PolicyIdentity",
    "PostMortem",
    "RationaleStep",
    "StakeholderGroup",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Action(StrEnum):
    """What the policy recommends. Ordered here from the most to the least urgent."""

    IMMEDIATE_ROLLBACK = "immediate_rollback"
    ROLLBACK = "rollback"
    EVALUATE_RISK = "evaluate_risk"
    MUST_FIX_FORWARD = "must_fix_forward"
    FIX_FORWARD = "fix_forward"
    ESCALATE = "escalate"
    INVESTIGATE = "investigate"
    NO_ACTION = "no_action"

    @property
    def is_rollback(self) -> bool:
        return self in (Action.IMMEDIATE_ROLLBACK, Action.ROLLBACK)


class RationaleStep(BaseModel):
    """One step of the reasoning: the rule that made it and the policy section behind it."""

    model_config = _FROZEN

    rule_id: str
    section: str
    text: str
    fired: bool = Field(
        default=True,
        description=(
            "The rule fired; false for what an earlier rule of a first-match table says when "
            "it does not fire (its if_not text)."
        ),
    )


class Authority(BaseModel):
    """Who decides and who approves ("DECISION AUTHORITY")."""

    model_config = _FROZEN

    situation: str
    decided_by: str = Field(description="Role id of the decision maker.")
    decided_by_name: str = Field(description="How the policy names that role.")
    approval: str = Field(description="Approval kind id.")
    approval_name: str
    min_approvers: int = Field(ge=0, description="Approvals needed before acting.")
    approvers: list[str] = Field(default_factory=list, description="Role ids who approve.")
    notify: list[str] = Field(default_factory=list, description="Role ids to notify.")
    notify_names: list[str] = Field(
        default_factory=list, description="How the policy names the roles to notify."
    )
    section: str


class PlanStep(BaseModel):
    """One step of what to do next, in the order to do it."""

    model_config = _FROZEN

    number: int = Field(ge=1)
    text: str
    section: str
    source: str = Field(description="Id of the procedure or scenario the step comes from.")
    phase: str = Field(description="Id of the plan phase; steps are ordered by phase.")
    duration: str | None = None
    command: str | None = None
    validation: str | None = None
    checks: list[str] = Field(
        default_factory=list, description="Items to confirm (prerequisites, validation)."
    )


class Checklist(BaseModel):
    """A checklist to work through (before / during / after, validation areas)."""

    model_config = _FROZEN

    id: str
    title: str
    section: str
    items: list[str]


class Monitoring(BaseModel):
    """How long and what to watch after the action."""

    model_config = _FROZEN

    id: str
    duration: str
    focus: list[str] = Field(default_factory=list)
    section: str


class DecisionWarning(BaseModel):
    """A prerequisite the facts show as unmet or unknown."""

    model_config = _FROZEN

    id: str
    section: str
    text: str


class StakeholderGroup(BaseModel):
    """Who is told, by kind of change ("STAKEHOLDERS BY CHANGE TYPE")."""

    model_config = _FROZEN

    id: str
    title: str
    section: str
    members: list[str]


class Message(BaseModel):
    """A notification to send; ``[PLACEHOLDERS]`` of the policy are left for a person to fill."""

    model_config = _FROZEN

    id: str
    title: str
    channel: str
    section: str
    subject: str | None = None
    text: str


class PostMortem(BaseModel):
    """The post-mortem a rollback requires ("ROLLBACK POST-MORTEM")."""

    model_config = _FROZEN

    id: str
    title: str
    section: str
    within_hours: float
    attendees: list[str]
    agenda: list[str] = Field(default_factory=list)
    deliverables: list[str] = Field(default_factory=list)


class Communication(BaseModel):
    """Who to tell and what to send ("ROLLBACK COMMUNICATION", "ROLLBACK POST-MORTEM")."""

    model_config = _FROZEN

    id: str
    section: str
    recipients: str
    channels: list[str]
    update_every_minutes: float | None = None
    stakeholders: list[StakeholderGroup] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    post_mortem: PostMortem | None = None


class PolicyIdentity(BaseModel):
    """Which exact policy made a decision."""

    model_config = _FROZEN

    name: str
    version: str
    content_hash: str = Field(description="sha256 of the policy's rule files.")


class Decision(BaseModel):
    """What the policy recommends for one incident, and why."""

    model_config = _FROZEN

    action: Action
    authority: Authority | None = Field(
        description="Null where no decision needs authority (no_action, investigate)."
    )
    rollback_type: int | None = Field(
        ge=1, le=5, description="Rollback type 1-5; null where no rollback is in question."
    )
    rollback_eta_minutes: float | None = Field(
        default=None, description="Rollback time used at step 7 (given or estimated)."
    )
    rollback_eta_estimated: bool = Field(
        default=False, description="The rollback time was estimated from the procedures."
    )
    rationale: list[RationaleStep] = Field(min_length=1)
    plan: list[PlanStep] = Field(default_factory=list)
    checklists: list[Checklist] = Field(default_factory=list)
    monitoring: list[Monitoring] = Field(default_factory=list)
    warnings: list[DecisionWarning] = Field(default_factory=list)
    communication: Communication | None = None
    policy: PolicyIdentity

    @property
    def rule_ids(self) -> list[str]:
        """The ids of the rules that fired to make this decision, in order (a rationale step
        saying why an earlier rule did not fire is not among them)."""
        return [step.rule_id for step in self.rationale if step.fired]

    def _repr_html_(self) -> str:
        """How Jupyter shows a decision (:func:`rollback_decision.whatif.display.decision_html`)."""
        from rollback_decision.whatif.display import decision_html

        return decision_html(self)


def deprecated_names(module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving the deprecated ``Warning`` (the old name of
    :class:`DecisionWarning`, which shadowed the builtin) with a ``DeprecationWarning``."""

    def __getattr__(name: str) -> Any:
        if name == "Warning":
            _warnings.warn(
                f"{module}.Warning is deprecated (it shadows the builtin): use DecisionWarning",
                DeprecationWarning,
                stacklevel=2,
            )
            return DecisionWarning
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


__getattr__ = deprecated_names(__name__)
