"""The rollback plan's catalogues: checked and pre-built when the policy compiles.

Tables select entries by id (list outputs such as ``plan_procedures``, aggregated with
``union``); this module only turns the selected ids into the Decision's objects. Nothing here
looks at the incident: which procedures, checklists, warnings... apply is the tables' business,
so every engine agrees on it.

Plan steps of the selected procedures are merged in phase rank order (``phases``); within a
phase, in the order the procedures were selected, then in each procedure's own order. Steps
that share a ``key`` are one step: the first in plan order is kept, and a ``fallback`` step is
kept only when no other selected step has its key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any

from rollback_decision._models import built, every_field
from rollback_decision.decision import (
    Checklist,
    Communication,
    DecisionWarning,
    Monitoring,
    PlanStep,
    PostMortem,
    StakeholderGroup,
)
from rollback_decision.errors import did_you_mean
from rollback_decision.policy.plan_texts import (
    PlanMessage,
    PlanText,
    communicator,
    fact_or_parameter,
)
from rollback_decision.policy.spec import ParamRef, PolicyDocument
from rollback_decision.policy.templates import Template
from rollback_decision.policy.types import FactType
from rollback_decision.runtime import Runtime

__all__ = [
    "CATALOGUES",
    "PLAN_OUTPUTS",
    "Parts",
    "PlanCatalogue",
    "catalogue_ids",
    "compile_plan",
]

#: Catalogues of the plan that tables select from, by id.
CATALOGUES = (
    "procedures",
    "checklists",
    "monitoring",
    "warnings",
    "stakeholder_groups",
    "messages",
    "communication_plans",
    "post_mortems",
)

#: Facts the engine reads into the Decision's plan parts, with the catalogue each points into.
#: A policy without the table that produces one simply leaves that part empty.
PLAN_OUTPUTS = {
    "plan_procedures": "procedures",
    "plan_checklists": "checklists",
    "plan_monitoring": "monitoring",
    "plan_warnings": "warnings",
    "communication_plan": "communication_plans",
    "notify_stakeholders": "stakeholder_groups",
    "notify_messages": "messages",
    "post_mortem": "post_mortems",
}

#: The plan parts :meth:`PlanCatalogue.expander` gives, in the Decision's field order: plan,
#: checklists, monitoring, warnings (lists of the caller's own) and communication.
Parts = tuple[
    list[PlanStep], list[Checklist], list[Monitoring], list[DecisionWarning], Communication | None
]
#: Nothing remembered (the merged plans' reader without a runtime).
_NOTHING: Mapping[Any, Any] = MappingProxyType({})

# The field names the models built here share (see rollback_decision._models).
_EVERY_STEP_FIELD = every_field(PlanStep)
_EVERY_WARNING_FIELD = every_field(DecisionWarning)

#: report(section, ident, message, *subpath)
Report = Callable[..., None]


def catalogue_ids(doc: PolicyDocument) -> dict[str, frozenset[str]]:
    """The ids of every plan catalogue (what list outputs may name)."""
    return {name: frozenset(str(k) for k in getattr(doc, name)) for name in CATALOGUES}


@dataclass(frozen=True, eq=False, slots=True)
class _Step:
    rank: int
    key: str | None
    fallback: bool
    #: a PlanStep's fields, "number" first (0 here)
    fields: dict[str, Any]
    #: its position among every step of the catalogue (numbered copies are remembered by it)
    ident: int = 0

    def numbered(self, number: int) -> PlanStep:
        fields = self.fields.copy()
        fields["number"] = number
        return built(PlanStep, fields, _EVERY_STEP_FIELD)


_STEP_RANK = attrgetter("rank")
_RANK = itemgetter(0)
#: a step as a merge reads it: (rank, key, fallback, ident * stride, step)
_Ranked = tuple[int, "str | None", bool, int, _Step]


@dataclass
class PlanCatalogue:
    """Pre-built plan parts; :meth:`expander` turns the selected ids into Decision fields."""

    procedures: Mapping[str, tuple[_Step, ...]]
    checklists: Mapping[str, Checklist]
    monitoring: Mapping[str, Monitoring]
    warnings: Mapping[str, tuple[str, PlanText]]
    stakeholder_groups: Mapping[str, StakeholderGroup]
    messages: Mapping[str, PlanMessage]
    communication_plans: Mapping[str, Mapping[str, Any]]
    post_mortems: Mapping[str, PostMortem]
    parameters: Mapping[str, Any]
    #: the warnings whose text names no fact, built once
    fixed_warnings: Mapping[str, DecisionWarning]
    #: per procedure, the keys of its steps that are not fallbacks
    _concrete: Mapping[str, frozenset[str]] = field(init=False, repr=False)

    #: more than any plan's number of steps: a numbered step is remembered by
    #: ``ident * _stride + number``
    _stride: int = field(init=False, repr=False)

    #: per procedure, its steps in a stable order of phase rank (what a merge sorts by), each
    #: as (rank, key, fallback, ident * _stride, step)
    _ranked: Mapping[str, tuple[_Ranked, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._stride = 1 + sum(map(len, self.procedures.values()))
        stride = self._stride
        self._ranked = MappingProxyType(
            {
                pid: tuple(
                    (s.rank, s.key, s.fallback, s.ident * stride, s)
                    for s in sorted(steps, key=_STEP_RANK)
                )
                for pid, steps in self.procedures.items()
            }
        )
        self._concrete = MappingProxyType(
            {
                pid: frozenset(s.key for s in steps if s.key is not None and not s.fallback)
                for pid, steps in self.procedures.items()
            }
        )

    def plan(self, procedure_ids: Sequence[str], runtime: Runtime | None = None) -> list[PlanStep]:
        """The merged, numbered steps of ``procedure_ids`` (remembered per selection by
        ``runtime``, if given)."""
        key = tuple(procedure_ids)
        if runtime is None:
            return list(self._merge(key, None))
        merged = runtime.memos["plan.merged"]
        found: tuple[PlanStep, ...] | None = merged.reader(key)
        if found is None:
            found = merged.put(key, self._merge(key, runtime))
        return list(found)

    def _merge(
        self, procedure_ids: tuple[str, ...], runtime: Runtime | None
    ) -> tuple[PlanStep, ...]:
        ranked = self._ranked
        # A stable sort by phase rank keeps selection order, then each procedure's own order
        # (each procedure's steps come already in that order: the sort merges runs).
        entries = sorted([s for pid in procedure_ids for s in ranked[pid]], key=_RANK)
        concrete = frozenset().union(*map(self._concrete.__getitem__, procedure_ids))
        seen: set[str] = set()
        if runtime is None:
            numbered = None
        else:
            # A step keeps its number in many plans: each numbered step is built once.
            memo = runtime.memos["plan.steps"]
            numbered, put = memo.reader, memo.put
        out: list[PlanStep] = []
        append = out.append
        n = 0
        for _, key, fallback, base, step in entries:
            if key is not None:
                if key in seen or (fallback and key in concrete):
                    continue
                seen.add(key)
            n += 1
            if numbered is None:
                append(step.numbered(n))
            else:
                ident = base + n
                append(numbered(ident) or put(ident, step.numbered(n)))
        return tuple(out)

    def expander(self, runtime: Runtime | None) -> Callable[[Mapping[str, Any]], Parts]:
        """The Decision's plan parts (:data:`Parts`) as a function of the facts, what it reads
        bound once (the engine makes one per policy).

        Each part depends only on the ids the tables selected and the values its texts name;
        ``runtime`` (if given) remembers each on them. Each call gets its own lists.
        """
        plan, warning, fixed = self.plan, self._warning, self.fixed_warnings.get
        checklist, monitor = self.checklists.__getitem__, self.monitoring.__getitem__
        communicate = communicator(self, runtime)
        # (the hot path of plan(): a remembered merge, without a frame of its own)
        merged = runtime.memos["plan.merged"].reader if runtime is not None else _NOTHING.get

        def expand(facts: Mapping[str, Any]) -> Parts:
            get = facts.get
            procedures = get("plan_procedures") or ()
            if procedures.__class__ is not tuple:  # (derived lists are tuples already)
                procedures = tuple(procedures)
            found: tuple[PlanStep, ...] | None = merged(procedures)
            checklists = get("plan_checklists")
            monitoring = get("plan_monitoring")
            warnings = get("plan_warnings")
            return (
                [*found] if found is not None else plan(procedures, runtime),
                [*map(checklist, checklists)] if checklists else [],
                [*map(monitor, monitoring)] if monitoring else [],
                [fixed(wid) or warning(wid, facts, runtime) for wid in warnings]
                if warnings
                else [],
                communicate(facts),
            )

        return expand

    def _warning(
        self, wid: str, facts: Mapping[str, Any], runtime: Runtime | None
    ) -> DecisionWarning:
        section, text = self.warnings[wid]
        if text.template is None:
            return self.fixed_warnings[wid]
        if runtime is None:
            return _warning(wid, section, text, fact_or_parameter(facts, self.parameters))
        key = (wid, *map(facts.get, text.template.names))  # as a communication's key
        memo = runtime.memos["plan.warnings"]
        found: DecisionWarning | None = memo.reader(key)
        if found is None:
            value = fact_or_parameter(facts, self.parameters)
            found = memo.put(key, _warning(wid, section, text, value))
        return found


def _warning(
    wid: str, section: str, text: PlanText, value: Callable[[str], Any]
) -> DecisionWarning:
    fields = {"id": wid, "section": section, "text": text.render(value)}
    return built(DecisionWarning, fields, _EVERY_WARNING_FIELD)


def _resolve(value: Any, params: Mapping[str, tuple[FactType, Any]]) -> Any:
    if isinstance(value, ParamRef):
        return params[value.param][1] if value.param in params else None
    return value


def compile_plan(
    doc: PolicyDocument,
    facts: Mapping[str, FactType],
    params: Mapping[str, tuple[FactType, Any]],
    report: Report,
) -> PlanCatalogue:
    """Check the catalogues and pre-build what does not depend on the incident."""
    param_values = {name: value for name, (_, value) in params.items()}
    phases = {str(k): v.rank for k, v in doc.phases.items()}

    def fixed(text: str, section: str, ident: str, *path: str | int) -> str:
        """A text whose placeholders name parameters only: filled now."""
        template = Template.parse(text, param_values, lambda m: report(section, ident, m, *path))
        return text if template.is_static else template.render(param_values)

    def dynamic(text: str, section: str, ident: str, *path: str | int) -> PlanText:
        """A text that may name facts; one that names only parameters is filled now."""
        known = {*facts, *param_values}
        template = Template.parse(text, known, lambda m: report(section, ident, m, *path))
        if all(n in param_values and n not in facts for n in template.names):
            return PlanText(template.render(param_values) if template.names else text, None)
        return PlanText(text, template)

    procedures: dict[str, tuple[_Step, ...]] = {}
    count = 0  # steps so far: each step's ident
    for pid, proc in doc.procedures.items():
        steps: list[_Step] = []
        for index, step in enumerate(proc.steps):
            if step.phase not in phases:
                report(
                    "procedures",
                    pid,
                    f"unknown phase {step.phase!r}{did_you_mean(step.phase, phases)}",
                    "steps",
                    index,
                    "phase",
                )
                continue
            where = ("procedures", pid, "steps", index)
            fields = {
                "number": 0,
                "text": fixed(step.text, *where, "text"),
                "section": step.section or proc.section,
                "source": pid,
                "phase": step.phase,
                "duration": fixed(step.duration, *where, "duration") if step.duration else None,
                "command": step.command,
                "validation": (
                    fixed(step.validation, *where, "validation") if step.validation else None
                ),
                "checks": [fixed(c, *where, "checks", i) for i, c in enumerate(step.checks)],
            }
            steps.append(_Step(phases[step.phase], step.key, step.fallback, fields, count))
            count += 1
        procedures[pid] = tuple(steps)

    def param_number(section: str, ident: str, key: str, raw: Any) -> float | None:
        if isinstance(raw, ParamRef) and raw.param not in params:
            report(
                section,
                ident,
                f"unknown parameter {raw.param!r}{did_you_mean(raw.param, params)}",
                key,
            )
            return None
        resolved = _resolve(raw, params)
        if resolved is not None and (
            isinstance(resolved, bool) or not isinstance(resolved, (int, float))
        ):
            report(section, ident, f"{key} must be a number, got {resolved!r}", key)
            return None
        return float(resolved) if resolved is not None else None

    comm_plans: dict[str, Mapping[str, Any]] = {}
    for cid, cplan in doc.communication_plans.items():
        comm_plans[cid] = MappingProxyType(
            {
                "id": cid,
                "section": cplan.section,
                "recipients": cplan.recipients,
                "channels": list(cplan.channels),
                "update_every_minutes": param_number(
                    "communication_plans",
                    cid,
                    "update_every_minutes",
                    cplan.update_every_minutes,
                ),
            }
        )
    post_mortems: dict[str, PostMortem] = {}
    for mid, pm in doc.post_mortems.items():
        within = param_number("post_mortems", mid, "within_hours", pm.within_hours)
        post_mortems[mid] = PostMortem(
            id=mid,
            title=pm.title,
            section=pm.section,
            within_hours=within or 0.0,
            attendees=list(pm.attendees),
            agenda=list(pm.agenda),
            deliverables=list(pm.deliverables),
        )
    messages = {
        mid: PlanMessage(
            id=mid,
            title=m.title,
            channel=m.channel,
            section=m.section,
            subject=dynamic(m.subject, "messages", mid, "subject") if m.subject else None,
            text=dynamic(m.text, "messages", mid, "text"),
        )
        for mid, m in doc.messages.items()
    }
    warnings = {
        wid: (w.section, dynamic(w.text, "warnings", wid, "text"))
        for wid, w in doc.warnings.items()
    }
    return PlanCatalogue(
        procedures=MappingProxyType(procedures),
        checklists=MappingProxyType(
            {
                cid: Checklist(
                    id=cid,
                    title=c.title,
                    section=c.section,
                    items=[fixed(t, "checklists", cid, "items", i) for i, t in enumerate(c.items)],
                )
                for cid, c in doc.checklists.items()
            }
        ),
        monitoring=MappingProxyType(
            {
                mid: Monitoring(
                    id=mid,
                    duration=fixed(m.duration, "monitoring", mid, "duration"),
                    focus=list(m.focus),
                    section=m.section,
                )
                for mid, m in doc.monitoring.items()
            }
        ),
        warnings=MappingProxyType(warnings),
        stakeholder_groups=MappingProxyType(
            {
                gid: StakeholderGroup(
                    id=gid, title=g.title, section=g.section, members=list(g.members)
                )
                for gid, g in doc.stakeholder_groups.items()
            }
        ),
        messages=MappingProxyType(messages),
        communication_plans=MappingProxyType(comm_plans),
        post_mortems=MappingProxyType(post_mortems),
        parameters=MappingProxyType(param_values),
        fixed_warnings=MappingProxyType(
            {
                wid: DecisionWarning(id=wid, section=section, text=text.text)
                for wid, (section, text) in warnings.items()
                if text.template is None
            }
        ),
    )


def check_plan_outputs(
    facts: Mapping[str, FactType], producers: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(fact, message) for every plan output a table produces with the wrong type."""
    out: list[tuple[str, str]] = []
    for name, catalogue in PLAN_OUTPUTS.items():
        if name not in producers:
            continue
        ftype = facts[name]
        if ftype.kind != "list" or ftype.ref != catalogue:
            out.append(
                (
                    name,
                    f"{name!r} must be a list of ids from {catalogue}, but is {ftype.describe()}",
                )
            )
    return out
