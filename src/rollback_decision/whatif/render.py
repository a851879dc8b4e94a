"""The policy for review: its decision tree as a diagram (Mermaid or Graphviz DOT), one
incident's path highlighted, and each decision table as a DMN-style grid (Markdown or HTML).

Everything is read from the compiled policy: tables in pipeline order, each rule's condition
and outputs. A "first" table is a chain (a rule is tried when the ones above did not match);
in a "unique" or "collect" table every rule is tried.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rollback_decision.engine import native
from rollback_decision.engine.core import incident_facts
from rollback_decision.facts import Incident, parse_incident
from rollback_decision.policy import CompiledRule, CompiledTable, Policy
from rollback_decision.policy.conditions import AllOf, AnyOf, Condition, Not, Test

__all__ = ["condition_text", "decision_tables", "decision_tree", "fired_rules"]

_OPS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "in": "in",
    "not_in": "not in",
}


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list, frozenset, set)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(getattr(value, "value", value))


def _test_text(test: Test, *, with_fact: bool = True) -> str:
    operand = test.operand
    shown = (
        operand.fact
        if operand.fact is not None
        else operand.param
        if operand.param is not None and isinstance(operand.value, (tuple, frozenset, list))
        else _value(operand.value)
    )
    op = _OPS.get(test.op, test.op.replace("_", " "))
    if test.op == "empty":
        text = "is empty" if operand.value else "is not empty"
    else:
        text = f"{op} {shown}"
    return f"{test.fact} {text}" if with_fact else text


def condition_text(condition: Condition) -> str:
    """A condition in one line: ``severity ≠ null and fix_forward_eta_minutes < 15``."""
    if isinstance(condition, Test):
        return _test_text(condition)
    if isinstance(condition, Not):
        return f"not ({condition_text(condition.item)})"
    if isinstance(condition, (AllOf, AnyOf)):
        if not condition.items:
            return "always" if isinstance(condition, AllOf) else "never"
        joiner = " and " if isinstance(condition, AllOf) else " or "
        parts = [condition_text(item) for item in condition.items]
        wrapped = [
            f"({p})" if isinstance(item, (AllOf, AnyOf)) and len(item.items) > 1 else p
            for p, item in zip(parts, condition.items, strict=True)
        ]
        return joiner.join(wrapped)
    return str(condition)


def _sets_text(rule: CompiledRule) -> str:
    return ", ".join(
        f"{name} = {source if source is not None else _value(value)}"
        for name, value, source in rule.sets
    )


def fired_rules(
    policy: Policy, incident: Incident | Mapping[str, Any]
) -> dict[str, tuple[int, ...]]:
    """Per table id, the indexes of the rules that fired for ``incident``."""
    _, fired = native.pipeline(policy).run(incident_facts(parse_incident(incident)))
    return {k: tuple(v) for k, v in fired.items()}


def _chosen(policy: Policy, tables: Sequence[str] | None) -> list[CompiledTable]:
    if not tables:
        return list(policy.tables)
    return [policy.table(name) for name in tables]


def decision_tree(
    policy: Policy,
    *,
    incident: Incident | Mapping[str, Any] | None = None,
    tables: Sequence[str] | None = None,
    fmt: str = "mermaid",
) -> str:
    """The tables as a flowchart (``fmt``: ``mermaid`` or ``dot``), in pipeline order; with
    ``incident``, the rules it tried and the ones that fired are highlighted."""
    fired = fired_rules(policy, incident) if incident is not None else None
    nodes: list[tuple[str, str, str, bool]] = []  # id, label, shape, highlighted
    edges: list[tuple[str, str, str, bool]] = []  # from, to, label, highlighted
    clusters: list[tuple[str, str, list[str]]] = []
    previous_exit: str | None = None
    for position, table in enumerate(_chosen(policy, tables)):
        hits = set(fired.get(table.id, ())) if fired is not None else set()
        last_hit = max(hits) if hits else -1
        start = f"t{position}"
        members = [start]
        nodes.append((start, f"{table.id} ({table.combine.value})", "start", fired is not None))
        if previous_exit is not None:
            edges.append((previous_exit, start, "", fired is not None))
        chain = table.combine.stops_at_first
        before = start
        for rule in table.rules:
            node = f"t{position}r{rule.index}"
            out = f"{node}o"
            tried = fired is not None and (not chain or rule.index <= last_hit)
            hit = rule.index in hits
            nodes.append((node, f"{rule.id}: {condition_text(rule.condition)}", "decision", tried))
            nodes.append((out, _sets_text(rule) or "(nothing)", "output", hit))
            members += [node, out]
            edges.append(
                (before if chain else start, node, "no" if chain and before != start else "", tried)
            )
            edges.append((node, out, "yes", hit))
            if chain:
                before = node
        clusters.append((f"c{position}", table.id, members))
        previous_exit = start
    if fmt == "dot":
        return _dot(nodes, edges, clusters)
    if fmt == "mermaid":
        return _mermaid(nodes, edges, clusters)
    raise ValueError(f"unknown format {fmt!r}; expected mermaid or dot")


def _mermaid_label(text: str) -> str:
    """A quoted Mermaid label: quotes as Mermaid's entity, no line breaks."""
    return '"' + text.replace('"', "#quot;").replace("\n", " ") + '"'


def _mermaid(
    nodes: Sequence[tuple[str, str, str, bool]],
    edges: Sequence[tuple[str, str, str, bool]],
    clusters: Sequence[tuple[str, str, list[str]]],
) -> str:
    shapes = {"start": ("([", "])"), "decision": ("{", "}"), "output": ("[", "]")}
    by_id = {n[0]: n for n in nodes}
    lines = ["flowchart TD"]
    for cluster, title, members in clusters:
        lines.append(f"  subgraph {cluster}[{_mermaid_label(title)}]")
        for member in members:
            _, label, shape, _ = by_id[member]
            left, right = shapes[shape]
            lines.append(f"    {member}{left}{_mermaid_label(label)}{right}")
        lines.append("  end")
    highlighted_edges = []
    for number, (source, target, label, hit) in enumerate(edges):
        arrow = f"-->|{label}|" if label else "-->"
        lines.append(f"  {source} {arrow} {target}")
        if hit:
            highlighted_edges.append(str(number))
    lines.append("  classDef path fill:#fde68a,stroke:#b45309,stroke-width:2px")
    hit_nodes = [n[0] for n in nodes if n[3]]
    if hit_nodes:
        lines.append(f"  class {','.join(hit_nodes)} path")
    if highlighted_edges:
        lines.append(f"  linkStyle {','.join(highlighted_edges)} stroke:#b45309,stroke-width:3px")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _dot(
    nodes: Sequence[tuple[str, str, str, bool]],
    edges: Sequence[tuple[str, str, str, bool]],
    clusters: Sequence[tuple[str, str, list[str]]],
) -> str:
    shapes = {"start": "oval", "decision": "diamond", "output": "box"}
    by_id = {n[0]: n for n in nodes}
    lines = ["digraph policy {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for cluster, title, members in clusters:
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(f"    label={_dot_text(title)};")
        for member in members:
            _, label, shape, hit = by_id[member]
            style = (
                ', style=filled, fillcolor="#fde68a", color="#b45309", penwidth=2' if hit else ""
            )
            lines.append(f"    {member} [label={_dot_text(label)}, shape={shapes[shape]}{style}];")
        lines.append("  }")
    for source, target, label, hit in edges:
        attrs = [f"label={_dot_text(label)}"] if label else []
        if hit:
            attrs += ['color="#b45309"', "penwidth=3"]
        lines.append(f"  {source} -> {target}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cells(rule: CompiledRule, facts: Sequence[str]) -> tuple[dict[str, str], str]:
    """The rule's tests per fact it reads (a conjunction of simple tests), and whatever of
    its condition is not such a test."""
    condition = rule.condition
    items: Iterable[Condition] = condition.items if isinstance(condition, AllOf) else (condition,)
    cells: dict[str, list[str]] = {}
    rest: list[str] = []
    for item in items:
        if isinstance(item, Test) and item.fact in facts:
            cells.setdefault(item.fact, []).append(_test_text(item, with_fact=False))
        else:
            rest.append(condition_text(item))
    return {k: " and ".join(v) for k, v in cells.items()}, " and ".join(rest)


def _grid(table: CompiledTable) -> tuple[list[str], list[list[str]]]:
    facts = [
        f
        for f in table.reads
        if any(
            isinstance(i, Test) and i.fact == f
            for r in table.rules
            for i in (r.condition.items if isinstance(r.condition, AllOf) else (r.condition,))
        )
    ]
    outputs = list(table.outputs)
    rows = []
    any_rest = False
    for rule in table.rules:
        cells, rest = _cells(rule, facts)
        any_rest = any_rest or bool(rest)
        sets = {
            name: source if source is not None else _value(value)
            for name, value, source in rule.sets
        }
        rows.append(
            [str(rule.index + 1), rule.id]
            + [cells.get(f, "-") for f in facts]
            + [rest or "-"]
            + [sets.get(o, "-") for o in outputs]
        )
    header = ["#", "rule", *facts, "other conditions", *[f"→ {o}" for o in outputs]]
    if not any_rest:
        at = 2 + len(facts)
        header.pop(at)
        for row in rows:
            row.pop(at)
    return header, rows


def decision_tables(
    policy: Policy, *, tables: Sequence[str] | None = None, fmt: str = "markdown"
) -> str:
    """Each table as a grid: a column per fact its rules test, a row per rule, the outputs,
    and the hit policy (``fmt``: ``markdown`` or ``html``)."""
    parts = []
    for table in _chosen(policy, tables):
        header, rows = _grid(table)
        title = f"{table.id} — hit policy: {table.combine.value}"
        if fmt == "markdown":
            parts.append(_markdown_table(title, table.section, header, rows))
        elif fmt == "html":
            parts.append(_html_table(title, table.section, header, rows))
        else:
            raise ValueError(f"unknown format {fmt!r}; expected markdown or html")
    return "\n".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_table(title: str, section: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {_md_cell(title)}", "", f"_{_md_cell(section)}_", ""]
    lines.append("| " + " | ".join(map(_md_cell, header)) + " |")
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _html_table(title: str, section: str, header: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    out = [f"<h3>{e(title)}</h3>", f"<p><em>{e(section)}</em></p>", "<table>"]
    out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"
