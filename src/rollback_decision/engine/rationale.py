"""The rationale of a decision, planned from the rules that fired.

Each step is preceded by the steps that produced what it reads: explaining a table first
explains the tables that made the facts its rules read. Which steps a table contributes
depends only on which of its rules fired, so each table's contribution is worked out once
when the policy compiles (:class:`Rationale`); a decision only walks them. Texts that name
no fact are rendered once; the others are rendered per decision.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from rollback_decision._models import built
from rollback_decision.decision import RationaleStep
from rollback_decision.policy import CompiledRule, CompiledTable, Policy
from rollback_decision.policy.compiler import text_getter
from rollback_decision.policy.semantics import Combine
from rollback_decision.policy.templates import Template

__all__ = ["Rationale", "rationale"]


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

    def render(self, facts: Mapping[str, Any]) -> RationaleStep:
        values = {n: get(facts) for n, get in zip(self.template.names, self.getters, strict=True)}
        text = self.template.render(values)
        return built(
            RationaleStep, {"rule_id": self.rule.id, "section": self.rule.section, "text": text}
        )

    def key(self, facts: Mapping[str, Any]) -> tuple[Any, ...]:
        return (self, *map(facts.get, self.reads))


#: What explaining a table involves, in order: a table id to explain first, or a step.
Item = str | Step
#: Reads what the tables an explanation visits fired (part of the key of its plan).
_Reader = Callable[[Mapping[str, tuple[int, ...]]], Any]
#: A remembered plan: the steps with the fixed ones finished, and where the others are.
_Program = tuple[tuple[RationaleStep | Step, ...], tuple[int, ...]]


class Rationale:
    """A policy's rationale plan, compiled once (see the module docstring)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._steps: dict[tuple[str, str], Step] = {}
        #: first-match tables: the items when rule k fired, by k
        self._first: dict[str, tuple[tuple[Item, ...], ...]] = {}
        #: other tables: the items of every explanation, then those of each fired rule
        self._prefix: dict[str, tuple[Item, ...]] = {}
        self._fire: dict[str, tuple[tuple[Item, ...], ...]] = {}
        #: the tables that explaining a table may visit next, whatever fired
        self._reaches: dict[str, frozenset[str]] = {}
        for table in policy.tables:
            fires = tuple(self._fire_items(table, rule) for rule in table.rules)

            if table.combine is Combine.FIRST:
                before: list[Item] = []
                per_rule: list[tuple[Item, ...]] = []
                for rule, fire in zip(table.rules, fires, strict=True):
                    per_rule.append((*before, *fire))
                    before += self._needs(sorted(rule.reads))
                    if rule.if_not is not None:
                        before += self._say(rule, rule.if_not)
                self._first[table.id] = tuple(per_rule)
                reach: list[Item] = [i for items in per_rule for i in items]
            else:
                prefix: list[Item] = []
                for rule in table.rules:
                    prefix += self._needs(sorted(rule.reads))
                self._prefix[table.id] = tuple(prefix)
                self._fire[table.id] = fires
                reach = [*prefix, *(i for items in fires for i in items)]
            self._reaches[table.id] = frozenset(i for i in reach if isinstance(i, str))
        self._explains: dict[tuple[str, ...], tuple[tuple[str, ...], _Reader]] = {}
        #: the runtime's memos of plans by firing pattern and of rendered steps
        self._memos = (
            policy.runtime.memo("rationale.programs"),
            policy.runtime.memo("rationale.steps"),
        )

    # -- compiling --------------------------------------------------------------------------

    def _needs(self, names: Sequence[str]) -> list[Item]:
        producers = self.policy.producers
        found = (producers.get(name.partition(".")[0]) for name in names)
        return list(dict.fromkeys(t for t in found if t is not None))

    def _say(self, rule: CompiledRule, template: Template) -> list[Item]:
        key = (rule.id, template.text)
        step = self._steps.get(key)
        if step is None:
            facts = [n for n in template.names if n.partition(".")[0] not in self.policy.parameters]
            fixed = None
            if not facts:
                params = {n: self.policy.parameters[n] for n in template.names}
                fixed = RationaleStep(
                    rule_id=rule.id, section=rule.section, text=template.render(params)
                )
            getters = tuple(text_getter(self.policy, n) for n in template.names)
            reads = tuple(dict.fromkeys(n.partition(".")[0] for n in template.names))
            step = self._steps[key] = Step(rule, template, fixed, getters, reads)
        return [*self._needs(template.names), step]

    def _fire_items(self, table: CompiledTable, rule: CompiledRule) -> tuple[Item, ...]:
        items = self._needs(sorted(rule.reads))
        items += self._needs(sorted(source for _, _, source in rule.sets if source is not None))
        if rule.because is not None:
            own = [n for n in rule.because.names if n.partition(".")[0] not in table.outputs]
            items += self._needs(own)
            items += self._say(rule, rule.because)
        return tuple(items)

    # -- explaining a decision ----------------------------------------------------------------

    def _tables_for(self, roots: tuple[str, ...]) -> tuple[str, ...]:
        """Every table an explanation of ``roots`` may visit: what its plan depends on (the
        plan's tables, which nothing explained reads, are not among them)."""
        return self._explaining(roots)[0]

    def _explaining(self, roots: tuple[str, ...]) -> tuple[tuple[str, ...], _Reader]:
        """:meth:`_tables_for`, and a function reading what those tables fired."""
        found = self._explains.get(roots)
        if found is None:
            seen: set[str] = set()
            todo = [t for t in self._needs(roots) if isinstance(t, str)]
            while todo:
                table = todo.pop()
                if table not in seen:
                    seen.add(table)
                    todo += self._reaches[table] - seen
            order = [t.id for t in self.policy.tables]
            tables = tuple(sorted(seen, key=order.index))
            reader: _Reader = itemgetter(*tables) if tables else _nothing
            found = self._explains[roots] = (tables, reader)
        return found

    def program(self, fired: Mapping[str, tuple[int, ...]], roots: Sequence[str]) -> list[Step]:
        """The steps explaining ``roots``, given the rules each table fired."""
        out: list[Step] = []
        done: set[str] = set()
        first, prefix, fire = self._first, self._prefix, self._fire

        def visit(table_id: str) -> None:
            done.add(table_id)
            indexes = fired[table_id]
            if table_id in first:
                items: Sequence[Item] = first[table_id][indexes[0]]
            else:
                per_rule = fire[table_id]
                items = [*prefix[table_id], *(i for k in indexes for i in per_rule[k])]
            for item in items:
                if isinstance(item, str):
                    if item not in done:
                        visit(item)
                else:
                    out.append(item)

        for item in self._needs(roots):
            if isinstance(item, str) and item not in done:
                visit(item)
        return out

    def steps(
        self,
        facts: Mapping[str, Any],
        fired: Mapping[str, tuple[int, ...]],
        roots: Sequence[str],
        *,
        remember: bool = True,
    ) -> list[RationaleStep]:
        """The rationale: its plan (remembered per firing pattern by the policy's runtime
        unless ``remember`` is false), with the texts that name facts rendered."""
        if not remember:
            return [s.fixed or s.render(facts) for s in self.program(fired, roots)]
        key_roots = roots if isinstance(roots, tuple) else tuple(roots)
        key = (key_roots, self._explaining(key_roots)[1](fired))
        programs, rendered = self._memos
        found: _Program | None = programs.get(key)
        if found is None:
            program = self.program(fired, roots)
            found = programs.put(
                key,
                (
                    tuple(s.fixed or s for s in program),
                    tuple(i for i, s in enumerate(program) if s.fixed is None),
                ),
            )
        items, dynamic = found
        out = list(items)
        if dynamic:
            for i in dynamic:
                step = typing.cast(Step, items[i])
                step_key = step.key(facts)
                done: RationaleStep | None = rendered.get(step_key)
                out[i] = done if done is not None else rendered.put(step_key, step.render(facts))
        return typing.cast(list[RationaleStep], out)


def rationale(policy: Policy) -> Rationale:
    """The policy's compiled rationale plan (made once, kept by the policy's runtime)."""
    return policy.runtime.once("rationale", Rationale, policy)


def _nothing(fired: Mapping[str, tuple[int, ...]]) -> tuple[()]:
    return ()
