"""One table of one policy, evaluated for the walk: which rules match a combination of the
facts it reads, worked out with per-fact bit masks, and the table's outcome, remembered by
those facts."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from rollback_decision.engine.core import Matcher
from rollback_decision.policy import CompiledTable
from rollback_decision.policy.conditions import (
    AllOf,
    Condition,
    compile_condition,
    condition_tests,
    facts_read,
)
from rollback_decision.policy.operators import OPERATORS, Family
from rollback_decision.policy.semantics import Combine, Outcome, outcome
from rollback_decision.verify.domains import table_needs

__all__ = ["TableEval"]

#: The operator families whose comparison of two numbers their order decides.
_ORDERS = frozenset({Family.ORDERING, Family.EQUALITY})


class TableEval:
    """One table of one policy, evaluated with a memo keyed by the facts it reads.

    Which rules match is worked out with bit masks: for each fact and value, the rules whose
    tests of that fact alone accept the value (a rule that does not test the fact accepts every
    value); the rules matching a combination are the AND of its facts' masks. A rule part that
    reads two facts at once (``fix_forward_eta_minutes: {lt: {fact: rollback_eta}}``) is
    checked with the rule's own predicate, only where the masks leave the rule standing. So an
    evaluation costs a few operations per fact, not one predicate call per rule.
    """

    def __init__(
        self, table: CompiledTable, matcher: Matcher | None, winners: bool = False
    ) -> None:
        self.table = table
        self.matcher = matcher
        #: a first-match table's outcomes keep only the rule that fires, not those it
        #: shadows (see :meth:`result`)
        self.winners = winners and table.combine is Combine.FIRST
        self.needs = table_needs(table)
        #: ``facts -> the values of needs``, for a mapping of every fact
        self.pick = (
            operator.itemgetter(*self.needs)
            if len(self.needs) > 1
            else (lambda facts: tuple(facts[n] for n in self.needs))
        )
        self.outputs = tuple(table.outputs)
        self.memo: dict[tuple[Any, ...], Outcome] = {}
        self._outcomes: dict[Outcome, Outcome] = {}
        self._by_mask: dict[Any, Outcome] = {}
        #: per fact, the rules' tests of that fact alone, compiled: (rule bit, predicate)
        self._parts: dict[str, list[tuple[int, Callable[[Mapping[str, Any]], bool]]]] = {}
        #: rules with a part that reads several facts: checked with their predicate
        self._mixed = 0
        self._all = (1 << len(table.rules)) - 1
        #: per fact, the facts a rule compares it with
        self._compared: dict[str, set[str]] = {}
        #: facts a rule compares with another fact other than by order or equality
        self._unordered: set[str] = set()
        #: per fact, its tests that read no other fact, compiled (see :meth:`kind_of`)
        self._atoms: dict[str, list[Callable[[Mapping[str, Any]], bool]]] = {}
        for position, rule in enumerate(table.rules):
            by_fact: dict[str, list[Condition]] = {}
            for atom in condition_tests(rule.condition):
                if atom.operand.fact is not None:
                    self._compared.setdefault(atom.fact, set()).add(atom.operand.fact)
                    self._compared.setdefault(atom.operand.fact, set()).add(atom.fact)
                    if OPERATORS[atom.op].family not in _ORDERS:
                        self._unordered |= {atom.fact, atom.operand.fact}
                else:
                    self._atoms.setdefault(atom.fact, []).append(compile_condition(atom))
            for part in _conjuncts(rule.condition):
                read = facts_read(part)
                if len(read) == 1:
                    by_fact.setdefault(next(iter(read)), []).append(part)
                else:
                    self._mixed |= 1 << position
            for name, parts in by_fact.items():
                test = compile_condition(parts[0] if len(parts) == 1 else AllOf(tuple(parts)))
                self._parts.setdefault(name, []).append((position, test))
        self._accepts: dict[tuple[str, Any], int] = {}
        #: positions in ``needs`` of the facts rules copy into outputs
        self._copied = [
            self.needs.index(source)
            for source in dict.fromkeys(
                source for rule in table.rules for _, _, source in rule.sets if source is not None
            )
        ]
        self._kinds: dict[tuple[str, Any], int] = {}

    def __call__(self, values: tuple[Any, ...]) -> Outcome:
        result = self.memo.get(values)
        if result is None:
            made = self._evaluate(dict(zip(self.needs, values, strict=True)))
            # One object per distinct outcome: the walk tells results apart by identity.
            result = self.memo[values] = self._outcomes.setdefault(made, made)
        return result

    def by_tests(self, name: str) -> bool:
        """Whether the table's outcome depends on ``name`` only through its tests that read no
        other fact (:meth:`kind_of`): no rule copies it or compares it with another fact, and
        no other engine decides. Two values every such test treats alike are one to this
        table, whatever the other facts."""
        return self.compared_with(name) == set()

    def compared_with(self, name: str) -> set[str] | None:
        """The facts a rule compares ``name`` with, when the table reads it only through
        those comparisons and tests of it alone; None when a rule copies it or another engine
        decides. Two values with the same :meth:`kind_of` and the same order to each of these
        facts are then one to the table."""
        if self.matcher is not None or any(self.needs[i] == name for i in self._copied):
            return None
        return set(self._compared.get(name, ()))

    def ordered_with(self, name: str) -> set[str] | None:
        """:meth:`compared_with`, when every comparison of ``name`` with another fact orders
        the two or tests their equality (so for two numbers their order decides it); None
        otherwise."""
        if name in self._unordered:
            return None
        return self.compared_with(name)

    def kind_of(self, name: str, value: Any) -> int:
        """Which of the table's tests of ``name`` alone hold for ``value``, as a bit mask."""
        found = self._kinds.get((name, value))
        if found is None:
            facts = {name: value}
            found = 0
            for bit, test in enumerate(self._atoms.get(name, ())):
                if test(facts):
                    found |= 1 << bit
            self._kinds[(name, value)] = found
        return found

    def accepts(self, name: str, value: Any) -> int:
        """The rules whose tests of ``name`` alone hold for ``value``, as a bit mask."""
        found = self._accepts.get((name, value))
        if found is None:
            found = self._all
            facts = {name: value}
            for position, test in self._parts.get(name, ()):
                if not test(facts):
                    found &= ~(1 << position)
            self._accepts[(name, value)] = found
        return found

    def mask(self, pairs: Iterable[tuple[str, Any]]) -> int:
        """The rules whose tests of each fact alone hold for the values ``pairs`` give."""
        mask = self._all
        for name, value in pairs:
            mask &= self.accepts(name, value)
        return mask

    @property
    def mixed(self) -> int:
        """The rules with a part that reads several facts at once, as a bit mask: where
        :meth:`mask` leaves one standing, its predicate decides."""
        return self._mixed

    def tested(self, name: str) -> bool:
        """Whether a rule tests ``name`` alone (see :meth:`mask`)."""
        return name in self._parts

    def matches(self, facts: Mapping[str, Any]) -> tuple[int, ...]:
        """The indexes of the rules whose condition holds for ``facts``, in table order."""
        mask = self.mask((name, facts[name]) for name in self._parts)
        return self._indexes(self._settle(mask, facts))

    def _settle(self, mask: int, facts: Mapping[str, Any]) -> int:
        """``mask`` without the rules whose parts that read several facts fail on ``facts``."""
        mixed = mask & self._mixed
        rules = self.table.rules
        while mixed:
            low = mixed & -mixed
            mixed ^= low
            if not rules[low.bit_length() - 1].predicate(facts):
                mask ^= low
        return mask

    def _indexes(self, mask: int) -> tuple[int, ...]:
        rules = self.table.rules
        out: list[int] = []
        while mask:
            low = mask & -mask
            mask ^= low
            out.append(rules[low.bit_length() - 1].index)
        return tuple(out)

    def result(self, values: tuple[Any, ...], mask: int) -> Outcome:
        """The outcome for ``values`` (of :attr:`needs`, in order), whose tests of one fact
        alone left ``mask`` (:meth:`mask` of every fact a rule tests alone): the same as
        calling the table on ``values``, remembered by the rules that match and the values
        rules copy, not by every value.

        With :attr:`winners`, the outcome's matches are the rule that fires alone: outcomes
        then differ only by it (a first-match table of a thousand threshold rules has as many
        sets of matching rules), and the rules it shadows are not found."""
        if self.matcher is not None:
            return self(values)
        facts = None
        if self.winners:
            rules = self.table.rules
            while mask:
                low = mask & -mask
                if not low & self._mixed:
                    break
                if facts is None:
                    facts = dict(zip(self.needs, values, strict=True))
                if rules[low.bit_length() - 1].predicate(facts):
                    break
                mask ^= low
            mask &= -mask
        elif mask & self._mixed:
            facts = dict(zip(self.needs, values, strict=True))
            mask = self._settle(mask, facts)
        key = (mask, *[values[i] for i in self._copied]) if self._copied else mask
        found = self._by_mask.get(key)
        if found is None:
            if facts is None:
                facts = dict(zip(self.needs, values, strict=True))
            made = outcome(self.table, self._indexes(mask), facts)
            found = self._by_mask[key] = self._outcomes.setdefault(made, made)
        return found

    def _evaluate(self, facts: dict[str, Any]) -> Outcome:
        table = self.table
        matches = self.matches(facts)
        if self.matcher is None:
            return outcome(table, matches, facts)
        # Another engine decides what fires; every match is kept to find shadowed rules.
        result = outcome(table, self.matcher(table, facts), facts)
        return replace(result, matches=matches)


def _conjuncts(condition: Condition) -> list[Condition]:
    """The parts a condition's top-level conjunction is made of."""
    if isinstance(condition, AllOf):
        return [part for item in condition.items for part in _conjuncts(item)]
    return [condition]


# -- the walk -----------------------------------------------------------------------------------
