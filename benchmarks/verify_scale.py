"""Organisation policies of growing size for the ``verify`` scale benchmark and tests.

:func:`write_org_policy` writes ``n`` threshold rules of an organisation's own as an
organisation file that ``extends`` the shipped policy. Every rule compares an ETA (fix-forward
or rollback, reported or worked out) with its own threshold, so each adds a cut to a number's
domain. Two mixes:

* ``"plan"``: rules in the plan and communication tables only (the collect tables after the
  decision, which nothing in the decision depends on);
* ``"mixed"`` (the benchmark's): every other rule goes into a table the decision depends on
  instead: first-hit rules placed with ``before:`` in ``decision`` (a fix-forward ETA under a
  threshold for a non-critical issue; a rollback ETA over one threshold with a fix-forward ETA
  under another) and in ``rollback_eta`` (a reported rollback ETA over a threshold, capped).

Files hold at most :data:`RULES_PER_FILE` rules (the bounded reader refuses larger documents)
and extend one another.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

#: Rules per organisation file (the reader's node limit is 10,000 per document).
RULES_PER_FILE = 250

Mix = Literal["plan", "mixed"]

#: (table, fact compared, operator, output set, what the rule adds), cycled through.
SHAPES = (
    ("plan_warnings", "fix_forward_eta_minutes", "ge", "plan_warnings", "mixed_versions"),
    ("plan_monitoring", "rollback_eta_minutes", "gt", "plan_monitoring", "type_2"),
    ("communication", "fix_forward_eta_minutes", "le", "notify_stakeholders", "trading_system"),
    ("plan_checklists", "fix_forward_eta_minutes", "lt", "plan_checklists", "before_rollback"),
)


def threshold_rule(i: int, shape: int | None = None) -> list[str]:
    """A plan or communication rule with its own threshold (shape ``i`` modulo 4, unless
    ``shape`` is given)."""
    table, fact, op, output, item = SHAPES[(i if shape is None else shape) % len(SHAPES)]
    threshold = 16 + i * 0.5
    return [
        f"    - table: {table}",
        f"      id: org.{table}.{i}",
        f"      when: {{{fact}: {{{op}: {threshold:g}}}, action: {{in: [rollback, fix_forward]}}}}",
        f"      set: {{{output}: [{item}]}}",
    ]


def decision_rule(i: int) -> list[str]:
    """A first-hit rule of a table the decision depends on, with its own thresholds (one of
    three shapes, by ``i``)."""
    t = 16 + i * 0.5
    kind = (i // 2) % 3
    if kind == 0:
        # under the 15-minute window (a quick fix either way), each its own threshold
        quick = 15 - 15 / (i // 6 + 2)
        return [
            "    - table: decision",
            "      before: tree.3.critical",
            f"      id: org.decision.quick.{i}",
            f"      when: {{fix_forward_eta_minutes: {{lt: {quick:.6g}}}, "
            "impact: non_critical, related_to_deployment: true}",
            "      set: {action: fix_forward}",
            "      because: A fix this quick is taken before a non-critical rollback.",
        ]
    if kind == 1:
        return [
            "    - table: decision",
            "      before: tree.7.fix_faster",
            f"      id: org.decision.long_rollback.{i}",
            f"      when: {{rollback_eta: {{gt: {t + 30:g}}}, "
            f"fix_forward_eta_minutes: {{lt: {t:g}}}}}",
            "      set: {action: fix_forward}",
            "      because: A long rollback is not started when a fix is this close.",
        ]
    cap = 3000 - i  # the highest cap first, so that each cap has its own band
    return [
        "    - table: rollback_eta",
        "      before: eta.reported",
        f"      id: org.rollback_eta.cap.{i}",
        f"      when: {{rollback_eta_minutes: {{gt: {cap:g}}}}}",
        f"      set: {{rollback_eta: {cap:g}, rollback_eta_estimated: false}}",
        "      because: Reported rollback times this long are capped by the runbook.",
    ]


def org_rule(i: int, mix: Mix) -> list[str]:
    if mix == "plan":
        return threshold_rule(i)
    return decision_rule(i) if i % 2 == 0 else threshold_rule(i, i // 2)


def write_org_policy(
    folder: Path,
    n: int,
    *,
    disable: Sequence[str] = (),
    extra: Sequence[str] = (),
    mix: Mix = "plan",
) -> Path:
    """An organisation policy adding ``n`` threshold rules (``mix``) to the shipped policy,
    disabling the shipped rules ``disable`` and adding ``extra`` (YAML lines, items of
    ``rules.add``) in its last file; returns the file to load."""
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
            line for i in range(start, min(start + RULES_PER_FILE, n)) for line in org_rule(i, mix)
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
