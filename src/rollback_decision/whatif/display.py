"""Rich display: decisions, sweep tables and counterfactuals as HTML (Jupyter) and Markdown.

Plain string building with every text escaped: no notebook package is imported here.
``show(x)`` wraps a decision or a table for Jupyter; :class:`Counterfactuals` display
themselves.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from rollback_decision.decision import Decision

if TYPE_CHECKING:
    from rollback_decision.whatif.counterfactuals import Counterfactuals

__all__ = [
    "Shown",
    "counterfactuals_html",
    "counterfactuals_markdown",
    "decision_html",
    "decision_markdown",
    "show",
    "table_html",
]

_e = html.escape


def _md(text: str) -> str:
    """Text safe inside Markdown: the characters that would start markup escaped."""
    out = html.escape(text, quote=False)
    for char in "\\`*_[]|#":
        out = out.replace(char, "\\" + char)
    return out


def _authority_line(decision: Decision) -> str:
    a = decision.authority
    if a is None:
        return "no authority needed"
    approval = a.approval_name + (f" (at least {a.min_approvers})" if a.min_approvers else "")
    return f"{a.situation}: decided by {a.decided_by_name}; {approval}"


def _headline(decision: Decision) -> list[str]:
    parts = []
    if decision.rollback_type is not None:
        parts.append(f"rollback type {decision.rollback_type}")
    if decision.rollback_eta_minutes is not None:
        how = "estimated" if decision.rollback_eta_estimated else "reported"
        parts.append(f"rollback time {decision.rollback_eta_minutes:g} min ({how})")
    return parts


def decision_html(decision: Decision) -> str:
    """The action and authority at the top, the rationale as a numbered list with rule ids,
    warnings shown, plan, checklists and communication folded."""
    out = ['<div class="rollback-decision">']
    out.append(f"<h3>{_e(decision.action.value)}</h3>")
    out.append(f"<p><b>Authority:</b> {_e(_authority_line(decision))}</p>")
    if _headline(decision):
        out.append(f"<p>{_e('; '.join(_headline(decision)))}</p>")
    out.append("<ol>")
    for step in decision.rationale:
        out.append(
            f"<li>{_e(step.text)} <code>{_e(step.rule_id)}</code> "
            f"<small>{_e(step.section)}</small></li>"
        )
    out.append("</ol>")
    if decision.warnings:
        out.append("<ul>")
        out += [f"<li>⚠ {_e(w.text)} <code>{_e(w.id)}</code></li>" for w in decision.warnings]
        out.append("</ul>")
    if decision.plan:
        out.append(f"<details><summary>Plan ({len(decision.plan)} steps)</summary><ol>")
        out += [f"<li>{_e(step.text)}</li>" for step in decision.plan]
        out.append("</ol></details>")
    for checklist in decision.checklists:
        out.append(f"<details><summary>{_e(checklist.title)}</summary><ul>")
        out += [f"<li>☐ {_e(item)}</li>" for item in checklist.items]
        out.append("</ul></details>")
    comm = decision.communication
    if comm is not None:
        out.append(
            f"<details><summary>Communication</summary><p>To {_e(comm.recipients)} via "
            f"{_e(', '.join(comm.channels))}</p></details>"
        )
    ident = decision.policy
    out.append(
        f"<p><small>Policy {_e(ident.name)} {_e(ident.version)} "
        f"({_e(ident.content_hash[:12])})</small></p></div>"
    )
    return "\n".join(out)


def decision_markdown(decision: Decision) -> str:
    """The same as :func:`decision_html`, in Markdown (plan and checklists as counts)."""
    lines = [
        f"### {_md(decision.action.value)}",
        "",
        f"**Authority:** {_md(_authority_line(decision))}",
    ]
    if _headline(decision):
        lines += ["", _md("; ".join(_headline(decision)))]
    lines.append("")
    for number, step in enumerate(decision.rationale, 1):
        lines.append(f"{number}. {_md(step.text)} (`{step.rule_id}`)")
    if decision.warnings:
        lines.append("")
        lines += [f"- ⚠ {_md(w.text)}" for w in decision.warnings]
    if decision.plan or decision.checklists:
        lines += [
            "",
            f"Plan: {len(decision.plan)} steps; checklists: "
            + (", ".join(_md(c.title) for c in decision.checklists) or "none"),
        ]
    return "\n".join(lines) + "\n"


def counterfactuals_html(found: Counterfactuals) -> str:
    head = (
        f"why not {found.target.value}? (now {found.decision.action.value})"
        if found.target is not None
        else f"What would change {found.decision.action.value}"
    )
    out = [f'<div class="rollback-decision-counterfactuals"><h4>{_e(head)}</h4>']
    if not found.items:
        out.append(f"<p>{_e(found.reason or 'no single or paired change of facts does')}</p>")
    else:
        out.append("<ul>")
        out += [
            f"<li><b>{_e(item.action.value)}</b> if "
            f"{_e(' and '.join(c.phrase() for c in item.changes))}</li>"
            for item in found.items
        ]
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out)


def counterfactuals_markdown(found: Counterfactuals) -> str:
    if not found.items:
        return f"_{_md(found.reason or 'no single or paired change of facts does')}_\n"
    return "".join(f"- {_md(item.sentence)}\n" for item in found.items)


def table_html(table: Any) -> str:
    """A sweep table as HTML, the action column in bold."""
    columns = [str(c) for c in table.columns]
    out = ['<table class="rollback-decision-sweep"><thead><tr>']
    out += [f"<th>{_e(c)}</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for row in table.itertuples(index=False):
        cells = []
        for name, value in zip(columns, row, strict=True):
            text = _e("" if value is None else str(value))
            cells.append(f"<td><b>{text}</b></td>" if name == "action" else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class Shown:
    """A decision or table that displays itself in Jupyter (HTML, Markdown)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def _repr_html_(self) -> str:
        if isinstance(self.value, Decision):
            return decision_html(self.value)
        html_of = getattr(self.value, "_repr_html_", None)
        if html_of is not None and not hasattr(self.value, "itertuples"):
            return str(html_of())
        return table_html(self.value)

    def _repr_markdown_(self) -> str:
        if isinstance(self.value, Decision):
            return decision_markdown(self.value)
        markdown_of = getattr(self.value, "_repr_markdown_", None)
        if markdown_of is not None:
            return str(markdown_of())
        return str(self.value.to_markdown() if hasattr(self.value, "to_markdown") else self.value)


def show(value: Any) -> Shown:
    """``value`` (a Decision, a sweep table, counterfactuals) wrapped for rich display."""
    return Shown(value)
