"""What a walk holds: classes of incidents with their weight and smallest member, the
problems it finds, the limits it stops at, and the columns of its keys."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rollback_decision.verify.incidents import Assignment

__all__ = [
    "INPUT",
    "MAX_CLASSES",
    "MAX_EVALUATIONS",
    "Column",
    "TableProblem",
    "WalkClass",
    "WalkLimit",
    "getter",
]

INPUT = "in"
#: Most classes a walk holds after one table (about 300 bytes each): past it the walk stops
#: and says where (:class:`WalkLimit`), rather than exhaust the machine's memory.
MAX_CLASSES = 1_500_000
#: Most evaluations of one table (a few microseconds each; points of a run number the table
#: cannot tell apart are one): past it the walk stops and says where, rather than run for hours.
MAX_EVALUATIONS = 25_000_000


class WalkLimit(Exception):
    """The walk stopped: the classes it would hold reached its limit."""

    def __init__(self, table: str, limit: int, what: str = "classes of incidents") -> None:
        super().__init__(table, limit, what)
        self.table = table
        self.limit = limit
        self.what = what

    def __str__(self) -> str:
        return (
            f"the walk stopped at table {self.table!r}: it would hold more than "
            f"{self.limit:,} {self.what}"
        )


#: Column of a walk state: ("in", fact) for an input, (policy index, fact) for a derived fact.
Column = tuple[Any, str]


@dataclass(slots=True)
class WalkClass:
    """A class of incidents the walk cannot tell apart: how many incidents of the space it
    stands for, and its smallest member (fewest non-default facts)."""

    weight: int
    assignment: Assignment
    cost: int

    def absorb(self, other: WalkClass) -> None:
        """Take ``other`` in: its incidents become this class's."""
        self.offer(other.weight, other.assignment, other.cost)

    def offer(self, weight: int, assignment: Assignment, cost: int) -> None:
        self.weight += weight
        if cost < self.cost:
            self.assignment, self.cost = assignment, cost


@dataclass
class TableProblem:
    """Where a table could not decide, or which rules fired and shadowed each other."""

    kind: str
    policy: int
    table: str
    rules: tuple[str, ...]
    example: WalkClass


def getter(indexes: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A fast ``lambda key: tuple(key[i] for i in indexes)``."""
    if not indexes:
        return lambda key: ()
    if len(indexes) == 1:
        (only,) = indexes
        return lambda key: (key[only],)
    return operator.itemgetter(*indexes)
