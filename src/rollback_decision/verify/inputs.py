"""The walk's input facts: each class extended with every value of a fact the walk keeps
(:func:`introduce`), or evaluated for every combination of the facts only one table reads
(:func:`local_domains`), with the pairs each value adds to a class's smallest member."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rollback_decision.verify.abstraction import Canon
from rollback_decision.verify.classes import Column, WalkClass, WalkLimit
from rollback_decision.verify.domains import is_number
from rollback_decision.verify.incidents import Assignment

if TYPE_CHECKING:  # pragma: no cover
    from rollback_decision.verify.walk import Walk

__all__ = ["introduce", "local_domains"]


def local_domains(
    walk: Walk, local: Sequence[str], columns: Sequence[Column]
) -> Callable[[tuple[Any, ...]], Sequence[tuple[tuple[Any, ...], Assignment, int]]]:
    """For a class key: every combination of the local inputs, with the non-default pairs
    it adds to the class's smallest member and how many."""
    space = walk.space
    if not local:
        none: list[tuple[tuple[Any, ...], Assignment, int]] = [((), (), 0)]
        return lambda key: none
    fixed: list[list[tuple[Any, Assignment, int]] | None] = []
    partner_idx: list[list[int]] = []
    for name in local:
        domain = space.domains[name]
        if domain.values is None:
            partners = space.number_partners(name)
            partner_idx.append([i for i, (_, n) in enumerate(columns) if n in partners])
            fixed.append(None)
        else:
            partner_idx.append([])
            fixed.append([_option(walk, name, v) for v in domain.values])
    cache: dict[tuple[Any, ...], list[tuple[tuple[Any, ...], Assignment, int]]] = {}
    # A class's numbers add a few points to a local number's domain: the lists of two classes
    # share their other combinations (one object each), not copies of them.
    made: dict[tuple[Any, ...], tuple[tuple[Any, ...], Assignment, int]] = {}
    numbers: dict[tuple[str, Any], tuple[Any, Assignment, int]] = {}

    def option(name: str, value: Any) -> tuple[Any, Assignment, int]:
        found = numbers.get((name, value))
        if found is None:
            found = numbers[(name, value)] = _option(walk, name, value)
        return found

    def combination(
        choice: tuple[tuple[Any, Assignment, int], ...],
    ) -> tuple[tuple[Any, ...], Assignment, int]:
        found = made.get(choice)
        if found is None:
            found = made[choice] = (
                tuple(value for value, _, _ in choice),
                tuple(pair for _, pairs, _ in choice for pair in pairs),
                sum(cost for _, _, cost in choice),
            )
        return found

    def combos(key: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Assignment, int]]:
        extras = tuple(tuple(key[i] for i in idx if is_number(key[i])) for idx in partner_idx)
        found = cache.get(extras)
        if found is None:
            options = [
                given
                if given is not None
                else [option(name, v) for v in space.number_points(name, extra)]
                for name, given, extra in zip(local, fixed, extras, strict=True)
            ]
            found = cache[extras] = list(map(combination, itertools.product(*options)))
        return found

    if not any(partner_idx):
        # No local number depends on the class: one list of combinations serves every key.
        every = combos(())
        return lambda key: every
    return combos


def _option(walk: Walk, name: str, value: Any) -> tuple[Any, Assignment, int]:
    if value == walk.space.defaults[name]:
        return value, (), 0
    return value, ((name, value),), 1


def introduce(
    walk: Walk,
    name: str,
    columns: list[Column],
    states: dict[tuple[Any, ...], WalkClass],
    table: str,
    canon: Canon | None = None,
) -> dict[tuple[Any, ...], WalkClass]:
    """``states`` with the input fact ``name`` added: each class once per value of it;
    values ``canon`` merges are one class (as :func:`merge_classes` would make it)."""
    space = walk.space
    domain = space.domains[name]
    default = space.defaults[name]
    partner_idx: list[int] = []
    if domain.kind == "number":
        partners = space.number_partners(name)
        partner_idx = [i for i, (_, n) in enumerate(columns) if n in partners]
    out: dict[tuple[Any, ...], WalkClass] = {}
    cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for key, cls in states.items():
        if domain.values is not None:
            values = domain.values
        else:
            extra = tuple(key[i] for i in partner_idx if is_number(key[i]))
            values = cache.get(extra) or cache.setdefault(extra, space.number_points(name, extra))
        if len(out) > walk.max_classes:
            raise WalkLimit(table, walk.max_classes)
        for value in values:
            if value == default:
                assignment, cost = cls.assignment, cls.cost
            else:
                assignment, cost = (*cls.assignment, (name, value)), cls.cost + 1
            new_key = (*key, value if canon is None else canon(value))
            existing = out.get(new_key)
            if existing is None:
                out[new_key] = WalkClass(cls.weight, assignment, cost)
            else:
                existing.offer(cls.weight, assignment, cost)
    return out
