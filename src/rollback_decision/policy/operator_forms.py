"""What each operator of :mod:`.operators` means to the verifier and to durable-rules.

The registry refers to these functions; they are written against two small interfaces, so
neither the verifier nor the durable engine keeps a table of operator names:

* a :class:`DomainNotes` is told the thresholds, sets and sizes a test against a literal
  adds to its fact's discretised domain (see :mod:`rollback_decision.verify.domains`);
* a :class:`DurableTarget` gives the durable-rules message keys and expression vocabulary a
  translation is written with (see :mod:`rollback_decision.engine.durable`). A translation
  returns the exact expressions for "holds" and "fails" (``not`` is pushed down to tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

__all__ = [
    "DomainNotes",
    "DurableTarget",
    "FactTranslation",
    "Note",
    "Translation",
    "ValueTranslation",
    "all_of_fact",
    "any_of_fact",
    "durable_all_of",
    "durable_any_of",
    "durable_empty",
    "durable_eq",
    "durable_eq_fact",
    "durable_in",
    "durable_in_fact",
    "durable_min_size",
    "durable_ordering",
    "durable_subset_of",
    "negated",
    "note_empty",
    "note_members",
    "note_min_size",
    "note_number",
    "note_set",
    "note_whole_set",
    "subset_of_fact",
]
#: A JSON-able durable-rules expression; ``True`` / ``False`` stand for "always" / "never" and
#: are folded away by :meth:`DurableTarget.every` and :meth:`DurableTarget.some`.
Json = Any
#: (the expression that holds when the test holds, the one that holds when it fails)
Translation = tuple[Json, Json]


class DomainNotes(Protocol):
    """What the verifier's fact space records from a test of a fact against a literal."""

    def threshold(self, fact: str, value: float) -> None:
        """A number the fact is compared with: the domain splits there."""

    def value_set(self, fact: str, values: frozenset[Any], *, whole: bool) -> None:
        """A set of values the fact is tested against; ``whole``: a list fact must be able to
        hold all of them at once."""

    def size(self, fact: str, size: int) -> None:
        """A size of a list fact the test tells apart."""


class DurableTarget(Protocol):
    """The durable-rules primitives a translation is written with: message keys (each call
    also records that the message must carry the key) and the expression vocabulary."""

    def eq(self, fact: str) -> str:
        """The key holding the fact as a tagged string (null included)."""

    def ord(self, fact: str) -> str:
        """The key holding a number as an order-preserving string (absent for null)."""

    def items(self, fact: str) -> str:
        """The key holding a list's tagged items."""

    def len(self, fact: str) -> str:
        """The key holding a list's length."""

    def has(self, fact: str, member: Any, domain: frozenset[Any]) -> str:
        """The key holding whether a list fact (over ``domain``) holds ``member``."""

    def domain(self, fact: str) -> frozenset[Any]:
        """The declared values of ``fact`` (a translation error when it has none)."""

    def tag(self, value: Any) -> str:
        """``value`` as the tagged string ``eq`` keys hold."""

    def bound(self, value: Any) -> str | None:
        """A number as the string ``ord`` keys hold; None for NaN (never ordered)."""

    def every(self, parts: Iterable[Json]) -> Json:
        """The conjunction of ``parts``."""

    def some(self, parts: Iterable[Json]) -> Json:
        """The disjunction of ``parts``."""

    def fail(self, message: str) -> Exception:
        """The translation error to raise."""


ValueTranslation = Callable[[DurableTarget, str, Any], Translation]
FactTranslation = Callable[[DurableTarget, str, str], Translation]
Note = Callable[[DomainNotes, str, Any], None]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- contributions to the discretised fact domains ---------------------------------------------


def note_number(notes: DomainNotes, fact: str, value: Any) -> None:
    if _is_number(value):
        notes.threshold(fact, float(value))


def note_members(notes: DomainNotes, fact: str, value: Any) -> None:
    for item in value or ():
        note_number(notes, fact, item)
    note_set(notes, fact, value)


def note_set(notes: DomainNotes, fact: str, value: Any) -> None:
    if isinstance(value, (list, tuple, frozenset)):
        notes.value_set(fact, frozenset(value), whole=False)


def note_whole_set(notes: DomainNotes, fact: str, value: Any) -> None:
    if isinstance(value, (list, tuple, frozenset)):
        notes.value_set(fact, frozenset(value), whole=True)


def note_min_size(notes: DomainNotes, fact: str, value: Any) -> None:
    notes.size(fact, int(value))


def note_empty(notes: DomainNotes, fact: str, value: Any) -> None:
    notes.size(fact, 1)


# -- durable-rules translations ------------------------------------------------------------------


def negated(translate: Callable[..., Translation]) -> Callable[..., Translation]:
    """The translation of the operator's negation: holds and fails swapped."""

    def negated(t: DurableTarget, fact: str, operand: Any) -> Translation:
        holds, fails = translate(t, fact, operand)
        return fails, holds

    return negated


def durable_in(t: DurableTarget, fact: str, values: Any) -> Translation:
    key = t.eq(fact)
    tags = list(dict.fromkeys(t.tag(v) for v in values))
    return t.some({key: v} for v in tags), t.every({"$neq": {key: v}} for v in tags)


def durable_eq(t: DurableTarget, fact: str, value: Any) -> Translation:
    return durable_in(t, fact, [value])


def durable_eq_fact(t: DurableTarget, fact: str, other: str) -> Translation:
    left, right = t.eq(fact), t.eq(other)  # always present: null is "null"
    return {left: {"$m": right}}, {"$neq": {left: {"$m": right}}}


def durable_in_fact(t: DurableTarget, fact: str, other: str) -> Translation:
    domain = t.domain(other)
    key = t.eq(fact)
    pairs = [(t.tag(d), t.has(other, d, domain)) for d in sorted(domain, key=t.tag)]
    holds = t.some(t.every([{key: v}, {flag: True}]) for v, flag in pairs)
    fails = t.every(t.some([{"$neq": {key: v}}, {flag: False}]) for v, flag in pairs)
    return holds, fails


def durable_ordering(
    name: str, test: str, complement: str
) -> tuple[ValueTranslation, FactTranslation]:
    """``test`` is durable-rules' operator, ``complement`` its negation on a present number."""

    def against_value(t: DurableTarget, fact: str, value: Any) -> Translation:
        if not _is_number(value):
            raise t.fail(f"{name!r} compares with a number, got {value!r}")
        bound = t.bound(value)
        if bound is None:  # NaN: never ordered
            return False, True
        key = t.ord(fact)
        return {test: {key: bound}}, t.some([{"$nex": {key: 1}}, {complement: {key: bound}}])

    def against_fact(t: DurableTarget, fact: str, other: str) -> Translation:
        left, right = t.ord(fact), t.ord(other)
        # A $m reference to a missing key matches anything: guard both keys.
        holds = t.every([{"$ex": {left: 1}}, {"$ex": {right: 1}}, {test: {left: {"$m": right}}}])
        fails = t.some(
            [{"$nex": {left: 1}}, {"$nex": {right: 1}}, {complement: {left: {"$m": right}}}]
        )
        return holds, fails

    return against_value, against_fact


def _some_item(t: DurableTarget, fact: str, among: Sequence[str]) -> Json:
    """Some item of the list fact is one of the tags ``among``."""
    if not among:
        return False
    return {"$iany": {t.items(fact): t.some({"$i": m} for m in among)}}


def _no_item(t: DurableTarget, fact: str, among: Sequence[str]) -> Json:
    """No item of the list fact is one of the tags ``among``."""
    if not among:
        return True
    items, size = t.items(fact), t.len(fact)
    # $iall is false on an empty list: test the length first.
    return t.some([{size: 0}, {"$iall": {items: t.every({"$neq": {"$i": m}} for m in among)}}])


def _tags(t: DurableTarget, values: Any) -> list[str]:
    return list(dict.fromkeys(t.tag(v) for v in values))


def durable_any_of(t: DurableTarget, fact: str, value: Any) -> Translation:
    members = _tags(t, value)
    t.items(fact), t.len(fact)  # the message carries both, whatever the members
    return _some_item(t, fact, members), _no_item(t, fact, members)


def durable_all_of(t: DurableTarget, fact: str, value: Any) -> Translation:
    members = _tags(t, value)
    t.items(fact), t.len(fact)
    return (
        t.every(_some_item(t, fact, [m]) for m in members),
        t.some(_no_item(t, fact, [m]) for m in members),
    )


def durable_subset_of(t: DurableTarget, fact: str, value: Any) -> Translation:
    members = _tags(t, value)
    items, size = t.items(fact), t.len(fact)
    if not members:
        return {size: 0}, {"$gt": {size: 0}}
    inside = {"$iall": {items: t.some({"$i": m} for m in members)}}
    outside = {"$iany": {items: t.every({"$neq": {"$i": m}} for m in members)}}
    return t.some([{size: 0}, inside]), outside


def _set_fact(
    relation: Callable[
        [
            Callable[[Any, bool, bool], Json],
            Callable[[Any, bool, bool], Json],
            list[Any],
            DurableTarget,
        ],
        Translation,
    ],
) -> FactTranslation:
    """A set test against another list fact, through ``has:`` keys over both domains:
    ``relation(both, either, values, t)`` where ``both(d, a, b)`` says the fact holds ``d``
    iff ``a`` and the other fact holds it iff ``b``; ``either`` is the disjunction."""

    def against_fact(t: DurableTarget, fact: str, other: str) -> Translation:
        mine_domain, theirs_domain = t.domain(fact), t.domain(other)
        values = sorted(mine_domain | theirs_domain, key=t.tag)
        mine = {d: t.has(fact, d, mine_domain) for d in values}
        theirs = {d: t.has(other, d, theirs_domain) for d in values}

        def both(d: Any, a: bool, b: bool) -> Json:
            return t.every([{mine[d]: a}, {theirs[d]: b}])

        def either(d: Any, a: bool, b: bool) -> Json:
            return t.some([{mine[d]: a}, {theirs[d]: b}])

        return relation(both, either, values, t)

    return against_fact


any_of_fact = _set_fact(  # some value in both
    lambda both, either, ds, t: (
        t.some(both(d, True, True) for d in ds),
        t.every(either(d, False, False) for d in ds),
    )
)
all_of_fact = _set_fact(  # every value of the other fact is in the fact
    lambda both, either, ds, t: (
        t.every(either(d, True, False) for d in ds),
        t.some(both(d, False, True) for d in ds),
    )
)
subset_of_fact = _set_fact(  # every value of the fact is in the other fact
    lambda both, either, ds, t: (
        t.every(either(d, False, True) for d in ds),
        t.some(both(d, True, False) for d in ds),
    )
)


def durable_empty(t: DurableTarget, fact: str, value: Any) -> Translation:
    size = t.len(fact)
    empty, filled = {size: 0}, {"$gt": {size: 0}}
    return (empty, filled) if value else (filled, empty)


def durable_min_size(t: DurableTarget, fact: str, value: Any) -> Translation:
    size = t.len(fact)
    return {"$gte": {size: value}}, {"$lt": {size: value}}
