"""Deployment readiness: the policy's "MANDATORY: Every deployment must have tested rollback",
as a gate a deployment pipeline can call before the change goes out.

``assess_readiness(plan)`` evaluates the readiness tables of ``rules/readiness.yaml`` (rule
tables with ``subject: deployment_plan``) over a :class:`DeploymentPlan`.
"""

from rollback_decision.readiness.assess import (
    DeploymentPlanError,
    assess_readiness,
    load_plan,
    parse_plan,
    render_readiness,
    rollback_type_of,
)
from rollback_decision.readiness.model import (
    DeploymentPlan,
    Prerequisite,
    ReadinessFinding,
    ReadinessResult,
    RollbackTest,
    RolloutStrategy,
    Severity,
    TestEnvironment,
    Verdict,
)

__all__ = [
    "DeploymentPlan",
    "DeploymentPlanError",
    "Prerequisite",
    "ReadinessFinding",
    "ReadinessResult",
    "RollbackTest",
    "RolloutStrategy",
    "Severity",
    "TestEnvironment",
    "Verdict",
    "assess_readiness",
    "load_plan",
    "parse_plan",
    "render_readiness",
    "rollback_type_of",
]


def __dir__() -> list[str]:
    return __all__
