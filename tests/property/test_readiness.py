"""Invariants of deployment readiness, over every plan the strategies draw."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rollback_decision import Policy
from rollback_decision.readiness import DeploymentPlan, Prerequisite, assess_readiness
from rollback_decision.strategies import deployment_plans
from tests.property.settings import SETTINGS

RANK = {"ready": 0, "conditional": 1, "blocked": 2}


class TestNoTestedRollbackIsNeverReady:
    """ROLLBACK TESTING REQUIREMENTS: "MANDATORY: Every deployment must have tested rollback"."""

    @SETTINGS
    @given(plan=deployment_plans(rollback_tests=[]))
    def test_a_plan_without_a_rollback_test_is_blocked(
        self, policy: Policy, plan: DeploymentPlan
    ) -> None:
        result = assess_readiness(plan, policy)
        assert result.verdict == "blocked"
        assert "readiness.untested" in [f.rule_id for f in result.findings]


class TestConfirmingAPrerequisiteNeverMakesTheVerdictWorse:
    """PREREQUISITES of each component: confirming one can only help."""

    @SETTINGS
    @given(plan=deployment_plans(), prerequisite=st.sampled_from(Prerequisite))
    def test_confirming_one_more_prerequisite_never_worsens_the_verdict(
        self, policy: Policy, plan: DeploymentPlan, prerequisite: Prerequisite
    ) -> None:
        confirmed = plan.model_copy(
            update={"prerequisites": {**plan.prerequisites, prerequisite: True}}
        )
        before = assess_readiness(plan, policy).verdict
        after = assess_readiness(confirmed, policy).verdict
        assert RANK[after] <= RANK[before]


class TestGrantingTheRequiredApprovalsMeetsThem:
    """TYPE 5: "Prevention: Extra scrutiny during approval" — once granted, it is met."""

    @SETTINGS
    @given(plan=deployment_plans())
    def test_granting_every_missing_approval_leaves_none_missing_and_never_worsens(
        self, policy: Policy, plan: DeploymentPlan
    ) -> None:
        before = assess_readiness(plan, policy)
        granted = plan.model_copy(
            update={"approvals": [*plan.approvals, *before.missing_approvals]}
        )
        after = assess_readiness(granted, policy)
        assert after.missing_approvals == []
        assert RANK[after.verdict] <= RANK[before.verdict]
        assert before.verdict != "ready" or not before.missing_approvals
