"""The hypothesis settings every property test here uses (applied per test with ``@SETTINGS``,
so that other test modules keep their own)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

__all__ = ["SETTINGS"]

#: Modest example counts keep the whole suite at a few minutes on two cores; ``deadline=None``
#: because a loaded CI machine makes single examples slow without anything being wrong.
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
