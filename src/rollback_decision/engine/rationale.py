"""The rationale of a decision, planned from the rules that fired.

Each step is preceded by the steps that produced what it reads: explaining a table first
explains the tables that made the facts its rules read. Which steps a table contributes
depends only on which of its rules fired, so each table's contribution is worked out once
when the policy compiles (:class:`Rationale`); a decision only walks them, in code generated
from them. Texts that name no fact are rendered once; the others once per step and values
they read (remembered by the policy's runtime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from rollback_decision._models import built, every_field
from rollback_decision.decision import RationaleStep
from rollback_decision.policy import CompiledRule, CompiledTable, Policy
from rollback_decision.policy.codegen import Namespace
from rollback_decision.policy.compiler import text_getter
from rollback_decision.policy.semantics import Combine
from rollback_decision.policy.templates import Template

__all__ = ["RATIONALE", "Rationale", "rationale"]

#: The field names the rationale steps built here share (see rollback_decision._models).
_EVERY_FIELD = every_field(RationaleStep)


@dataclass(frozen=True, eq=False)
class Step:
    """One step a rule says: its text template, and the step itself when the text is fixed."""

    rule: CompiledRule
    template: Template
    #: the finished step when the text names no fact (only parameters, or nothing)
    fixed: RationaleStep | None
    #: per placeholder, how to read its value from the facts
    getters: tuple[Callable[[Mapping[str, Any]], Any], ...]
    #: the facts its placeholders read (every fact is hashable): with the step, what its
    #: text depends on (a parameter's name reads None unless a fact has that name)
    reads: tuple[str, ...]
    #: the rule fired (its ``because``), or did not (the ``if_not`` of an earlier rule)
    fired: bool = True

    def render(self, facts: Mapping[str, Any]) -> RationaleStep:
        values = {n: get(facts) for n, get in zip(self.template.names, self.getters, strict=True)}
        text = self.template.render(values)
        fields = {
            "rule_id": self.rule.id,
            "section": self.rule.section,
            "text": text,
            "fired": self.fired,
        }
        return built(RationaleStep, fields, _EVERY_FIELD)


#: A memo's reader and put, as the walks use them.
_ReadPut = tuple[
    Callable[[Any], RationaleStep | None], Callable[[Any, RationaleStep], RationaleStep]
]
#: What explaining a table involves, in order: a table id to explain first, or a step.
Item = str | Step
#: A table's generated walk: (fired, facts, out, done, reader, put) -> None (see
#: Rationale._generate).
_Walk = Callable[..., None]


class Rationale:
    """A policy's rationale plan, compiled once (see the module docstring)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._steps: dict[tuple[str, str, bool], Step] = {}
        #: first-match tables: the items when rule k fired, by k
        self._first: dict[str, tuple[tuple[Item, ...], ...]] = {}
        #: other tables: the items of every explanation, then those of each fired rule
        self._prefix: dict[str, tuple[Item, ...]] = {}
        self._fire: dict[str, tuple[tuple[Item, ...], ...]] = {}
        for table in policy.tables:
            fires = tuple(self._fire_items(table, rule) for rule in table.rules)

            if table.combine is Combine.FIRST:
                before: list[Item] = []
                per_rule: list[tuple[Item, ...]] = []
                for rule, fire in zip(table.rules, fires, strict=True):
                    per_rule.append((*before, *fire))
                    before += self._needs(sorted(rule.reads))
                    if rule.if_not is not None:
                        before += self._say(rule, rule.if_not, fired=False)
                self._first[table.id] = tuple(per_rule)
            else:
                prefix: list[Item] = []
                for rule in table.rules:
                    prefix += self._needs(sorted(rule.reads))
                self._prefix[table.id] = tuple(prefix)
                self._fire[table.id] = fires
        #: the tables each tuple of roots starts from (one per kind of action)
        self._roots: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: per table, its walk as generated code (see :meth:`_generate`)
        self._walks = self._generate()
        #: the runtime's memo of rendered steps
        self._rendered = policy.runtime.memo("rationale.steps")
        #: its reader and put (both stay valid across clearing it)
        self._remembered: _ReadPut = (self._rendered.reader, self._rendered.put)

    # -- compiling --------------------------------------------------------------------------

    def _needs(self, names: Sequence[str]) -> list[Item]:
        producers = self.policy.producers
        found = (producers.get(name.partition(".")[0]) for name in names)
        return list(dict.fromkeys(t for t in found if t is not None))

    def _say(self, rule: CompiledRule, template: Template, *, fired: bool = True) -> list[Item]:
        key = (rule.id, template.text, fired)
        step = self._steps.get(key)
        if step is None:
            facts = [n for n in template.names if n.partition(".")[0] not in self.policy.parameters]
            fixed = None
            if not facts:
                params = {n: self.policy.parameters[n] for n in template.names}
                fixed = RationaleStep(
                    rule_id=rule.id, section=rule.section, text=template.render(params), fired=fired
                )
            getters = tuple(text_getter(self.policy, n) for n in template.names)
            reads = tuple(dict.fromkeys(n.partition(".")[0] for n in template.names))
            step = self._steps[key] = Step(rule, template, fixed, getters, reads, fired)
        return [*self._needs(template.names), step]

    def _fire_items(self, table: CompiledTable, rule: CompiledRule) -> tuple[Item, ...]:
        items = self._needs(sorted(rule.reads))
        items += self._needs(sorted(source for _, _, source in rule.sets if source is not None))
        if rule.because is not None:
            own = [n for n in rule.because.names if n.partition(".")[0] not in table.outputs]
            items += self._needs(own)
            items += self._say(rule, rule.because)
        return tuple(items)

    # -- the walk as generated code ---------------------------------------------------------

    def _generate(self) -> dict[str, _Walk]:
        """The walk of an explanation as generated code, one function per table: it marks the
        table done, then goes through the items of the rules that fired (which depend only on
        the fired indexes), visiting a table not yet done and appending a step: a fixed one
        finished, another rendered from the facts ``V`` unless ``R`` (a memo's reader) has
        it, then kept by ``P`` (its put). As everywhere else, the source holds only generated
        names: ids and steps are bound constants."""
        ns = Namespace()
        names = {table.id: f"t{p}" for p, table in enumerate(self.policy.tables)}

        def emit(items: Sequence[Item], indent: str, done: frozenset[str]) -> list[str]:
            """The items' code; ``done``: the tables surely explained before it runs (a
            table is visited once, so a later visit is left out)."""
            out: list[str] = []
            visited = set(done)
            for item in items:
                if isinstance(item, str):
                    if item in visited:
                        continue
                    visited.add(item)
                    out.append(f"{indent}if {ns.constant(item, 'k')} not in done:")
                    out.append(f"{indent}    {names[item]}(F, V, out, done, R, P)")
                elif item.fixed is not None:
                    out.append(f"{indent}out.append({ns.constant(item.fixed, 's')})")
                else:  # rendered once per step and the values it reads
                    step = ns.constant(item, "s")
                    values = "".join(f", V.get({ns.constant(n, 'k')})" for n in item.reads)
                    out += [
                        f"{indent}t = ({step}{values})",
                        f"{indent}r = R(t)",
                        f"{indent}out.append(r if r is not None else P(t, {step}.render(V)))",
                    ]
            return out or [f"{indent}pass"]

        lines: list[str] = []
        for table in self.policy.tables:
            key = ns.constant(table.id, "k")
            lines += [f"def {names[table.id]}(F, V, out, done, R, P):", f"    done.add({key})"]
            itself = frozenset({table.id})
            if table.id in self._first:
                lines.append(f"    i = F[{key}][0]")
                for k, items in enumerate(self._first[table.id]):
                    lines.append(f"    {'el' if k else ''}if i == {k}:")
                    lines += emit(items, "        ", itself)
                continue
            prefix = self._prefix[table.id]
            lines += emit(prefix, "    ", itself)
            if not table.rules:
                continue
            before = itself.union(t for t in prefix if isinstance(t, str))
            lines.append(f"    for i in F[{key}]:")
            for k, items in enumerate(self._fire[table.id]):
                lines.append(f"        {'el' if k else ''}if i == {k}:")
                lines += emit(items, "            ", before)
        every = ", ".join(f"{ns.constant(t, 'k')}: {name}" for t, name in names.items())
        lines += ["def walks():", f"    return {{{every}}}"]
        walks: dict[str, _Walk] = ns.compile("\n".join(lines) + "\n", "walks", "<rationale>")()
        return walks

    # -- explaining a decision ----------------------------------------------------------------

    def steps(
        self,
        facts: Mapping[str, Any],
        fired: Mapping[str, tuple[int, ...]],
        roots: Sequence[str],
        *,
        remember: bool = True,
    ) -> list[RationaleStep]:
        """The rationale: the walk over what fired, with the texts that name facts rendered
        (each remembered per step and values by the policy's runtime unless ``remember`` is
        false)."""
        key = roots if isinstance(roots, tuple) else tuple(roots)
        tables = self._roots.get(key)
        if tables is None:
            tables = self._roots[key] = tuple(t for t in self._needs(key) if isinstance(t, str))
        out: list[RationaleStep] = []
        done: set[str] = set()
        reader, put = self._remembered if remember else _FORGET
        walks = self._walks
        for table in tables:
            if table not in done:
                walks[table](fired, facts, out, done, reader, put)
        return out


def _keep(key: Any, value: RationaleStep) -> RationaleStep:
    """What a memo's put gives, remembering nothing (``remember=False``)."""
    return value


#: Nothing remembered: what a memo's reader gives with ``remember=False``.
_NOTHING: Mapping[Any, RationaleStep] = MappingProxyType({})
#: The reader and put of ``remember=False``.
_FORGET: _ReadPut = (_NOTHING.get, _keep)


#: The name :func:`rationale` keeps it by in the runtime (hot paths read ``compiled`` first).
RATIONALE = "rationale"


def rationale(policy: Policy) -> Rationale:
    """The policy's compiled rationale plan (made once, kept by the policy's runtime)."""
    return policy.runtime.once(RATIONALE, Rationale, policy)
