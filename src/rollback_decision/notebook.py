"""Notebook helpers: what-if questions and decisions as tables (needs the ``notebook`` extra).

    >>> from rollback_decision.notebook import what_if, sweep
    >>> what_if(base, {"fix_forward_eta_minutes": 5, "change.components": ["configuration"]})
    >>> sweep(base, "fix_forward_eta_minutes", [5, 10, 15, 30, None])   # a pandas DataFrame

A what-if merges overrides over a base incident (dotted keys reach into ``change``); the base
is never modified. Tables have one row per decision, ready to filter, pivot or plot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.decision import Decision
from rollback_decision.engine import EngineName, decide
from rollback_decision.errors import IncidentError
from rollback_decision.facts import Change, Incident, parse_incident
from rollback_decision.policy import Policy

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "decision_row",
    "decisions_table",
    "rationale_table",
    "sweep",
    "what_if",
    "with_overrides",
]


def _frame() -> type[pd.DataFrame]:
    try:
        from pandas import DataFrame
    except ModuleNotFoundError:  # pragma: no cover - depends on the installation
        raise ModuleNotFoundError(
            "tables need pandas: pip install 'rollback-decision[notebook]'"
        ) from None
    return DataFrame


def with_overrides(base: Incident | Mapping[str, Any], overrides: Mapping[str, Any]) -> Incident:
    """``base`` with ``overrides`` merged over it; ``change.FIELD`` keys reach into the change.

    Unknown fields raise :class:`IncidentError` (a ``ValueError``) naming them.
    """
    incident = parse_incident(base)
    data = incident.model_dump()
    for key, value in overrides.items():
        head, dot, field = key.partition(".")
        if dot and head == "change":
            if field not in Change.model_fields:
                raise IncidentError(source=None, field=key, message="unknown field")
            data["change"][field] = value
        elif head == "change" and isinstance(value, Mapping):
            data["change"].update(value)
        else:
            data[key] = value
    return parse_incident(data)


def what_if(
    base: Incident | Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> Decision:
    """The decision for ``base`` with ``overrides`` applied."""
    return decide(with_overrides(base, overrides or {}), policy=policy, engine=engine)


def decision_row(decision: Decision) -> dict[str, Any]:
    """The headline of a decision as a flat mapping (one table row)."""
    authority = decision.authority
    return {
        "action": decision.action.value,
        "rollback_type": decision.rollback_type,
        "rollback_eta_minutes": decision.rollback_eta_minutes,
        "situation": authority.situation if authority else None,
        "decided_by": authority.decided_by if authority else None,
        "approval": authority.approval if authority else None,
        "min_approvers": authority.min_approvers if authority else None,
        "rules": " → ".join(decision.rule_ids),
    }


def decisions_table(
    incidents: Iterable[Incident | Mapping[str, Any]],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> pd.DataFrame:
    """One row per incident: its decision's action, type, authority and rule ids."""
    rows = [decision_row(decide(i, policy=policy, engine=engine)) for i in incidents]
    return _frame()(rows)


def sweep(
    base: Incident | Mapping[str, Any],
    field: str,
    values: Sequence[Any],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> pd.DataFrame:
    """Decide ``base`` once per value of ``field``; the table is indexed by that value."""
    rows = []
    for value in values:
        row = decision_row(what_if(base, {field: value}, policy=policy, engine=engine))
        rows.append({field: value, **row})
    return _frame()(rows).set_index(field)


def rationale_table(decision: Decision) -> pd.DataFrame:
    """The rationale, one row per step: rule id, policy section and text."""
    rows = [step.model_dump() for step in decision.rationale]
    return _frame()(rows, columns=["rule_id", "section", "text"])
