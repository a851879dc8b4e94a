"""Issue 11: a decision's own parts never contradict each other, on random incidents under
the shipped policy (the public strategies draw every fact, the new ones included)."""

from __future__ import annotations

from hypothesis import given

from rollback_decision import Action, Incident, Policy, decide, load_policy
from rollback_decision.strategies import incidents
from tests.property.settings import SETTINGS

POLICY: Policy = load_policy()
IF_NOT = {rule.id: rule.if_not for table in POLICY.tables for rule in table.rules}

#: Warnings telling the responder to roll back now (complete the rollback everywhere).
ROLL_BACK_NOW = {"mixed_versions"}
#: Warnings that a prerequisite of the rollback is unmet or not known to be met.
PREREQUISITE_UNMET = {
    "rollback_not_tested",
    "rollback_test_unknown",
    "no_verified_backup",
    "backup_unknown",
    "data_in_new_format",
    "previous_version_not_known_good",
}
#: Procedures that roll code or a schema back (or a redeploy's type procedure).
CODE_OR_SCHEMA = {
    "type_2",
    "type_3",
    "type_4",
    "application_code",
    "database_schema",
    "data_backward_compatible",
    "data_forward_compatible",
    "data_incompatible",
    "data_corruption_code_rollback",
    "performance_code_rollback",
}


class TestDecisionIsConsistent:
    """ "Fix forward: When rollback not possible or riskier"; "TYPE 1: INSTANTANEOUS ROLLBACK
    [...] Single action rollback"; "APPLICATION CODE ROLLBACK › PREREQUISITES"."""

    @SETTINGS
    @given(incidents())
    def test_fix_forward_carries_no_roll_back_now_warning(self, incident: Incident) -> None:
        decision = decide(incident, policy=POLICY)
        if decision.action in (Action.FIX_FORWARD, Action.MUST_FIX_FORWARD):
            assert not {w.id for w in decision.warnings} & ROLL_BACK_NOW

    @SETTINGS
    @given(incidents(related_to_deployment=True, production_issue=True))
    def test_type_1_plan_has_no_code_or_schema_rollback_step(self, incident: Incident) -> None:
        decision = decide(incident, policy=POLICY)
        if decision.action.is_rollback and decision.rollback_type == 1:
            sources = {step.source for step in decision.plan}
            assert not sources & CODE_OR_SCHEMA, sources & CODE_OR_SCHEMA
            assert not any("Deploy the previous version" in s.text for s in decision.plan)

    @SETTINGS
    @given(incidents(related_to_deployment=True, production_issue=True, rollback_risk=None))
    def test_derived_low_risk_never_with_unmet_prerequisite_warning(
        self, incident: Incident
    ) -> None:
        decision = decide(incident, policy=POLICY)
        if "risk.low" in decision.rule_ids:
            assert not {w.id for w in decision.warnings} & PREREQUISITE_UNMET

    @SETTINGS
    @given(incidents())
    def test_every_rule_ids_entry_fired(self, incident: Incident) -> None:
        decision = decide(incident, policy=POLICY)
        fired = [step.rule_id for step in decision.rationale if step.fired]
        assert decision.rule_ids == fired
        said_unfired = {step.rule_id for step in decision.rationale if not step.fired}
        assert not said_unfired & set(decision.rule_ids)
        for step in decision.rationale:
            if not step.fired:
                assert IF_NOT[step.rule_id] is not None
