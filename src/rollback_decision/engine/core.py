"""Stage 3: run a compiled policy's tables over an incident's facts, explain, assemble.

An engine only answers one question — which rules of this table match these facts? — through
a :data:`Matcher`. Everything else (combining matches, setting outputs, the rationale and the
Decision) is shared here, so every engine gives the same decision from the same matches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rollback_decision.decision import Action, Decision, RationaleStep
from rollback_decision.errors import DecisionError
from rollback_decision.facts import Incident
from rollback_decision.policy import CompiledRule, CompiledTable, Policy
from rollback_decision.policy.semantics import Combine, outcome
from rollback_decision.policy.templates import Template

__all__ = ["Matcher", "Trace", "assemble", "explain", "incident_facts", "run"]

#: Given a table and the facts so far, the indexes of the matching rules in table order.
#: For a "first" table an engine may stop at the first match.
Matcher = Callable[[CompiledTable, Mapping[str, Any]], Sequence[int]]
#: The facts after every table, and the indexes of the rules each table fired.
Trace = tuple[dict[str, Any], dict[str, tuple[int, ...]]]


def incident_facts(incident: Incident) -> dict[str, Any]:
    """The facts rules read: the incident's fields with ``change`` flattened beside them.

    Lists become tuples: every fact is hashable, like the derived facts tables compute.
    """
    facts = {k: tuple(v) if type(v) is list else v for k, v in incident.__dict__.items()}
    del facts["change"]
    facts.update(
        (k, tuple(v) if type(v) is list else v) for k, v in incident.change.__dict__.items()
    )
    return facts


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


#: One step of an explanation: the rule and the text it says (if_not or because).
Say = tuple[CompiledRule, Template]


class _Explainer:
    """Plans the rationale: each step is preceded by the steps that produced what it read.

    The plan depends only on which rules fired, never on fact values, so it is cached per
    firing pattern; only the texts with placeholders are rendered per incident.
    """

    def __init__(self, policy: Policy, fired: Mapping[str, tuple[int, ...]]):
        self.policy = policy
        self.fired = fired
        self.done: set[str] = set()
        self.program: list[Say] = []

    def need(self, names: frozenset[str] | tuple[str, ...]) -> None:
        for name in names:
            table = self.policy.producers.get(name.partition(".")[0])
            if table is not None and table not in self.done:
                self.table(table)

    def table(self, table_id: str) -> None:
        self.done.add(table_id)
        table = self.policy.table(table_id)
        fired = self.fired[table_id]
        if table.combine is Combine.FIRST:
            chosen = fired[0]
            for rule in table.rules[:chosen]:
                self.need(rule.reads)
                if rule.if_not is not None:
                    self.say(rule, rule.if_not)
            self.fire(table, table.rules[chosen])
        else:
            for rule in table.rules:
                self.need(rule.reads)
            for index in fired:
                self.fire(table, table.rules[index])

    def fire(self, table: CompiledTable, rule: CompiledRule) -> None:
        self.need(rule.reads)
        self.need(tuple(source for _, _, source in rule.sets if source is not None))
        if rule.because is not None:
            self.need(
                tuple(n for n in rule.because.names if n.partition(".")[0] not in table.outputs)
            )
            self.say(rule, rule.because)

    def say(self, rule: CompiledRule, template: Template) -> None:
        self.need(template.names)
        self.program.append((rule, template))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _value(policy: Policy, facts: Mapping[str, Any], name: str) -> Any:
    head, _, field = name.partition(".")
    if not field:
        if head in facts:
            return facts[head]
        return policy.parameters[head]
    authority = policy.authorities[facts[head]]
    if field == "decided_by":
        return authority.decided_by_name
    if field == "approval":
        return authority.approval_name
    if field in ("approvers", "notify"):
        return [policy.role_names[r] for r in getattr(authority, field)]
    return getattr(authority, field)


def explain(
    policy: Policy,
    facts: Mapping[str, Any],
    fired: Mapping[str, tuple[int, ...]],
    roots: Sequence[str],
    *,
    remember: bool = True,
) -> list[RationaleStep]:
    """The rationale for the outputs named in ``roots``, in the order a person reads it.

    The plan of steps depends only on which rules fired, and is remembered per firing
    pattern (as are rendered steps) in the policy's runtime unless ``remember`` is false.
    """
    key = (tuple(roots), *(fired[t.id] for t in policy.tables))
    programs = policy.runtime.memo("rationale.programs") if remember else None
    program = programs.get(key) if programs is not None else None
    if program is None:
        explainer = _Explainer(policy, fired)
        explainer.need(tuple(roots))
        program = tuple(explainer.program)
        if programs is not None:
            programs.put(key, program)
    rendered = policy.runtime.memo("rationale.steps") if remember else None
    steps: list[RationaleStep] = []
    for rule, template in program:
        values = tuple(_hashable(_value(policy, facts, n)) for n in template.names)
        step_key = (rule.id, template.text, values)
        step = rendered.get(step_key) if rendered is not None else None
        if step is None:
            text = template.render(dict(zip(template.names, values, strict=True)))
            step = RationaleStep(rule_id=rule.id, section=rule.section, text=text)
            if rendered is not None:
                rendered.put(step_key, step)
        steps.append(step)
    return steps


#: The facts a Decision is built from (what every policy's pipeline must produce).
DECISION_OUTPUTS = (
    "action",
    "authority",
    "rollback_type",
    "rollback_eta",
    "rollback_eta_estimated",
)
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


def build_decision(
    policy: Policy,
    facts: Mapping[str, Any],
    rationale: Sequence[RationaleStep] = (),
    parts: Mapping[str, Any] = _NO_PLAN,
) -> Decision:
    """The Decision the final ``facts`` make, with its rationale and plan parts (none: the
    light decision the verifier checks invariants on). The one place a Decision is built."""
    action = Action(facts["action"])
    reports_type = policy.actions[action].reports_rollback_type
    authority_id = facts["authority"]
    return Decision.model_construct(
        action=action,
        authority=policy.authorities[authority_id] if authority_id is not None else None,
        rollback_type=facts["rollback_type"] if reports_type else None,
        rollback_eta_minutes=facts["rollback_eta"] if reports_type else None,
        rollback_eta_estimated=bool(facts["rollback_eta_estimated"]) if reports_type else False,
        rationale=list(rationale),
        plan=list(parts["plan"]),
        checklists=list(parts["checklists"]),
        monitoring=list(parts["monitoring"]),
        warnings=list(parts["warnings"]),
        communication=parts["communication"],
        policy=policy.identity,
    )


def assemble(policy: Policy, trace: Trace, *, remember: bool = True) -> Decision:
    """The complete Decision of a run: rationale, plan, checklists and communication."""
    facts, fired = trace
    roots = decision_roots(policy, Action(facts["action"]))
    parts = (
        policy.plan.expand(facts, policy.runtime if remember else None)
        if policy.plan is not None
        else _NO_PLAN
    )
    rationale = explain(policy, facts, fired, roots, remember=remember)
    return build_decision(policy, facts, rationale, parts)
