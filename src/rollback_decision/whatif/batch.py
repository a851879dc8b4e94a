"""Many decisions at once: each distinct class of incidents is decided once, the result shared.

Two incidents are in the same class when no rule of the policy can tell them apart in what
the headline of a decision shows (action, rollback type and time, authority, rule ids):

* a number is placed between the thresholds the policy compares it with
  (:class:`~rollback_decision.verify.domains.FactSpace` knows them); a number compared with
  a derived fact that depends on no such number (``fix_forward_eta_minutes`` against the
  rollback time) is also placed among that fact's values in its class, found by running the
  class's representative; any other number the rules compare with another fact, or copy into
  an output, keeps its raw value;
* booleans, enums and nulls are themselves, lists are their tuples;
* a fact no rule reads or copies cannot change the headline: it is validated, not keyed.

:func:`decide_frame` keys the rows of a DataFrame that way, vectorised per column, and decides
one representative row per class. :func:`decide_many` returns whole decisions (whose texts may
name any fact), so it shares a decision only between incidents with exactly the same facts.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.decision import Decision
from rollback_decision.engine import EngineName, decide, native
from rollback_decision.engine.core import incident_facts
from rollback_decision.errors import DecisionError, IncidentError
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import Policy, default_policy
from rollback_decision.verify.domains import FactSpace, is_number, table_needs
from rollback_decision.whatif.fields import FIELDS, set_field

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HEADLINE", "decide_frame", "decide_many", "decision_row", "fact_space", "headline"]

#: The headline of a decision, as table columns.
HEADLINE = (
    "action",
    "rollback_type",
    "rollback_eta_minutes",
    "situation",
    "decided_by",
    "approval",
    "min_approvers",
    "rules",
)


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


def headline(columns: Iterable[str]) -> dict[str, str]:
    """Headline name → the column it gets beside ``columns``: ``decision.NAME`` where an
    incident field has the same name (``rollback_eta_minutes``, reported vs used)."""
    taken = set(columns) | set(FIELDS)
    return {name: f"decision.{name}" if name in taken else name for name in HEADLINE}


def fact_space(policy: Policy) -> FactSpace:
    """The discretised fact space of ``policy`` (built once, kept by its runtime)."""
    return policy.runtime.once("whatif.fact_space", lambda: FactSpace([policy]))


def decide_many(
    incidents: Iterable[Incident | Mapping[str, Any]],
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
) -> list[Decision]:
    """The decision of each incident (Incidents or mappings of their fields), in order.

    Incidents with exactly the same facts share one decision, decided once. A mapping that is
    not an incident raises :class:`IncidentError` naming its position and field.
    """
    chosen = policy if policy is not None else default_policy()
    seen: dict[tuple[Any, ...], Decision] = {}
    out: list[Decision] = []
    for position, item in enumerate(incidents):
        try:
            incident = parse_incident(item)
        except IncidentError as exc:
            raise _at(exc, f"incident {position}") from None
        key = tuple(incident_facts(incident).values())
        found = seen.get(key)
        if found is None:
            found = seen[key] = decide(incident, policy=chosen, engine=engine, remember=False)
        out.append(found)
    return out


def _at(exc: IncidentError, where: str) -> IncidentError:
    return IncidentError.from_problems(where, exc.problems)


def _plain(value: Any) -> Any:
    """A cell as the models take it: numpy scalars as Python values, NaN as null, arrays and
    tuples as lists."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        value = item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (tuple, list)) or hasattr(value, "tolist"):
        return list(value.tolist() if hasattr(value, "tolist") else value)
    return value


def relative_facts(policy: Policy) -> frozenset[str]:
    """Input numbers compared with derived facts that depend on no such number: their class
    among the partners' values is found per class of the other facts (the partners' values
    are the same throughout one), so they need not keep their raw values."""

    def make() -> frozenset[str]:
        space = fact_space(policy)
        producers = policy.producers

        def inputs(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
            if name not in producers or name in seen:
                return {name}
            out: set[str] = set()
            for needed in table_needs(policy.table(producers[name])):
                out |= inputs(needed, seen | {name})
            return out

        numbers = {
            f for f in space.read if space.types[f].kind == "number" and space.number_partners(f)
        }
        # a copied number keeps its raw value: exact wherever it flows
        candidates = {f for f in numbers if f not in space.copies}
        return frozenset(
            f
            for f in candidates
            if all(
                p in producers and not (inputs(p) & candidates) for p in space.number_partners(f)
            )
        )

    return policy.runtime.once("whatif.relative_facts", make)


def _classifier(space: FactSpace, fact: str, relative: frozenset[str]) -> Callable[[Any], Hashable]:
    """How one input fact's value maps to its class under the policy (see the module doc)."""
    if fact not in space.read:
        return lambda value: 0
    kind = space.types[fact].kind
    if kind == "list":
        return lambda value: tuple(value) if value is not None else None
    partnered = space.number_partners(fact) and fact not in relative
    if kind != "number" or partnered or fact in space.copies:
        return lambda value: value
    cuts = sorted(space.number_thresholds(fact))

    def number(value: Any) -> Hashable:
        if value is None:
            return None
        at = bisect.bisect_left(cuts, value)
        return (at, at < len(cuts) and cuts[at] == value)

    return number


def decide_frame(
    frame: pd.DataFrame,
    *,
    policy: Policy | None = None,
    engine: EngineName = "native",
    remember: bool = True,
) -> pd.DataFrame:
    """``frame`` with the headline columns of each row's decision added (a new frame).

    Columns named after incident fields are facts (``change.FIELD`` for the change); a missing
    field takes its default, other columns pass through. The headline columns are
    :data:`HEADLINE`, ``decision.NAME`` where an incident field has the same name. A pure
    function of the frame: it maps unchanged over the partitions of a Dask DataFrame.
    A cell the models refuse raises :class:`IncidentError` naming its row and column.
    ``remember=False``: each class is decided afresh (no memo of the policy's runtime).
    """
    import numpy as np
    import pandas as pd

    chosen = policy if policy is not None else default_policy()
    space = fact_space(chosen)
    relative = relative_facts(chosen)
    rows = len(frame)
    names = headline(frame.columns)
    codes: list[Any] = []
    cells: dict[str, tuple[Any, Sequence[Any]]] = {}  # column → (row codes, plain uniques)
    for column, fact in FIELDS.items():
        if column not in frame.columns:
            continue
        kind = space.types[fact].kind
        series = frame[column]
        if kind == "list":
            ids: dict[Any, int] = {}
            tuples = [tuple(_plain(v) or ()) if not _missing_list(v) else None for v in series]
            row_codes = np.fromiter(
                (ids.setdefault(t, len(ids)) for t in tuples), dtype=np.int64, count=rows
            )
            uniques: list[Any] = [list(t) if t is not None else None for t in ids]
        else:
            row_codes, found = pd.factorize(series, use_na_sentinel=True)
            uniques = [_plain(v) for v in found]
            if (row_codes < 0).any():
                uniques.append(None)
                row_codes = np.where(row_codes < 0, len(uniques) - 1, row_codes)
        for code, value in enumerate(uniques):
            if not space.valid(fact, tuple(value) if isinstance(value, list) else value):
                _refuse(frame, column, row_codes, code, value)
        classify = _classifier(space, fact, relative)
        class_ids: dict[Hashable, int] = {}
        mapping = np.array(
            [class_ids.setdefault(classify(_key(v)), len(class_ids)) for v in uniques],
            dtype=np.int64,
        )
        codes.append(mapping[row_codes] if len(uniques) else row_codes)
        cells[column] = (row_codes, uniques)
    if rows == 0 or not codes:
        groups = np.zeros(rows, dtype=np.int64)
        firsts = np.zeros(min(rows, 1), dtype=np.int64)
    else:
        groups, firsts = _group(np.column_stack(codes))
        near = [c for c in cells if FIELDS[c] in relative]
        if near:
            groups, firsts = _refine(chosen, space, frame, cells, near, groups, firsts)
    results = []
    for first in firsts:
        incident = _representative(frame, cells, int(first))
        decision = decide(incident, policy=chosen, engine=engine, remember=remember)
        results.append(decision_row(decision))
    out = frame.copy()
    for name in HEADLINE:
        values = np.empty(len(results), dtype=object)
        values[:] = [result[name] for result in results]
        taken = values[groups] if rows else np.empty(0, dtype=object)
        out[names[name]] = pd.Series(taken, index=out.index, dtype=object)
    return out


def _representative(
    frame: Any, cells: Mapping[str, tuple[Any, Sequence[Any]]], row: int
) -> Incident:
    data: dict[str, Any] = {}
    for column, (column_codes, column_values) in cells.items():
        set_field(data, column, column_values[column_codes[row]])
    try:
        return parse_incident(data)
    except IncidentError as exc:
        raise _at(exc, f"row {frame.index[row]!r}") from None


def _refine(
    policy: Policy,
    space: FactSpace,
    frame: Any,
    cells: Mapping[str, tuple[Any, Sequence[Any]]],
    near: Sequence[str],
    groups: Any,
    firsts: Any,
) -> tuple[Any, Any]:
    """Split the classes by where each relative number falls among its partners' values in
    that class (run once per class on its representative)."""
    import numpy as np

    pipe = native.pipeline(policy)
    fine = {c: np.zeros((len(firsts), len(cells[c][1])), dtype=np.int64) for c in near}
    ids: dict[str, dict[Hashable, int]] = {c: {} for c in near}
    for group, first in enumerate(firsts):
        incident = _representative(frame, cells, int(first))
        try:
            facts: dict[str, Any] | None = pipe.run(incident_facts(incident))[0]
        except DecisionError:
            facts = None
        for column in near:
            fact = FIELDS[column]
            if facts is None:
                cuts: list[float] | None = None
            else:
                cuts = sorted(
                    float(facts[p]) for p in space.number_partners(fact) if is_number(facts.get(p))
                )
            for code, value in enumerate(cells[column][1]):
                key: Hashable
                if value is None:
                    key = None
                elif cuts is None:
                    key = ("raw", value)
                else:
                    at = bisect.bisect_left(cuts, value)
                    key = (at, at < len(cuts) and cuts[at] == value)
                fine[column][group, code] = ids[column].setdefault(key, len(ids[column]))
    columns = [groups] + [fine[c][groups, cells[c][0]] for c in near]
    return _group(np.column_stack(columns))


def _missing_list(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _group(codes: Any) -> tuple[Any, Any]:
    """Per row, the id of its distinct row of ``codes``; the first row of each id."""
    import numpy as np
    import pandas as pd

    widths = codes.max(axis=0) + 1
    if float(np.prod(widths.astype(float))) < 2.0**62:
        radix = np.cumprod(np.concatenate(([1], widths[:-1]))).astype(np.int64)
        flat = codes @ radix
    else:
        _, flat = np.unique(codes, axis=0, return_inverse=True)
        flat = flat.reshape(-1)
    groups, uniques = pd.factorize(flat)
    firsts = np.full(len(uniques), len(flat), dtype=np.int64)
    np.minimum.at(firsts, groups, np.arange(len(flat), dtype=np.int64))
    return groups, firsts


def _refuse(frame: Any, column: str, row_codes: Any, code: int, value: Any) -> None:
    import numpy as np

    row = frame.index[int(np.argmax(row_codes == code))]
    data: dict[str, Any] = {}
    set_field(data, column, value)
    try:
        parse_incident(data)
    except IncidentError as exc:
        raise _at(exc, f"row {row!r}") from None
    raise IncidentError(source=f"row {row!r}", field=column, message="not a valid value")
