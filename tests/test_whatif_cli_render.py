"""The what-if, sweep and render commands; the diagrams and tables; rich display."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from rollback_decision import decide, load_policy
from rollback_decision.cli import main
from rollback_decision.notebook import counterfactuals, show, sweep, why_not
from rollback_decision.whatif.render import decision_tables, decision_tree, fired_rules

INCIDENT = """\
related_to_deployment: true
symptoms: [minor_functional_issue]
fix_forward_eta_minutes: 20
change: {components: [application_code, configuration]}
"""


@pytest.fixture
def incident_file(tmp_path: Path) -> str:
    path = tmp_path / "incident.yaml"
    path.write_text(INCIDENT, encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_what_if_prints_the_decision_and_what_changed(
    capsys: pytest.CaptureFixture[str], incident_file: str
) -> None:
    code, out, _ = run(capsys, "what-if", incident_file, "--set", "fix_forward_eta_minutes=5")
    assert code == 0
    assert "action: rollback → fix_forward" in out
    assert "Action:        fix_forward" in out
    code, out, _ = run(
        capsys,
        "what-if",
        incident_file,
        "--set",
        "change.point_of_no_return=one_way_migration",
        "--format",
        "json",
    )
    report = json.loads(out)
    assert report["changed"]["action"] == {"base": "rollback", "what_if": "must_fix_forward"}
    assert report["decision"]["action"] == "must_fix_forward"


def test_sweep_command_formats(capsys: pytest.CaptureFixture[str], incident_file: str) -> None:
    args = ["sweep", incident_file, "--vary", "fix_forward_eta_minutes=5,20,null"]
    args += ["--vary", "severity=null,critical"]
    code, out, _ = run(capsys, *args, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6
    assert [r["action"] for r in rows[:3]] == ["fix_forward", "immediate_rollback", "rollback"]
    code, out, _ = run(capsys, *args, "--format", "json")
    assert json.loads(out)[0]["fix_forward_eta_minutes"] == 5
    code, out, _ = run(capsys, *args)
    assert "immediate_rollback" in out.splitlines()[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "sevrity=critical"], "did you mean 'severity'"),
        (["--vary", "fix_forward_eta_minutes=abc"], "expected a number of minutes"),
        (["--vary", "severity"], "expected FIELD=VALUE"),
    ],
)
def test_sweep_refuses_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], incident_file: str, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "sweep", incident_file, *args)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert message in err


def test_render_tree_mermaid_structure_and_highlighted_path(
    capsys: pytest.CaptureFixture[str], incident_file: str
) -> None:
    code, out, _ = run(capsys, "render", "tree", "--incident", incident_file, "--table", "decision")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    assert lines.count("  end") == 1
    policy = load_policy()
    table = policy.table("decision")
    # one decision node and one outcome per rule, chained by "no" edges in a first-hit table
    for rule in table.rules:
        assert any(re.match(rf"\s+t0r{rule.index}\{{\".*{re.escape(rule.id)}", ln) for ln in lines)
    assert sum("-->|no|" in ln for ln in lines) == len(table.rules) - 1
    assert sum("-->|yes|" in ln for ln in lines) == len(table.rules)
    highlighted = next(ln for ln in lines if ln.startswith("  class ")).split()[1].split(",")
    decision = decide(incident_file_data())
    fired = fired_rules(policy, incident_file_data())["decision"]
    assert f"t0r{fired[0]}o" in highlighted
    assert table.rules[fired[0]].id == "tree.7.rollback"
    assert "tree.7.rollback" in decision.rule_ids


def incident_file_data() -> dict[str, object]:
    return {
        "related_to_deployment": True,
        "symptoms": ["minor_functional_issue"],
        "fix_forward_eta_minutes": 20,
        "change": {"components": ["application_code", "configuration"]},
    }


def test_render_tree_as_dot_renders_with_graphviz(tmp_path: Path) -> None:
    graphviz = pytest.importorskip("graphviz")
    source = decision_tree(load_policy(), incident=incident_file_data(), fmt="dot")
    assert source.startswith("digraph policy {")
    graph = graphviz.Source(source)
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz 'dot' program is not installed")
    svg = graph.pipe(format="svg").decode()
    assert "<svg" in svg
    assert "tree.7.rollback" in svg


def test_render_tables_one_row_per_rule_and_the_hit_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = load_policy()
    code, out, _ = run(capsys, "render", "tables", "--table", "decision")
    assert code == 0
    assert "### decision — hit policy: first" in out
    rows = [ln for ln in out.splitlines() if ln.startswith("| ") and not ln.startswith("| #")]
    assert len(rows) == len(policy.table("decision").rules)
    assert "| 7 | tree.4.quick_fix |" in out  # after tree.partial.complete_rollback
    assert "< 15" in out
    html_text = decision_tables(policy, tables=["impact"], fmt="html")
    assert html_text.count("<tr>") == len(policy.table("impact").rules) + 1


def test_render_refuses_an_unknown_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "tables", "--table", "decison")
    assert code == 2
    assert "did you mean 'decision'" in err


def test_rich_display_of_decisions_sweeps_and_counterfactuals() -> None:
    decision = decide(incident_file_data())
    page = decision._repr_html_()
    assert page.index("<h3>rollback</h3>") < page.index("<ol>")
    assert "Non-Critical Issue" in page.split("<ol>")[0]
    assert all(f"<code>{rule}</code>" in page for rule in decision.rule_ids)
    assert "<details><summary>Plan" in page
    markdown = show(decision)._repr_markdown_()
    assert markdown.startswith("### rollback")
    table = sweep(incident_file_data(), {"fix_forward_eta_minutes": [5, 20]})
    assert "<td><b>fix_forward</b></td>" in show(table)._repr_html_()
    found = counterfactuals(incident_file_data(), fields=["fix_forward_eta_minutes"], pairs=False)
    assert r"fix forward if fix\_forward\_eta\_minutes were under 15" in found._repr_markdown_()
    assert "<b>fix_forward</b> if fix_forward_eta_minutes were under 15" in found._repr_html_()
    nothing = why_not(incident_file_data(), "rollback")
    assert "the action already is rollback" in nothing._repr_html_()
