"""Notebook helpers: what-if questions and decisions as tables (needs the ``notebook`` extra).

    >>> from rollback_decision.notebook import what_if, sweep
    >>> what_if(base, {"fix_forward_eta_minutes": 5, "change.components": ["configuration"]})
    >>> sweep(base, "fix_forward_eta_minutes", [5, 10, 15, 30, None])   # a pandas DataFrame
    >>> grid = sweep(base, {"fix_forward_eta_minutes": [5, 20], "change.data_scenario": [...]})
    >>> pivot(grid, "fix_forward_eta_minutes", "change.data_scenario")  # actions as a grid
    >>> decide_frame(history)            # a DataFrame of incidents in, headline columns added
    >>> counterfactuals(base)            # the smallest changes of facts that change the action
    >>> why_not(base, "rollback")        # what would have to be true for that action
    >>> show(decide(base))               # rich display (HTML and Markdown) in Jupyter

A what-if merges overrides over a base incident (dotted keys reach into ``change``); the base
is never modified. Tables have one row per decision, ready to filter, pivot or plot.
Batch helpers decide each distinct class of incidents once (:mod:`rollback_decision.whatif`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.decision import Decision
from rollback_decision.engine import EngineName, decide
from rollback_decision.errors import IncidentError
from rollback_decision.facts import Change, Incident, parse_incident
from rollback_decision.policy import Policy
from rollback_decision.whatif.batch import HEADLINE, decide_frame, decide_many, decision_row
from rollback_decision.whatif.counterfactuals import counterfactuals, why_not
from rollback_decision.whatif.display import show
from rollback_decision.whatif.grid import pivot, sweep_grid

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "counterfactuals",
    "decide_frame",
    "decide_many",
    "decision_row",
    "decisions_table",
    "pivot",
    "rationale_table",
    "show",
    "sweep",
    "what_if",
    "why_not",
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


def decisions_table(
    incidents: Iterable[Incident | Mapping[str, Any]],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> pd.DataFrame:
    """One row per incident: its decision's action, type, authority and rule ids."""
    decisions = decide_many(incidents, policy=policy, engine=engine)
    return _frame()([decision_row(d) for d in decisions])


def sweep(
    base: Incident | Mapping[str, Any],
    field: str | Mapping[str, Sequence[Any]],
    values: Sequence[Any] | None = None,
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> pd.DataFrame:
    """Decide ``base`` over a grid of field values.

    ``sweep(base, {"fix_forward_eta_minutes": [...], "change.data_scenario": [...]})``: every
    combination, one row each, with a column per swept field and the decision's headline
    columns (:func:`pivot` shows two axes as a grid). ``sweep(base, FIELD, VALUES)``: one
    field, the table indexed by its value.
    """
    if isinstance(field, str):
        if values is None:
            raise TypeError("sweep(base, FIELD, VALUES): name the values to sweep")
        from rollback_decision.whatif.fields import resolve_field

        column = resolve_field(field)
        table = sweep_grid(base, {column: values}, policy=policy, engine=engine)
        # The value is the index: the headline keeps its plain names, as it always had.
        plain = {f"decision.{name}": name for name in HEADLINE}
        return table.set_index(column).rename_axis(field).rename(columns=plain)
    if values is not None:
        raise TypeError("sweep(base, {FIELD: VALUES, ...}) takes the values in the mapping")
    return sweep_grid(base, field, policy=policy, engine=engine)


def rationale_table(decision: Decision) -> pd.DataFrame:
    """The rationale, one row per step: rule id, policy section and text."""
    rows = [step.model_dump() for step in decision.rationale]
    return _frame()(rows, columns=["rule_id", "section", "text"])
