"""A decision as text a person reads (the CLI's ``--format text``)."""

from __future__ import annotations

import json
import re
from typing import Any

from rollback_decision.decision import Decision
from rollback_decision.errors import escape

__all__ = ["json_text", "render_text", "terminal_text"]

#: What ``json.dumps(..., ensure_ascii=False)`` leaves raw and a terminal would act on.
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def terminal_text(text: str) -> str:
    """A report safe to print: control characters in texts and file names escaped
    (``\\x1b``), newlines and tabs kept."""
    return escape(text, keep_lines=True)


def json_text(data: Any) -> str:
    """JSON for a terminal or a pipe: readable non-ASCII text, every control character
    escaped (the value it decodes to is unchanged)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render_text(decision: Decision, *, source: str | None = None) -> str:
    """Action, why, who decides and approves, rollback type, and what to do next."""
    lines: list[str] = []
    title = f"Decision for {source}" if source else "Decision"
    lines += [title, "=" * len(title), ""]
    lines.append(f"Action:        {decision.action.value}")
    if decision.rollback_type is not None:
        lines.append(f"Rollback type: {decision.rollback_type}")
    if decision.rollback_eta_minutes is not None:
        how = "estimated" if decision.rollback_eta_estimated else "reported"
        lines.append(f"Rollback time: {decision.rollback_eta_minutes:g} min ({how})")
    authority = decision.authority
    if authority is not None:
        lines.append(f"Situation:     {authority.situation}")
        lines.append(f"Decided by:    {authority.decided_by_name}")
        approval = authority.approval_name
        if authority.min_approvers:
            approval += f" (at least {authority.min_approvers})"
        lines.append(f"Approval:      {approval}")
        if authority.notify:
            lines.append(f"Notify:        {', '.join(authority.notify_names)}")
    else:
        lines.append("Authority:     none needed")
    lines += ["", "Why:"]
    for number, reason in enumerate(decision.rationale, 1):
        lines.append(f"  {number}. {reason.text}")
        lines.append(f"     [{reason.rule_id}; {reason.section}]")
    if decision.warnings:
        lines += ["", "Warnings:"]
        for warning in decision.warnings:
            lines.append(f"  ! {warning.text}")
            lines.append(f"     [{warning.id}; {warning.section}]")
    if decision.plan:
        lines += ["", "Plan:"]
        for step in decision.plan:
            lines.append(f"  {step.number}. {step.text}")
            details = [
                f"{label}: {value}"
                for label, value in (
                    ("duration", step.duration),
                    ("command", step.command),
                    ("validate", step.validation),
                )
                if value
            ]
            for detail in details:
                lines.append(f"     {detail}")
            lines += [f"     - {check}" for check in step.checks]
    for checklist in decision.checklists:
        lines += ["", f"{checklist.title}:"]
        lines += [f"  [ ] {item}" for item in checklist.items]
    for watch in decision.monitoring:
        focus = f" — {', '.join(watch.focus)}" if watch.focus else ""
        lines += ["", f"Monitor: {watch.duration}{focus}"]
    comm = decision.communication
    if comm is not None:
        lines += ["", "Communication:"]
        every = (
            f", updates every {comm.update_every_minutes:g} min"
            if comm.update_every_minutes is not None
            else ""
        )
        lines.append(f"  To {comm.recipients} via {', '.join(comm.channels)}{every}")
        for group in comm.stakeholders:
            lines.append(f"  {group.title}: {', '.join(group.members)}")
        for message in comm.messages:
            lines.append(f"  {message.title} ({message.channel}):")
            if message.subject:
                lines.append(f"     Subject: {message.subject}")
            lines += [f"     {line}" for line in message.text.splitlines()]
        pm = comm.post_mortem
        if pm is not None:
            lines.append(f"  {pm.title}: within {pm.within_hours:g} hours")
            lines.append(f"     Attendees: {', '.join(pm.attendees)}")
    ident = decision.policy
    lines += ["", f"Policy: {ident.name} {ident.version} ({ident.content_hash[:12]})"]
    return "\n".join(lines) + "\n"
