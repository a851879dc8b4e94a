"""rollback_decision: an operations policy for rolling back bad deployments, as typed,
testable rules.

The pipeline a decision flows through, one module or package per stage::

    facts (Incident) → policy (load, validate, compile rules/) → engine (decide) → Decision
                                                               → front ends (cli, notebook)
"""

from rollback_decision.decision import (
    Action,
    Authority,
    Checklist,
    Communication,
    Decision,
    DecisionWarning,
    Message,
    Monitoring,
    PlanStep,
    PolicyIdentity,
    PostMortem,
    RationaleStep,
    StakeholderGroup,
    deprecated_names,
)
from rollback_decision.engine import decide
from rollback_decision.errors import (
    DecisionError,
    EngineUnavailableError,
    IncidentError,
    PolicyError,
    PolicyProblem,
    RollbackDecisionError,
    TimelineError,
)
from rollback_decision.facts import (
    Change,
    Component,
    DataScenario,
    Incident,
    PointOfNoReturn,
    Rollout,
    Symptom,
    parse_incident,
)
from rollback_decision.policy import Policy, load_policy
from rollback_decision.timeline import IncidentSession
from rollback_decision.verify import DiffReport, VerifyReport, diff_policies, verify_policy

__all__ = [
    "Action",
    "Authority",
    "Change",
    "Checklist",
    "Communication",
    "Component",
    "DataScenario",
    "Decision",
    "DecisionError",
    "DecisionWarning",
    "DiffReport",
    "EngineUnavailableError",
    "Incident",
    "IncidentError",
    "IncidentSession",
    "Message",
    "Monitoring",
    "PlanStep",
    "PointOfNoReturn",
    "Policy",
    "PolicyError",
    "PolicyIdentity",
    "PolicyProblem",
    "PostMortem",
    "RationaleStep",
    "RollbackDecisionError",
    "Rollout",
    "StakeholderGroup",
    "Symptom",
    "TimelineError",
    "VerifyReport",
    "decide",
    "diff_policies",
    "load_policy",
    "parse_incident",
    "verify_policy",
]

__getattr__ = deprecated_names(__name__)  # the deprecated Warning
