"""The public strategies draw every field, and keywords constrain them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollback_decision import Change, Incident
from rollback_decision.strategies import change_fields, changes, incident_fields, incidents
from tests.property.settings import SETTINGS


def test_every_field_has_a_strategy() -> None:
    assert set(incident_fields()) | {"change"} == set(Incident.model_fields)
    assert set(change_fields()) == set(Change.model_fields)


@SETTINGS
@given(incidents(related_to_deployment=True, severity=st.sampled_from(["critical"])))
def test_keywords_fix_fields(incident: Incident) -> None:
    assert incident.related_to_deployment is True
    assert incident.severity == "critical"


@SETTINGS
@given(incidents(change=changes(components=["network"])))
def test_change_can_be_constrained(incident: Incident) -> None:
    assert [c.value for c in incident.change.components] == ["network"]


def test_unknown_keyword_is_a_type_error_with_a_hint() -> None:
    with pytest.raises(
        TypeError, match=r"Incident has no field 'severty' \(did you mean 'severity'\?\)"
    ):
        incidents(severty="critical")


def test_importing_the_package_does_not_import_hypothesis() -> None:
    code = "import sys, rollback_decision; print('hypothesis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_hypothesis_the_import_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import rollback_decision.strategies\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rollback-decision[strategies]'" in out.stdout
