"""Deciding from Python: an incident in, a typed decision out, and a what-if on top of it."""

from rollback_decision import Incident, decide

incident = Incident.model_validate(
    {
        "related_to_deployment": True,
        "symptoms": ["minor_functional_issue"],
        "fix_forward_eta_minutes": 20,
        "change": {
            "components": ["application_code", "database_schema"],
            "data_scenario": "forward_compatible_schema",
        },
    }
)

decision = decide(incident)
print(decision.action.value, "— rollback type", decision.rollback_type)
for step in decision.rationale:
    print(f"  [{step.rule_id}] {step.text}")
if decision.authority is not None:
    print("decided by:", decision.authority.decided_by_name)

# What if the fix were ready in 5 minutes? Incidents are immutable: copy with an override.
quicker = decide(incident.model_copy(update={"fix_forward_eta_minutes": 5}))
print("with a 5-minute fix:", quicker.action.value)
