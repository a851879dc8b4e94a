"""The native engine's generated pipeline computes what the interpreted tables compute.

``decide()`` runs the policy as one generated function per policy, and remembers parts of
decisions in the policy's runtime. The tables as interpreted by ``engine.core.run`` with the
per-rule predicates (the reference the verifier and the durable engine are held to) and a
decision made with nothing remembered are the yardsticks.
"""

from __future__ import annotations

from hypothesis import given

from rollback_decision import Incident, Policy, decide, load_policy
from rollback_decision.engine import core, native
from rollback_decision.strategies import incidents
from tests.conftest import EXAMPLES
from tests.property.settings import SETTINGS

SHIPPED: Policy = load_policy()
ORG: Policy = load_policy(EXAMPLES / "org-policy.yaml")


class TestGeneratedPipeline:
    """STYLE: "Generated code for hot paths": the same answers as the interpreted rules."""

    @SETTINGS
    @given(incidents())
    def test_generated_pipeline_fires_the_rules_the_interpreted_tables_fire(
        self, incident: Incident
    ) -> None:
        for policy in (SHIPPED, ORG):
            expected = core.run(policy, incident, native.match)
            got = native.pipeline(policy).run(core.incident_facts(incident), remember=False)
            assert got == expected

    @SETTINGS
    @given(incidents())
    def test_remembered_decisions_equal_decisions_made_from_nothing(
        self, incident: Incident
    ) -> None:
        for policy in (SHIPPED, ORG):
            fresh = core.assemble(policy, core.run(policy, incident, native.match), remember=False)
            assert decide(incident, policy=policy, remember=False) == fresh
            assert decide(incident, policy=policy) == fresh
