"""The native engine: the policy's tables compiled to one generated Python function.

:class:`Pipeline` writes the source of ``run(facts)`` once per policy: every table in
pipeline order, each rule's condition inlined from the operators' compiled forms
(:mod:`rollback_decision.policy.operators`), each table's hit policy and aggregates from
:func:`rollback_decision.policy.semantics.table_source`. No rule text becomes source (see
:mod:`rollback_decision.policy.codegen`). It computes exactly what
:func:`rollback_decision.engine.core.run` computes with :func:`match`, which stays the
engine's :data:`~rollback_decision.engine.core.Matcher` for the verifier and for comparing
engines; the tests hold the two to the same answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.engine.core import FACT_NAMES, Matcher, Trace, assembler, facts_of_key
from rollback_decision.errors import DecisionError
from rollback_decision.policy import CompiledTable, Policy
from rollback_decision.policy.codegen import Namespace, condition_source
from rollback_decision.policy.conditions import AllOf, Condition
from rollback_decision.policy.semantics import (
    Combine,
    RuleSource,
    collected,
    constant_collector,
    mask_indexes,
    outcome,
    table_source,
)

__all__ = ["DECIDER", "PIPELINE", "Pipeline", "decider", "match", "matcher", "pipeline"]


def match(table: CompiledTable, facts: Mapping[str, Any]) -> tuple[int, ...]:
    """Indexes of the rules of ``table`` that match; a first-match table stops at the first."""
    if table.combine.stops_at_first:
        for rule in table.rules:
            if rule.predicate(facts):
                return (rule.index,)
        return ()
    return tuple(rule.index for rule in table.rules if rule.predicate(facts))


def matcher(policy: Policy, *, remember: bool = True) -> Matcher:
    """The native matcher for ``policy``; remembering matches in its runtime, or not."""
    if not remember:
        return match
    runtime = policy.runtime

    def remembered(table: CompiledTable, facts: Mapping[str, Any]) -> Sequence[int]:
        memo = runtime.memo(f"matches.{table.id}")
        key = tuple(map(facts.__getitem__, table.reads))
        found: tuple[int, ...] | None = memo.get(key)
        if found is None:
            found = memo.put(key, match(table, facts))
        return found

    return remembered


class Undecided(Exception):
    """Raised by the generated code where a table cannot decide (a gap or an overlap)."""

    def __init__(self, position: int, matches: tuple[int, ...]) -> None:
        super().__init__(position, matches)
        self.position = position
        self.matches = matches


class Pipeline:
    """Every table of a policy as one generated function (compiled once per policy)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.tables = policy.tables
        #: collect tables whose rules copy facts: their outcome depends on more than the mask
        self._copies = tuple(
            any(source is not None for rule in t.rules for _, _, source in rule.sets)
            for t in policy.tables
        )
        self.source, self._run = _generate(policy)
        #: per table, the memo of a collect table's outcomes by match mask (None: not kept)
        self._memos = tuple(
            policy.runtime.memo(f"collect.{t.id}")
            if t.combine is Combine.COLLECT and not copies
            else None
            for t, copies in zip(policy.tables, self._copies, strict=True)
        )
        #: per table, :func:`constant_collector` of a collect table (None: the general way)
        self._constant = tuple(
            constant_collector(t) if t.combine is Combine.COLLECT else None for t in self.tables
        )
        empty: dict[int, Any] = {}
        never: Callable[[int], Any] = empty.get
        self._readers = tuple(m.reader if m is not None else never for m in self._memos)
        self._forget = tuple(never for _ in self._memos)

    def run(self, facts: dict[str, Any], *, remember: bool = True) -> Trace:
        """The facts after every table and the rules each fired, as ``core.run`` gives them,
        from an incident's facts (:func:`~rollback_decision.engine.core.incident_facts`; the
        mapping is completed in place).

        A collect table's outcome depends only on which of its rules match (unless its rules
        copy facts): it is remembered per set of matches by the policy's runtime, unless
        ``remember`` is false.
        """
        # (the generated code takes the incident's facts from their key in one step)
        key = tuple(map(facts.__getitem__, FACT_NAMES))
        try:
            if remember:
                fired = self._run(facts, key, self._collect_remembered, self._readers)
            else:
                fired = self._run(facts, key, self._collect, self._forget)
        except Undecided as undecided:
            raise self.problem(undecided, facts) from None
        return facts, fired

    def problem(self, undecided: Undecided, facts: Mapping[str, Any]) -> DecisionError:
        """The error to raise where the generated code found a table undecided."""
        table = self.tables[undecided.position]
        return DecisionError(table.id, outcome(table, undecided.matches, facts).message(table))

    def _collect(self, position: int, mask: int, facts: dict[str, Any]) -> tuple[Any, ...]:
        # A collect table fires every rule that matches: its outcome (fired, values).
        fired = mask_indexes(mask)
        constant = self._constant[position]
        if constant is not None:
            return (fired, constant(fired))
        return (fired, collected(self.tables[position], fired, facts))

    def _collect_remembered(
        self, position: int, mask: int, facts: dict[str, Any]
    ) -> tuple[Any, ...]:
        found = self._collect(position, mask, facts)
        memo = self._memos[position]
        return memo.put(mask, found) if memo is not None else found


#: The name :func:`pipeline` keeps it by in the runtime (hot paths read ``compiled`` first).
PIPELINE = "native.pipeline"


def pipeline(policy: Policy) -> Pipeline:
    """The policy's compiled pipeline (made once, kept by the policy's runtime)."""
    return policy.runtime.once(PIPELINE, Pipeline, policy)


#: The name :func:`decider` keeps it by in the runtime (hot paths read ``compiled`` first).
DECIDER = "native.decider"


def decider(policy: Policy) -> Callable[[tuple[Any, ...]], Decision]:
    """The native engine's decision on an incident given by its key
    (:func:`~rollback_decision.engine.core.incident_key`), every memo used: the generated
    pipeline, then :func:`~rollback_decision.engine.core.assembler`'s closure, bound once per
    policy (no lookups per call). What ``decide()`` runs on an incident it does not
    remember."""
    return policy.runtime.once(DECIDER, _decider, policy)


def _decider(policy: Policy) -> Callable[[tuple[Any, ...]], Decision]:
    pipe = pipeline(policy)
    run, collect, readers = pipe._run, pipe._collect_remembered, pipe._readers
    assemble = assembler(policy)

    def decide(key: tuple[Any, ...]) -> Decision:
        facts = facts_of_key(key)
        try:
            fired = run(facts, key, collect, readers)
        except Undecided as undecided:
            raise pipe.problem(undecided, facts) from None
        return assemble(facts, fired, True)

    return decide


class _Counting:
    """Counts the tests a table's conditions make (by their source)."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts

    def __call__(self, source: str) -> str:
        self.counts[source] += 1
        return source


class _Shared:
    """Each test that several rules of a table make, bound once to a local ``aN``."""

    def __init__(self, counts: Counter[str]) -> None:
        self.counts = counts
        self.names: dict[str, str] = {}

    def __call__(self, source: str) -> str:
        if self.counts[source] < 2:
            return source
        return self.names.setdefault(source, f"a{len(self.names)}")


#: per set operator, its test of a mask ``w`` with ``k`` (the literal set's bits) and
#: ``rest`` (every other bit, the one for other members included)
_MASK_TESTS: Mapping[str, str] = MappingProxyType(
    {
        "any_of": "({w} & {k})",
        "none_of": "(not {w} & {k})",
        "all_of": "({w} & {k} == {k})",
        "subset_of": "(not {w} & {rest})",
    }
)


class _SetMasks:
    """Set tests of a list fact against literal sets, as tests of one bit mask per fact.

    A list fact that two or more tests compare with literal sets gets a local ``wN``, made
    once where the fact is known: a bit per member of those sets that the fact holds, and
    one more bit for any other member. Each test is then one ``&`` on it in place of a set
    operation over the fact's tuple. A null fact's mask is None, so a test of it raises a
    TypeError where the set operation would.
    """

    def __init__(self, policy: Policy, ns: Namespace) -> None:
        self.ns = ns
        members: dict[str, dict[Any, None]] = {}
        counts: Counter[str] = Counter()

        def record(op: str, fact: str, operand: frozenset[Any]) -> None:
            counts[fact] += 1
            members.setdefault(fact, {}).update(dict.fromkeys(operand))

        for table in policy.tables:
            for rule in table.rules:
                condition_source(rule.condition, ns, str, None, record)
        #: per fact with a mask, each member's bit (others: the next bit)
        self.bits = {
            fact: {member: 1 << i for i, member in enumerate(found)}
            for fact, found in members.items()
            if counts[fact] >= 2  # one test costs less than making the mask
        }
        self.names: dict[str, str] = {}

    def lines(self, fact: str, value: str) -> list[str]:
        """The lines binding the mask of ``fact`` (held by local ``value``), if it has one."""
        bits = self.bits.get(fact)
        if bits is None:
            return []
        name = self.names[fact] = f"w{len(self.names)}"
        table = self.ns.constant(bits, "b")  # (a dict: a name of its own)
        return [
            f"    if {value} is None:",
            f"        {name} = None",
            "    else:",
            f"        {name} = 0",
            f"        for e in {value}:",
            f"            {name} |= {table}.get(e, {1 << len(bits)})",
        ]

    def __call__(self, op: str, fact: str, operand: frozenset[Any]) -> str | None:
        name = self.names.get(fact)
        form = _MASK_TESTS.get(op)
        if name is None or form is None:
            return None
        bits = self.bits[fact]
        k = sum(bits[member] for member in operand)
        rest = ((1 << (len(bits) + 1)) - 1) ^ k
        return form.format(w=name, k=k, rest=rest)


def _conjuncts(
    condition: Condition,
    ns: Namespace,
    fact: Callable[[str], str],
    shared: _Shared,
    masks: _SetMasks,
) -> list[str]:
    """The expressions of a rule's condition that must all hold (one for a condition that is
    not an ``all``)."""
    items = condition.items if isinstance(condition, AllOf) and condition.items else (condition,)
    return [condition_source(item, ns, fact, shared, masks) for item in items]


def _grouped(rules: list[tuple[list[str], int]], indent: str = "    ") -> list[str]:
    """The lines setting a collect or unique table's mask ``m``: each rule's bit where all
    its conjuncts hold. Consecutive rules whose first conjunct is the same expression are
    tested under one ``if`` of it, recursively: where it is false they cost one test in all.
    Rules keep their order and every other conjunct is evaluated exactly where it was; the
    shared one (a pure expression of locals) is evaluated once, where the first of them
    evaluated it, so it gives the same value, or raises at the same point."""
    out: list[str] = []
    i = 0
    while i < len(rules):
        conjuncts, bit = rules[i]
        head = conjuncts[0] if conjuncts else None
        j = i + 1
        while head is not None and j < len(rules) and rules[j][0][:1] == [head]:
            j += 1
        if j - i >= 2:
            out.append(f"{indent}if {head}:")
            out += _grouped([(c[1:], b) for c, b in rules[i:j]], indent + "    ")
        elif conjuncts:
            out.append(f"{indent}if {' and '.join(conjuncts)}:")
            out.append(f"{indent}    m |= {bit}")
        else:
            out.append(f"{indent}m |= {bit}")
        i = j
    return out


def _inline_single_uses(
    lines: list[str], ahead: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """``lines`` with each test of ``ahead`` (source: local) that they use once written in
    place of its local, and the tests still worth evaluating ahead."""
    kept: dict[str, str] = {}
    for source, name in ahead.items():
        word = re.compile(rf"\b{name}\b")
        if sum(len(word.findall(line)) for line in lines) == 1:
            literal = source.replace("\\", "\\\\")  # (a replacement string, taken as is)
            lines = [word.sub(literal, line) for line in lines]
        else:
            kept[source] = name
    return lines, kept


def _generate(policy: Policy) -> tuple[str, Callable[..., dict[str, tuple[int, ...]]]]:
    ns = Namespace()
    ns.values["Undecided"] = Undecided
    ns.values["mask_indexes"] = mask_indexes
    local: dict[str, str] = {}
    lines = ["def run(f, t, collect, G):"]
    read: set[str] = set()
    for table in policy.tables:
        for rule in table.rules:
            read |= rule.reads
            read.update(source for _, _, source in rule.sets if source is not None)
    incident = sorted(n for n in read if n not in policy.producers)
    for name in incident:
        local[name] = f"v{len(local)}"
    # The incident's facts come unpacked from ``t`` (incident_key's order); any other from f.
    targets = ", ".join(local.get(name, "_") for name in FACT_NAMES)
    lines.append(f"    ({targets},) = t")
    for name in incident:
        if name not in FACT_NAMES:
            lines.append(f"    {local[name]} = f[{ns.constant(name, 'k')}]")
    masks = _SetMasks(policy, ns)
    for name in incident:
        lines += masks.lines(name, local[name])
    written: set[str] = set()
    for position, table in enumerate(policy.tables):
        for name in table.outputs:
            local[name] = f"v{len(local)}"
        # A collect or unique table tests every rule: a test that cannot raise and that
        # several of its rules share is evaluated once, into a local, ahead of them.
        counts: Counter[str] = Counter()
        if table.combine is not Combine.FIRST:
            for rule in table.rules:
                condition_source(rule.condition, ns, local.__getitem__, _Counting(counts), masks)
        shared = _Shared(counts)
        conjuncts = (
            [
                _conjuncts(rule.condition, ns, local.__getitem__, shared, masks)
                for rule in table.rules
            ]
            if table.combine is not Combine.FIRST
            else None
        )
        rules = [
            RuleSource(
                rule.index,
                condition_source(rule.condition, ns, local.__getitem__, shared, masks),
                tuple(
                    (local[name], local[source] if source is not None else ns.constant(value))
                    for name, value, source in rule.sets
                ),
            )
            for rule in table.rules
        ]
        grouped = (
            _grouped([(c, 1 << r.index) for c, r in zip(conjuncts, table.rules, strict=True)])
            if conjuncts is not None
            else None
        )
        ahead = shared.names
        if grouped is not None:  # a test left with one use after grouping is made there
            grouped, ahead = _inline_single_uses(grouped, ahead)
        lines.append(f"    # table {position}")
        lines += [f"    {name} = {source}" for source, name in ahead.items()]
        if table.combine is Combine.COLLECT:
            # What its rules copy must be in ``f`` for outcome() to read.
            for rule in table.rules:
                for _, _, source in rule.sets:
                    if source is not None and source in policy.producers and source not in written:
                        written.add(source)
                        lines.append(f"    f[{ns.constant(source, 'k')}] = {local[source]}")
        lines += table_source(table.combine, position, rules, "collect", grouped)
        if table.combine is Combine.COLLECT:
            names = "".join(f"{local[name]}, " for name in table.outputs)
            lines.append(f"    ({names}) = o")
        for name in table.outputs:
            lines += masks.lines(name, local[name])
    for table in policy.tables:
        for name in table.outputs:
            lines.append(f"    f[{ns.constant(name, 'k')}] = {local[name]}")
    fired = ", ".join(
        f"{ns.constant(table.id, 'k')}: F{p}" for p, table in enumerate(policy.tables)
    )
    lines.append(f"    return {{{fired}}}")
    source = "\n".join(lines) + "\n"
    run: Callable[..., dict[str, tuple[int, ...]]] = ns.compile(source, "run", "<pipeline>")
    return source, run
