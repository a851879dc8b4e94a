"""Shared hypothesis settings of the property tests (one profile; modest example counts)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("rollback_decision", SETTINGS)
settings.load_profile("rollback_decision")
