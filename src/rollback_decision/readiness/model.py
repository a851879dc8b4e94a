"""The typed facts of a deployment plan ("ROLLBACK TESTING & VALIDATION", the components'
PREREQUISITES, "ROLLBACK BEST PRACTICES"), and the typed result of assessing one.

Same conventions as :class:`~rollback_decision.facts.Incident`: frozen, unknown fields refused,
booleans only from booleans, numbers only from numbers. What the policy makes of a plan lives
in ``rules/readiness.yaml``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rollback_decision.decision import PolicyIdentity
from rollback_decision.facts import Change

__all__ = [
    "DeploymentPlan",
    "Prerequisite",
    "ReadinessFinding",
    "ReadinessResult",
    "RollbackTest",
    "RolloutStrategy",
    "Severity",
    "TestEnvironment",
    "Verdict",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Prerequisite(StrEnum):
    """The PREREQUISITES of the component procedures ("ROLLBACK PROCEDURES BY COMPONENT").

    "Rollback tested" (during deployment planning, in staging) is the plan's rollback test
    record, not a prerequisite flag.
    """

    # APPLICATION CODE ROLLBACK
    PREVIOUS_VERSION_AVAILABLE = "previous_version_available"
    PREVIOUS_VERSION_KNOWN_GOOD = "previous_version_known_good"
    DEPLOYMENT_AUTOMATION_FUNCTIONAL = "deployment_automation_functional"
    # DATABASE SCHEMA ROLLBACK
    DOWN_MIGRATION_TESTED = "down_migration_tested"
    BACKUP_VERIFIED = "backup_verified"
    DATA_COMPATIBILITY_VERIFIED = "data_compatibility_verified"
    # CONFIGURATION ROLLBACK
    PREVIOUS_CONFIGURATION_BACKED_UP = "previous_configuration_backed_up"
    CONFIGURATION_VALIDATION_TOOL_AVAILABLE = "configuration_validation_tool_available"
    # FEATURE FLAG ROLLBACK
    FEATURE_FLAG_SYSTEM_OPERATIONAL = "feature_flag_system_operational"
    FLAG_TOGGLE_TESTED = "flag_toggle_tested"
    FLAG_STATE_MONITORED = "flag_state_monitored"
    # DEPENDENCY ROLLBACK
    PREVIOUS_DEPENDENCY_VERSION_AVAILABLE = "previous_dependency_version_available"
    DEPENDENCY_COMPATIBILITY_VERIFIED = "dependency_compatibility_verified"


class RolloutStrategy(StrEnum):
    """How the change goes out ("DEPLOYMENT BEST PRACTICES")."""

    ALL_AT_ONCE = "all_at_once"
    CANARY = "canary"
    GRADUAL = "gradual"
    BLUE_GREEN = "blue_green"


class TestEnvironment(StrEnum):
    """Where a rollback was tested ("When to Test: In staging environment")."""

    __test__ = False  # not a pytest test class

    STAGING = "staging"
    PRODUCTION = "production"
    DEVELOPMENT = "development"
    OTHER = "other"


#: The Test Documentation fields, as a plan names them.
TEST_DOCUMENTATION_FIELDS = (
    "date",
    "environment",
    "tester",
    "rollback_time_minutes",
    "issues_found",
    "modifications",
    "final_validation",
)


class RollbackTest(BaseModel):
    """One rollback test, documented as "ROLLBACK TESTING REQUIREMENTS › Test Documentation"
    asks. A field left out (null) is undocumented, and reported as missing."""

    __test__ = False  # not a pytest test class
    model_config = _FROZEN

    date: dt.date | None = Field(default=None, description="Rollback procedure tested: [Date].")
    environment: TestEnvironment | None = Field(default=None, description="Test environment.")
    tester: str | None = Field(default=None, min_length=1, max_length=200)
    rollback_time_minutes: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, strict=True, description="Rollback time."
    )
    issues_found: list[str] | None = Field(
        default=None, description="Issues found ([] when none were)."
    )
    modifications: list[str] | None = Field(
        default=None, description="Modifications made to the procedure ([] when none)."
    )
    final_validation: Literal["pass", "fail"] | None = Field(
        default=None, description="Final validation: pass or fail."
    )
    production_like_data: bool | None = Field(
        strict=True, default=None, description="Tested with production-like data."
    )
    under_load: bool | None = Field(strict=True, default=None, description="Tested under load.")

    def missing_documentation(self) -> list[str]:
        """The Test Documentation fields this record leaves out, in the policy's order."""
        return [name for name in TEST_DOCUMENTATION_FIELDS if getattr(self, name) is None]


class DeploymentPlan(BaseModel):
    """A deployment about to go out, as a pipeline asks about it before deploying."""

    model_config = _FROZEN

    change: Change = Field(default_factory=Change, description="What will be deployed.")
    rollback_tests: list[RollbackTest] = Field(
        default_factory=list,
        max_length=100,
        description="The rollback tests, oldest first; the last is the one that counts.",
    )
    prerequisites: dict[Prerequisite, bool | None] = Field(
        default_factory=dict,
        description="Prerequisites confirmed (true), known unmet (false) or unknown (null or "
        "left out).",
    )
    performance_critical: bool = Field(
        strict=True, default=False, description="Rollback must then be tested under load."
    )
    high_risk: bool = Field(
        strict=True, default=False, description="A high-risk feature (flags, canary advised)."
    )
    rollout_strategy: RolloutStrategy = Field(default=RolloutStrategy.ALL_AT_ONCE)
    low_traffic_window: bool | None = Field(
        strict=True, default=None, description="The planned window is a low-traffic period."
    )
    approvals: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Ids of approvals (rules/authority.yaml 'approvals') already granted.",
    )

    def confirmed(self, prerequisite: Prerequisite) -> bool | None:
        return self.prerequisites.get(prerequisite)

    @property
    def final_test(self) -> RollbackTest | None:
        """The rollback test that counts: the last one documented."""
        return self.rollback_tests[-1] if self.rollback_tests else None


class Severity(StrEnum):
    """What a readiness rule's finding does to the verdict."""

    #: nothing to report
    PASS = "pass"
    #: reported; the verdict does not change (a best practice)
    ADVISORY = "advisory"
    #: conditional until met (a rule with an approval is met once the plan holds it)
    CONDITION = "condition"
    #: blocked
    BLOCKER = "blocker"


Verdict = Literal["ready", "conditional", "blocked"]


class ReadinessFinding(BaseModel):
    model_config = _FROZEN

    rule_id: str
    table: str
    section: str
    severity: Severity
    text: str
    approval: str | None = Field(default=None, description="Approval id that meets it.")
    met: bool = Field(default=False, description="The plan holds the approval that meets it.")


class ReadinessResult(BaseModel):
    """May this change go out, and under what conditions?"""

    model_config = _FROZEN

    verdict: Verdict
    findings: list[ReadinessFinding]
    rollback_type: int = Field(ge=1, le=5)
    rollback_type_name: str
    rollback_budget_minutes: float | None = Field(description="Null for type 5.")
    required_approvals: list[str] = Field(description="Approval ids the change needs.")
    missing_approvals: list[str] = Field(description="Required approvals not yet granted.")
    missing_test_documentation: list[str]
    policy: PolicyIdentity
