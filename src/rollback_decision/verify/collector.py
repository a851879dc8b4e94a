"""The cyclic garbage collector, paused while ``verify`` or ``diff`` runs.

A walk builds millions of small tuples and lists that live until the walk ends, and makes no
reference cycles of its own. Each full pass of the collector visits every one of them: with
200 rules added, the collector's passes were 44% of ``verify``'s time, and the share grows
with the size of the walk. Reference counting still frees everything that is dropped; only
the search for cycles waits until the outermost paused call returns (the collector is then
switched back on if it was on before, and a collection runs on its usual schedule).

The collector is one per process, so the pause is counted per process: nested and concurrent
calls share it, and the last one to finish restores it.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["paused", "pausing"]

P = ParamSpec("P")
R = TypeVar("R")


class _Pause:
    """How many calls hold the collector paused, and whether it was on before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held = 0
        self.was_on = False


# The collector is process-wide state, so its pause is too (not a cache: it holds a count).
_PAUSE = _Pause()


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; the outermost block restores it."""
    with _PAUSE.lock:
        if _PAUSE.held == 0:
            _PAUSE.was_on = gc.isenabled()
            gc.disable()
        _PAUSE.held += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.held -= 1
            if _PAUSE.held == 0 and _PAUSE.was_on:
                gc.enable()


def pausing(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run with the collector :func:`paused`."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return function(*args, **kwargs)

    return run
