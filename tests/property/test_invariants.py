"""The decision-consistency invariants, on random incidents under the shipped policy.

Each test runs one invariant of :mod:`rollback_decision.invariants` (the same suite
``rollback-decision verify`` runs exhaustively) on incidents drawn by the public strategies.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rollback_decision import Action, Decision, Incident, Policy, decide, load_policy
from rollback_decision.invariants import INVARIANTS, Invariant, check_incident, get_invariant
from rollback_decision.strategies import changes, incidents
from tests.property.settings import SETTINGS

POLICY: Policy = load_policy()


def holds(name: str, incident: Incident) -> None:
    invariant: Invariant = get_invariant(name)
    decision = decide(incident, policy=POLICY)
    message = invariant.check(POLICY, incident, decision)
    assert message is None, f"{invariant.name} ({invariant.clause}): {message}"


class TestDecisionTree:
    """ROLLBACK DECISION FRAMEWORK › DECISION TREE: "1. IS THERE A PRODUCTION ISSUE? NO → No
    rollback needed, continue monitoring. 2. IS IT RELATED TO RECENT DEPLOYMENT? NO →
    Investigate other causes, don't rollback. [...] 5. IS ROLLBACK POSSIBLE? NO → Must fix
    forward.\""""

    @SETTINGS
    @given(incidents(production_issue=False))
    def test_no_production_issue_means_no_action(self, incident: Incident) -> None:
        assert decide(incident, policy=POLICY).action is Action.NO_ACTION
        holds("no_production_issue_means_no_action", incident)

    @SETTINGS
    @given(incidents(related_to_deployment=False))
    def test_unrelated_issue_is_never_rolled_back(self, incident: Incident) -> None:
        assert not decide(incident, policy=POLICY).action.is_rollback
        holds("unrelated_issue_is_never_rolled_back", incident)

    @SETTINGS
    @given(
        st.one_of(
            incidents(rollback_possible=False),
            incidents(
                change=changes(
                    point_of_no_return=st.lists(
                        st.sampled_from(["one_way_migration", "destructive_data_operation"]),
                        min_size=1,
                        unique=True,
                    )
                )
            ),
        )
    )
    def test_what_cannot_be_rolled_back_is_never_rolled_back(self, incident: Incident) -> None:
        """TYPE 5: POINT OF NO RETURN: "For these: Fix forward only"."""
        assert not decide(incident, policy=POLICY).action.is_rollback
        holds("what_cannot_be_rolled_back_is_never_rolled_back", incident)


class TestMonotonicity:
    """ "3. IS THE IMPACT CRITICAL? CRITICAL → Immediate rollback" and "4. CAN IT BE FIXED
    FORWARD QUICKLY? YES (< 15 min) → Consider fix forward": more severity never calls for a
    slower action or a weaker authority; a later fix never makes fixing forward the answer."""

    @SETTINGS
    @given(incidents(production_issue=True))
    def test_higher_severity_never_slows_or_weakens_the_decision(self, incident: Incident) -> None:
        holds("higher_severity_never_slows_or_weakens_the_decision", incident)

    @SETTINGS
    @given(incidents(production_issue=True, related_to_deployment=True))
    def test_later_fix_never_turns_a_rollback_into_a_fix_forward(self, incident: Incident) -> None:
        holds("later_fix_never_turns_a_rollback_into_a_fix_forward", incident)

    @SETTINGS
    @given(
        incidents(production_issue=True, related_to_deployment=True),
        st.integers(min_value=0, max_value=120).map(float),
    )
    def test_equal_fix_and_rollback_times_default_to_rollback(
        self, incident: Incident, minutes: float
    ) -> None:
        """ "7. TIME TO ROLLBACK vs. TIME TO FIX? EQUAL → Default to rollback (safer)"."""
        tied = incident.model_copy(
            update={"fix_forward_eta_minutes": minutes, "rollback_eta_minutes": minutes}
        )
        holds("equal_fix_and_rollback_times_default_to_rollback", tied)


class TestDecisions:
    """DECISION AUTHORITY and the ROLLBACK CHECKLIST ("Rollback decision authority confirmed",
    "Decision points documented"): every incident gets one decision, the same every time, that
    survives JSON, and every rollback names who decides and who approves."""

    @SETTINGS
    @given(incidents())
    def test_every_incident_gets_a_decision(self, incident: Incident) -> None:
        assert isinstance(decide(incident, policy=POLICY), Decision)

    @SETTINGS
    @given(incidents())
    def test_decision_is_deterministic(self, incident: Incident) -> None:
        holds("decision_is_deterministic", incident)

    @SETTINGS
    @given(incidents())
    def test_decision_round_trips_through_json(self, incident: Incident) -> None:
        holds("decision_round_trips_through_json", incident)

    @SETTINGS
    @given(incidents(production_issue=True, related_to_deployment=True))
    def test_every_rollback_names_its_authority_and_approvers(self, incident: Incident) -> None:
        holds("every_rollback_names_its_authority_and_approvers", incident)

    @SETTINGS
    @given(incidents())
    def test_the_whole_suite_holds(self, incident: Incident) -> None:
        violations = [str(v) for v in check_incident(POLICY, incident)]
        assert violations == []


def test_every_invariant_has_a_property_test() -> None:
    names = {
        name
        for cls in (TestDecisionTree, TestMonotonicity, TestDecisions)
        for name in vars(cls)
        if name.startswith("test_")
    }
    assert {f"test_{i.name}" for i in INVARIANTS} <= names
