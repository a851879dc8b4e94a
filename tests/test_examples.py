"""The shipped examples run as they are: the Python script and the what-if notebook."""

from __future__ import annotations

import runpy

import pytest

from tests.conftest import EXAMPLES


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "decide_incident.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.startswith("rollback — rollback type 3\n")
    assert "with a 5-minute fix: fix_forward" in out


def test_what_if_notebook_runs_top_to_bottom() -> None:
    nbformat = pytest.importorskip("nbformat", reason="the notebook test needs the test extra")
    nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the test extra")
    notebook = nbformat.read(EXAMPLES / "what-if.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = [
        out.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    ]
    assert "('rollback', 3, 'Non-Critical Issue')" in outputs[0]
    assert any("'one-way migration': 'must_fix_forward'" in out for out in outputs)
    html = [
        out.get("data", {}).get("text/html", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    ]
    assert any("<b>fix_forward</b> if fix_forward_eta_minutes were under 15" in p for p in html)
    assert any('<div class="rollback-decision">' in page for page in html)
    printed = [out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", [])]
    assert any(text.startswith("flowchart TD") for text in printed)
    markdown = [
        out.get("data", {}).get("text/markdown", "")
        for c in notebook.cells
        for out in c.get("outputs", [])
    ]
    assert any("### decision — hit policy: first" in text for text in markdown)
