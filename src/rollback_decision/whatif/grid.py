"""What-if grids: one incident, any number of fields varied, every combination decided."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.engine import EngineName
from rollback_decision.errors import IncidentError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy
from rollback_decision.whatif.batch import HEADLINE, decide_frame, headline
from rollback_decision.whatif.fields import FIELDS, resolve_field

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["base_row", "grid_frame", "pivot", "sweep_grid"]


def base_row(base: Incident | Mapping[str, Any]) -> dict[str, Any]:
    """The incident as one flat row: a column per field (``change.FIELD`` for the change)."""
    incident = parse_incident(base)
    data = incident.model_dump(mode="json")
    change = data.pop("change")
    row = {column: data[column] for column in FIELDS if column in data}
    row.update({f"change.{k}": v for k, v in change.items()})
    return row


def grid_frame(
    base: Incident | Mapping[str, Any], axes: Mapping[str, Sequence[Any]]
) -> tuple[pd.DataFrame, list[str]]:
    """Every combination of ``axes`` over ``base``, one row each (the swept columns first)."""
    import pandas as pd

    columns = [resolve_field(name) for name in axes]
    if len(set(columns)) != len(columns):
        raise IncidentError(source=None, field=None, message="a field is swept twice")
    values = [list(v) for v in axes.values()]
    for name, options in zip(columns, values, strict=True):
        if not options:
            raise IncidentError(source=None, field=name, message="no values to sweep")
    rows = list(itertools.product(*values))
    frame = pd.DataFrame(
        {c: pd.Series([r[i] for r in rows], dtype=object) for i, c in enumerate(columns)}
    )
    fixed = base_row(base)
    for column in FIELDS:
        if column not in columns:
            frame[column] = pd.Series([fixed[column]] * len(rows), dtype=object)
    return frame, columns


def sweep_grid(
    base: Incident | Mapping[str, Any],
    axes: Mapping[str, Sequence[Any]],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> pd.DataFrame:
    """Decide ``base`` for every combination of the values of ``axes`` (field → values; dotted
    fields reach into ``change``). One row per combination: the swept fields, then the
    decision's headline columns."""
    frame, columns = grid_frame(base, axes)
    decided = decide_frame(frame, policy=policy, engine=engine)
    names = headline(columns)
    keep = columns + [names[name] for name in HEADLINE]
    return decided[keep].reset_index(drop=True)


def pivot(table: pd.DataFrame, index: str, columns: str, values: str = "action") -> pd.DataFrame:
    """Two swept fields as a grid of ``values`` (default: the action). Where other swept
    fields vary too, a cell lists every value it takes, in order, joined by " / "."""
    work = table.copy()
    for name in (index, columns):
        work[name] = work[name].map(_label)
    return work.pivot_table(
        index=index,
        columns=columns,
        values=values,
        aggfunc=lambda s: " / ".join(dict.fromkeys(map(str, s))),
        sort=False,
    )


def _label(value: Any) -> Any:
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return value
