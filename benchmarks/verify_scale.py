"""Organisation policies of growing size for the ``verify`` scale benchmark and tests.

:func:`threshold_rules` writes ``n`` threshold rules of an organisation's own into the plan and
communication tables (the collect tables after the decision), as an organisation file that
``extends`` the shipped policy: every rule compares an ETA with its own threshold (fix-forward
and rollback ETAs, reported or worked out), so each adds a cut to a number's domain. Files
hold at most :data:`RULES_PER_FILE` rules (the bounded reader refuses larger documents) and
extend one another.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

#: Rules per organisation file (the reader's node limit is 10,000 per document).
RULES_PER_FILE = 250

#: (table, fact compared, output set, what the rule adds), cycled through.
SHAPES = (
    ("plan_warnings", "fix_forward_eta_minutes", "ge", "plan_warnings", "mixed_versions"),
    ("plan_monitoring", "rollback_eta_minutes", "gt", "plan_monitoring", "type_2"),
    ("communication", "fix_forward_eta_minutes", "le", "notify_stakeholders", "trading_system"),
    ("plan_checklists", "fix_forward_eta_minutes", "lt", "plan_checklists", "before_rollback"),
)


def threshold_rule(i: int) -> list[str]:
    table, fact, op, output, item = SHAPES[i % len(SHAPES)]
    threshold = 16 + i * 0.5
    return [
        f"    - table: {table}",
        f"      id: org.{table}.{i}",
        f"      when: {{{fact}: {{{op}: {threshold:g}}}, action: {{in: [rollback, fix_forward]}}}}",
        f"      set: {{{output}: [{item}]}}",
    ]


def write_org_policy(
    folder: Path, n: int, *, disable: Sequence[str] = (), extra: Sequence[str] = ()
) -> Path:
    """An organisation policy adding ``n`` threshold rules to the shipped policy, disabling the
    shipped rules ``disable`` and adding ``extra`` (YAML lines, items of ``rules.add``) in its
    last file; returns the file to load."""
    folder.mkdir(parents=True, exist_ok=True)
    base = "default"
    starts = range(0, n, RULES_PER_FILE) if n else range(1)
    path = folder / "org-0.yaml"
    for k, start in enumerate(starts):
        path = folder / f"org-{k}.yaml"
        last = k == len(starts) - 1
        lines = [f"extends: {base}", "rules:"]
        if last and disable:
            lines.append(f"  disable: [{', '.join(disable)}]")
        added = [
            line for i in range(start, min(start + RULES_PER_FILE, n)) for line in threshold_rule(i)
        ]
        if last:
            added += extra
        if added:
            lines += ["  add:", *added]
        if lines[-1] == "rules:":
            lines[-1] = "rules: {}"
        path.write_text("\n".join(lines) + "\n", "utf-8")
        base = path.name
    return path
