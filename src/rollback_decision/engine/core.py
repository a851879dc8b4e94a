"""Stage 3: run a compiled policy's tables over an incident's facts, explain, assemble.

An engine only answers one question — which rules of this table match these facts? — through
a :data:`Matcher`. Everything else (combining matches, setting outputs, the rationale and the
Decision) is shared here, so every engine gives the same decision from the same matches.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from rollback_decision._models import built, every_field
from rollback_decision.decision import Action, Decision, RationaleStep
from rollback_decision.engine.rationale import rationale
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Change, Incident
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.codegen import Namespace
from rollback_decision.policy.plan import Parts
from rollback_decision.policy.semantics import outcome

__all__ = [
    "ASSEMBLER",
    "DECISION_OUTPUTS",
    "FACT_NAMES",
    "Assembler",
    "Matcher",
    "Trace",
    "assemble",
    "assembler",
    "build_decision",
    "facts_of_key",
    "incident_facts",
    "incident_key",
    "run",
]

#: Given a table and the facts so far, the indexes of the matching rules in table order.
#: For a "first" table an engine may stop at the first match.
Matcher = Callable[[CompiledTable, Mapping[str, Any]], Sequence[int]]
#: The facts after every table, and the indexes of the rules each table fired.
Trace = tuple[dict[str, Any], dict[str, tuple[int, ...]]]


#: what :func:`_facts_readers` makes: incident_facts, incident_key, facts_of_key, FACT_NAMES
_Readers = tuple[
    Callable[[Incident], dict[str, Any]],
    Callable[[Incident], tuple[Any, ...]],
    Callable[[tuple[Any, ...]], dict[str, Any]],
    tuple[str, ...],
]


def _facts_readers() -> _Readers:
    """``incident_facts``, ``incident_key`` and ``facts_of_key`` as generated code, and the
    names of the facts in the order they give them."""
    ns = Namespace()
    stores: list[str] = []
    values: list[str] = []
    locals_: list[str] = []
    names: list[str] = []
    for model, holder in ((Incident, "d"), (Change, "c")):
        for name, field in model.model_fields.items():
            if name == "change":
                continue
            k = ns.constant(name, "k")
            names.append(name)
            listed = typing.get_origin(field.annotation) is list
            value = f"tuple({holder}[{k}])" if listed else f"{holder}[{k}]"
            stores.append(f"    f[{k}] = {value}\n")
            values.append(f"        {value},\n")
            locals_.append(f"x{len(locals_)}")
    # Filling a copy of a dict that already holds every key (in this order) costs less than
    # a dict display of as many entries, which grows the dict as it goes (or than building
    # it from pairs: a C-level pass costs more per item than a generated store).
    start = "    d = i.__dict__\n    c = d[k_change].__dict__\n"
    refill = "".join(
        f"    f[{ns.constant(name, 'k')}] = {x}\n" for name, x in zip(names, locals_, strict=True)
    )
    source = (
        f"def read(i):\n{start}    f = every.copy()\n{''.join(stores)}    return f\n"
        f"def key(i):\n{start}    return (\n{''.join(values)}    )\n"
        f"def facts(t):\n    ({', '.join(locals_)},) = t\n    f = every.copy()\n"
        f"{refill}    return f\n"
    )
    ns.values["k_change"] = "change"
    ns.values["every"] = MappingProxyType(dict.fromkeys(names))
    return (
        ns.compile(source, "read", "<facts>"),
        ns.compile(source, "key", "<facts>"),
        ns.compile(source, "facts", "<facts>"),
        tuple(names),
    )


incident_facts: Callable[[Incident], dict[str, Any]]
#: ``tuple(incident_facts(incident).values())`` without the dict: what decisions are
#: remembered by. Generated code, as ``incident_facts`` is.
incident_key: Callable[[Incident], tuple[Any, ...]]
#: ``incident_facts(incident)`` from ``incident_key(incident)`` (without reading it again).
facts_of_key: Callable[[tuple[Any, ...]], dict[str, Any]]
#: The names of the incident's facts, in the order :func:`incident_key` gives them.
FACT_NAMES: tuple[str, ...]
#: The facts rules read (``incident_facts(incident)``): the incident's fields with ``change``
#: flattened beside them. Lists become tuples: every fact is hashable, like the derived facts
#: tables compute. Generated code itself (decide calls it: no Python frame around it).
incident_facts, incident_key, facts_of_key, FACT_NAMES = _facts_readers()
incident_facts.__doc__ = """The facts rules read: the incident's fields with ``change`` flattened
beside them. Lists become tuples: every fact is hashable, like the derived facts tables
compute."""


def run(policy: Policy, incident: Incident, matcher: Matcher) -> Trace:
    """Every table of ``policy`` in pipeline order, with the matches ``matcher`` reports."""
    facts = incident_facts(incident)
    fired: dict[str, tuple[int, ...]] = {}
    for table in policy.tables:
        result = outcome(table, matcher(table, facts), facts)
        if result.values is None:
            raise DecisionError(table.id, result.message(table))
        facts.update(zip(table.outputs, result.values, strict=True))
        fired[table.id] = result.fired
    return facts, fired


#: The facts a Decision is built from (what every policy's pipeline must produce).
DECISION_OUTPUTS = (
    "action",
    "authority",
    "rollback_type",
    "rollback_eta",
    "rollback_eta_estimated",
)
#: The field names every Decision shares (see rollback_decision._models).
_EVERY_DECISION_FIELD = every_field(Decision)
_NO_PLAN: Mapping[str, Any] = {
    "plan": (),
    "checklists": (),
    "monitoring": (),
    "warnings": (),
    "communication": None,
}


def decision_roots(policy: Policy, action: Action) -> tuple[str, ...]:
    """The outputs the rationale explains: the rollback type and time only where the action
    reports them."""
    if policy.actions[action].reports_rollback_type:
        return ("action", "rollback_type", "rollback_eta", "authority")
    return ("action", "authority")


#: Per value of the ``action`` fact: the Action, whether it reports the rollback type, and
#: the roots of its rationale.
_ActionFacts = Mapping[Any, tuple[Action, bool, tuple[str, ...]]]


#: The name the runtime keeps a policy's _ActionFacts by.
_ACTIONS = "decision.actions"


def _action_facts(policy: Policy) -> _ActionFacts:
    return {
        action.value: (action, spec.reports_rollback_type, decision_roots(policy, action))
        for action, spec in policy.actions.items()
    }


def _action(policy: Policy, value: Any) -> tuple[Action, bool, tuple[str, ...]]:
    runtime = policy.runtime
    actions: _ActionFacts = runtime.compiled.get(_ACTIONS) or runtime.once(
        _ACTIONS, _action_facts, policy
    )
    found = actions.get(value)
    if found is None:  # not an action of this policy: as Action() and the policy refuse it
        action = Action(value)
        found = (action, policy.actions[action].reports_rollback_type, ())
    return found


def build_decision(
    policy: Policy,
    facts: Mapping[str, Any],
    rationale: Sequence[RationaleStep] = (),
    parts: Mapping[str, Any] = _NO_PLAN,
) -> Decision:
    """The Decision the final ``facts`` make, with its rationale and plan parts (none: the
    light decision the verifier checks invariants on). The one place a Decision is built."""
    return _decision(policy, facts, list(rationale), _own(parts))


def _own(parts: Mapping[str, Any]) -> Parts:
    """Plan parts by name as :data:`Parts`, with lists of their own."""
    return (
        list(parts["plan"]),
        list(parts["checklists"]),
        list(parts["monitoring"]),
        list(parts["warnings"]),
        parts["communication"],
    )


def _decision(
    policy: Policy,
    facts: Mapping[str, Any],
    rationale: list[RationaleStep],
    parts: Parts,
    action_facts: tuple[Action, bool, tuple[str, ...]] | None = None,
) -> Decision:
    """:func:`build_decision` from lists of its own (the Decision keeps them)."""
    action, reports_type, _ = action_facts or _action(policy, facts["action"])
    plan, checklists, monitoring, warnings, communication = parts
    authority_id = facts["authority"]
    fields = {
        "action": action,
        "authority": policy.authorities[authority_id] if authority_id is not None else None,
        "rollback_type": facts["rollback_type"] if reports_type else None,
        "rollback_eta_minutes": facts["rollback_eta"] if reports_type else None,
        "rollback_eta_estimated": bool(facts["rollback_eta_estimated"]) if reports_type else False,
        "rationale": rationale,
        "plan": plan,
        "checklists": checklists,
        "monitoring": monitoring,
        "warnings": warnings,
        "communication": communication,
        "policy": policy.identity,
    }
    return built(Decision, fields, _EVERY_DECISION_FIELD)


#: What :func:`assembler` gives: ``(facts, fired, remember)`` to the complete Decision.
Assembler = Callable[[Mapping[str, Any], Mapping[str, tuple[int, ...]], bool], Decision]
#: The name the runtime keeps a policy's :data:`Assembler` by (hot paths read ``compiled``).
ASSEMBLER = "decision.assembler"


def assembler(policy: Policy) -> Assembler:
    """:func:`assemble` for ``policy`` with its compiled parts (the plan, the rationale, the
    actions) bound once, made once per policy: what each engine's final facts go through."""
    return policy.runtime.once(ASSEMBLER, _assembler, policy)


def _assembler(policy: Policy) -> Assembler:
    runtime = policy.runtime
    actions: _ActionFacts = runtime.once(_ACTIONS, _action_facts, policy)
    catalogue = policy.plan
    # the plan parts, remembered by the runtime and afresh (remember=False)
    remembered, afresh = (
        (catalogue.expander(runtime), catalogue.expander(None))
        if catalogue is not None
        else (_no_plan, _no_plan)
    )
    explain = rationale(policy).steps

    def assemble(
        facts: Mapping[str, Any], fired: Mapping[str, tuple[int, ...]], remember: bool
    ) -> Decision:
        action = actions.get(facts["action"]) or _action(policy, facts["action"])
        parts = (remembered if remember else afresh)(facts)
        steps = explain(facts, fired, action[2], remember=remember)
        return _decision(policy, facts, steps, parts, action)

    return assemble


def _no_plan(facts: Mapping[str, Any]) -> Parts:
    """The plan parts of a policy without a plan: none (lists of their own)."""
    return _own(_NO_PLAN)


def assemble(policy: Policy, trace: Trace, *, remember: bool = True) -> Decision:
    """The complete Decision of a run: rationale, plan, checklists and communication."""
    facts, fired = trace
    return (policy.runtime.compiled.get(ASSEMBLER) or assembler(policy))(facts, fired, remember)
