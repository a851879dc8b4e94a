"""A compiled policy: its tables and rules as the engines run them, and the Policy object.

Built by :func:`rollback_decision.policy.compiler.compile_policy`; nothing here checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from rollback_decision.decision import Action, Authority, PolicyIdentity
from rollback_decision.policy.clocks import ClockCatalogue
from rollback_decision.policy.conditions import Condition, Predicate
from rollback_decision.policy.plan import PlanCatalogue
from rollback_decision.policy.semantics import Aggregate, Combine
from rollback_decision.policy.spec import ActionSpec, PolicyDocument, RollbackTypeSpec
from rollback_decision.policy.templates import Template
from rollback_decision.policy.types import FactType
from rollback_decision.runtime import Runtime

__all__ = [
    "AUTHORITY_TEXT_FIELDS",
    "DECISION_FACTS",
    "CompiledRule",
    "CompiledTable",
    "Policy",
    "text_getter",
]

#: Facts the engine reads into the Decision, with the type each must have.
DECISION_FACTS = {
    "action": "action",
    "authority": "authority",
    "rollback_type": "integer",
    "rollback_eta": "number",
    "rollback_eta_estimated": "boolean",
}
#: Fields of an authority row that texts may use as ``{authority.FIELD}``.
AUTHORITY_TEXT_FIELDS = (
    "situation",
    "decided_by",
    "approval",
    "min_approvers",
    "approvers",
    "notify",
)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    index: int
    section: str
    condition: Condition
    predicate: Predicate
    #: (output, literal value or None, fact to copy or None)
    sets: tuple[tuple[str, Any, str | None], ...]
    because: Template | None
    if_not: Template | None
    #: facts the condition reads
    reads: frozenset[str]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: engines key caches on it
class CompiledTable:
    id: str
    section: str
    combine: Combine
    outputs: Mapping[str, FactType]
    aggregates: Mapping[str, Aggregate]
    rules: tuple[CompiledRule, ...]

    @cached_property
    def reads(self) -> tuple[str, ...]:
        """Every fact a condition of this table reads, sorted: what its matches depend on."""
        return tuple(sorted(set().union(*(rule.reads for rule in self.rules))))

    def rule(self, rule_id: str) -> CompiledRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@dataclass(frozen=True)
class Policy:
    """A loaded, validated and compiled policy. Build it with :func:`load_policy`."""

    identity: PolicyIdentity
    parameters: Mapping[str, Any]
    tables: tuple[CompiledTable, ...]
    authorities: Mapping[str, Authority]
    actions: Mapping[Action, ActionSpec]
    rollback_types: Mapping[int, RollbackTypeSpec]
    role_names: Mapping[str, str]
    document: PolicyDocument
    #: which table produces each derived fact
    producers: Mapping[str, str]
    #: the plan's catalogues, pre-built (procedures, checklists, monitoring, ...)
    plan: PlanCatalogue | None = None
    #: the clocks incident timelines run (``rules/clocks.yaml``)
    clocks: ClockCatalogue = field(default_factory=lambda: ClockCatalogue(()))
    #: each authority's ``rank`` (None: unranked); the more severe the situation, the higher
    authority_ranks: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({}))
    #: the deployment readiness tables (``subject: deployment_plan``), in file order
    readiness: tuple[CompiledTable, ...] = ()
    #: everything remembered for this policy (see :mod:`rollback_decision.runtime`)
    runtime: Runtime = field(default_factory=Runtime, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.identity.name

    def table(self, table_id: str) -> CompiledTable:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def __repr__(self) -> str:
        ident = self.identity
        return f"<Policy {ident.name} {ident.version} {ident.content_hash[:12]}>"


def text_getter(policy: Policy, name: str) -> Callable[[Mapping[str, Any]], Any]:
    """How a text placeholder reads its value from a decision's facts: a fact, a parameter,
    or ``{authority.FIELD}`` (one of :data:`AUTHORITY_TEXT_FIELDS`) of the authority row."""
    head, _, field = name.partition(".")
    if not field:
        if head in policy.parameters and head not in policy.producers:
            value = policy.parameters[head]
            return lambda facts: facts.get(head, value)
        return lambda facts: facts[head]
    roles = policy.role_names
    rows: dict[str, Any] = {}
    for ident, authority in policy.authorities.items():
        if field == "decided_by":
            rows[ident] = authority.decided_by_name
        elif field == "approval":
            rows[ident] = authority.approval_name
        elif field in ("approvers", "notify"):
            rows[ident] = [roles[r] for r in getattr(authority, field)]
        else:
            rows[ident] = getattr(authority, field)
    return lambda facts: rows[facts[head]]
