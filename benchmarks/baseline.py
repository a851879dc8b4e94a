"""A hand-written if-chain for the shipped policy: the speed baseline of the benchmark.

It computes what a hard-coded implementation would — action, authority row and rollback
type — and nothing else: no rationale, no plan, no policy data. The benchmark checks that it
agrees with decide() on every incident it times, so the comparison is like for like.
"""

from __future__ import annotations

from rollback_decision import Incident

TRIGGERS = frozenset(
    {
        "critical_production_errors",
        "performance_beyond_sla",
        "data_corruption",
        "security_vulnerability",
        "trading_logic_error",
        "system_instability",
        "unacceptable_business_impact",
    }
)
ETA = {
    "application_code": 5.0,
    "configuration": 5.0,
    "feature_flag": 1.0,
    "dependency": 30.0,
    "infrastructure": 60.0,
    "network": 60.0,
}


def classified_type(incident: Incident, can_roll_back: bool) -> int:
    change = incident.change
    components = set(change.components)
    scenario = change.data_scenario
    if not can_roll_back:
        return 5
    data_unaffected = scenario in ("no_data_changes", "backward_compatible_schema")
    if data_unaffected and change.rollout in ("canary", "blue_green"):
        return 1
    if data_unaffected and (change.behind_feature_flag or components <= {"feature_flag"}):
        return 1
    schema_back = scenario in ("forward_compatible_schema", "incompatible_schema")
    if change.data_written_in_new_format and schema_back:
        return 4
    if components & {"infrastructure", "network"}:
        return 4
    if schema_back:
        return 3
    if scenario == "backward_compatible_schema" and components <= {
        "application_code",
        "database_schema",
    }:
        return 2
    if components & {"database_schema", "dependency"} or len(components) > 1:
        return 3
    return 2


BUDGET = {2: 5.0, 3: 30.0, 4: 120.0}


def rollback_eta(incident: Incident, rtype: int) -> float | None:
    if incident.rollback_eta_minutes is not None:
        return incident.rollback_eta_minutes
    if rtype == 5:
        return None
    if rtype == 1:
        return 1.0
    change = incident.change
    total = sum(ETA[c] for c in change.components if c in ETA)
    if change.data_scenario == "incompatible_schema" or (
        change.data_scenario == "no_data_changes" and "database_schema" in change.components
    ):
        total += 30.0
    return total if total else BUDGET[rtype]


def rollback_type(incident: Incident, classified: int, eta: float | None) -> int:
    """The type moved up by a reported rollback time beyond its budget."""
    if incident.rollback_eta_minutes is None or eta is None or classified not in (2, 3):
        return classified
    if eta > 30.0:
        return 4
    if classified == 2 and eta > 5.0:
        return 3
    return classified


def risk(incident: Incident) -> str:
    if incident.rollback_risk is not None:
        return incident.rollback_risk
    change = incident.change
    schema_back = change.data_scenario in ("forward_compatible_schema", "incompatible_schema")
    backup_needed = change.data_scenario in (
        "incompatible_schema",
        "irreversible_transformation",
    ) or ("database_schema" in change.components)
    if (
        incident.previous_version_known_good is False
        or incident.rollback_tested is False
        or (change.data_written_in_new_format and schema_back)
        or (incident.verified_backup is False and backup_needed)
    ):
        return "high"
    if (
        incident.rollback_tested is None
        or incident.previous_version_known_good is None
        or (incident.verified_backup is None and backup_needed)
    ):
        return "unknown"
    return "low"


def decide_by_hand(incident: Incident) -> tuple[str, str | None, int | None]:
    """(action, authority row id, rollback type) for the shipped policy."""
    change = incident.change
    critical = (
        not TRIGGERS.isdisjoint(incident.symptoms)
        or incident.production_down
        or incident.critical_path_affected
        or incident.severity == "critical"
    )
    can_roll_back = not (
        change.point_of_no_return
        or change.data_scenario == "irreversible_transformation"
        or incident.rollback_possible is False
    )
    fix = incident.fix_forward_eta_minutes
    if not incident.production_issue:
        return "no_action", None, None
    if incident.related_to_deployment is False:
        return (
            "investigate",
            ("production_down_unrelated" if incident.production_down else None),
            None,
        )
    classified = classified_type(incident, can_roll_back)
    eta = rollback_eta(incident, classified)
    rtype = rollback_type(incident, classified, eta)
    high_risk = risk(incident) == "high"
    if incident.related_to_deployment is None:
        action = "escalate"
    elif not can_roll_back:
        action = "must_fix_forward"
    elif critical:
        action = "immediate_rollback"
    elif incident.partial_deployment and not high_risk:
        action = "rollback"
    elif fix is not None and fix < 15:
        action = "fix_forward"
    elif high_risk:
        action = "evaluate_risk"
    else:
        action = "fix_forward" if fix is not None and eta is not None and fix < eta else "rollback"
    if incident.related_to_deployment is None:
        authority = "uncertain"
    elif incident.production_down:
        authority = "production_down"
    elif critical:
        authority = "critical_running"
    else:
        authority = "non_critical"
    return action, authority, rtype
