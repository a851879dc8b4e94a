"""A Markdown post-mortem skeleton from an incident's record in the decision log.

What the log answers is filled in: the timeline, the decisions with their rationale and the
identity of the policy that made them, the 48-hour deadline, the incident's figures against
the policy's metric targets, the action items of a ``post_mortem`` line. What only people can
answer is a placeholder (``_to be completed_``). The agenda, deliverables and attendees are
the policy's (``rules/communication.yaml``), as the decision that called for the post-mortem
carries them.

Rationale texts are those of the incident's timeline re-decided under the policy given; a
decision logged under another policy (another content hash) shows its logged rule ids only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from rollback_decision.decision import Decision, PostMortem
from rollback_decision.errors import DecisionLogError, did_you_mean
from rollback_decision.policy import Policy
from rollback_decision.records.history import IncidentHistory, LogHistory
from rollback_decision.records.lines import ActionItem, DecisionRecord, EventRecord
from rollback_decision.records.metrics import METRICS, MetricSpec
from rollback_decision.records.replay import replay_incident
from rollback_decision.timeline.changes import DecisionChange, format_time

__all__ = ["render_post_mortem"]

TODO = "_to be completed_"


def render_post_mortem(history: LogHistory, incident: str, *, policy: Policy) -> str:
    """The post-mortem skeleton of ``incident`` (an error names the near ids if unknown)."""
    found = history.incident(incident)
    if found is None:
        known = [h.incident for h in history.incidents]
        raise DecisionLogError(
            f"no incident {incident!r} in the log{did_you_mean(incident, known)}",
            source="--incident",
        )
    return _Writer(history, found, policy).render()


def _label(action: str, rollback_type: int | None) -> str:
    return action if rollback_type is None else f"{action} (type {rollback_type})"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class _Writer:
    def __init__(self, log: LogHistory, history: IncidentHistory, policy: Policy) -> None:
        self.log = log
        self.history = history
        self.policy = policy
        self.changes = replay_incident(history, policy)
        self.zone = history.opened_at

    def time(self, moment: datetime) -> str:
        return format_time(moment, self.zone)

    def render(self) -> str:
        post_mortem = self.post_mortem()
        sections = [
            self.header(post_mortem),
            self.attendees(post_mortem),
            self.timeline(),
            self.decisions(),
            self.metrics(),
            self.agenda(post_mortem),
            self.action_items(),
            self.deliverables(post_mortem),
        ]
        return "\n\n".join(s for s in sections if s) + "\n"

    # -- what the policy asks -----------------------------------------------------------------

    def post_mortem(self) -> PostMortem | None:
        decisions: list[Decision] = [c.decision for c in self.changes]
        for decision in decisions:
            if decision.communication is not None and decision.communication.post_mortem:
                return decision.communication.post_mortem
        return None

    def header(self, post_mortem: PostMortem | None) -> str:
        h = self.history
        lines = [f"# Post-mortem: {h.incident}", ""]
        lines.append(f"- Opened: {self.time(h.opened_at)}")
        lines.append(f"- Deployment: {', '.join(h.deployments) or TODO}")
        lines.append(f"- Root problem (issue): {h.opened.issue or TODO}")
        ended = next(
            (e.event.at for e in h.events if e.type in ("rollback_completed", "rollback_failed")),
            None,
        )
        if post_mortem is None or not h.rolled_back:
            lines.append(
                "- Deadline: none — no rollback was carried out (the policy requires a "
                "post-mortem for every rollback)"
            )
        elif ended is None:
            lines.append(
                f"- Deadline: within {post_mortem.within_hours:g} hours of the rollback "
                f"({post_mortem.section}); the log records no rollback that ended"
            )
        else:
            due = ended + timedelta(hours=post_mortem.within_hours)
            lines.append(
                f"- Deadline: {self.time(due)} (within {post_mortem.within_hours:g} hours of the "
                f"rollback ending at {self.time(ended)}; {post_mortem.section})"
            )
        held = h.post_mortems[-1].at if h.post_mortems else None
        lines.append(f"- Held: {self.time(held) if held else TODO}")
        return "\n".join(lines)

    def attendees(self, post_mortem: PostMortem | None) -> str:
        lines = ["## Attendees", ""]
        roles = post_mortem.attendees if post_mortem else []
        lines += [f"- {role}: {TODO}" for role in roles] or [f"- {TODO}"]
        return "\n".join(lines)

    # -- what the log says ----------------------------------------------------------------------

    def timeline(self) -> str:
        h = self.history
        rows: list[tuple[datetime, int, str, str]] = [
            (h.opened_at, 0, "opened", self.facts_text(h.opened.facts))
        ]
        order = 1
        for index, record in enumerate(h.events):
            rows.append(
                (record.at, order, f"{record.type} (event {index})", self.event_text(record))
            )
            order += 1
        for decision in h.decisions:
            rows.append(
                (
                    decision.at,
                    order,
                    "decision",
                    f"{_label(decision.action.value, decision.rollback_type)} "
                    f"({self.cause(decision)})",
                )
            )
            order += 1
        for pm in h.post_mortems:
            rows.append(
                (pm.at, order, "post_mortem", f"preventable: {'yes' if pm.preventable else 'no'}")
            )
            order += 1
        rows.sort(key=lambda row: (row[0], row[1]))
        lines = ["## Timeline", "", "| Time | What | Detail |", "|---|---|---|"]
        lines += [f"| {self.time(at)} | {what} | {_cell(detail)} |" for at, _, what, detail in rows]
        return "\n".join(lines)

    @staticmethod
    def facts_text(facts: dict[str, Any]) -> str:
        return "; ".join(f"{k}: {_json(v)}" for k, v in facts.items()) or "no facts yet"

    def event_text(self, record: EventRecord) -> str:
        fields = record.event.fields()
        if "set" in fields:
            return self.facts_text(fields["set"])
        return ", ".join(f"{k}: {_json(v)}" for k, v in fields.items() if v is not None)

    @staticmethod
    def cause(decision: DecisionRecord) -> str:
        if decision.cause.clock is not None:
            return f"clock {decision.cause.clock}"
        if decision.cause.event is None:
            return "the opening facts"
        return f"event {decision.cause.event}"

    def decisions(self) -> str:
        lines = ["## Decisions and their rationale"]
        if not self.history.decisions:
            return "\n".join([*lines, "", f"The log records no decision. {TODO}"])
        for decision in self.history.decisions:
            ident = decision.policy
            lines += [
                "",
                f"### {self.time(decision.at)}: "
                + _label(decision.action.value, decision.rollback_type),
                "",
                f"Cause: {self.cause(decision)}. Policy: {ident.name} {ident.version} "
                f"(sha256 {ident.content_hash[:12]}…).",
                "",
            ]
            made = self.match(decision)
            if made is not None:
                lines += [
                    f"{n}. `{step.rule_id}` ({step.section}): {step.text}"
                    for n, step in enumerate(made.decision.rationale, start=1)
                ]
            elif decision.rules:
                lines.append(
                    "Rules (as logged; the policy given is not the one that decided): "
                    + ", ".join(f"`{r}`" for r in decision.rules)
                )
            else:
                lines.append(f"Rationale: {TODO} (the log holds no rule ids for this decision)")
        return "\n".join(lines)

    def match(self, decision: DecisionRecord) -> DecisionChange | None:
        for change in self.changes:
            if (
                change.at == decision.at
                and change.action == decision.action
                and change.rollback_type == decision.rollback_type
                and change.decision.policy.content_hash == decision.policy.content_hash
            ):
                return change
        return None

    def metrics(self) -> str:
        h = self.history
        params = self.policy.parameters
        specs = {spec.name: spec for spec in METRICS}

        def target(spec: MetricSpec) -> str:
            if spec.target_parameter is None:
                return "none"
            unit = {"%": " %", "min": " min", "": " %"}[spec.unit]
            bound = "≥" if spec.bound == "min" else "≤"
            return f"{bound} {float(params[spec.target_parameter]):g}{unit}"

        def minutes(value: float | None, spec: MetricSpec) -> tuple[str, str]:
            if value is None:
                return "not measured", "-"
            assert spec.target_parameter is not None
            met = value <= float(params[spec.target_parameter])
            return f"{value:g} min", "yes" if met else "NO"

        completed, failed = h.count("rollback_completed"), h.count("rollback_failed")
        repeats = self.log.repeats()
        earlier = [
            o.incident
            for o in self.log.incidents
            if o.opened_at < h.opened_at and o.rolled_back and o.opened.issue == h.opened.issue
        ]
        rows = [
            (
                "Time to decision",
                *minutes(h.time_to_decision_minutes, specs["time_to_decision_minutes"]),
                target(specs["time_to_decision_minutes"]),
            ),
            (
                "Time to complete",
                *minutes(h.time_to_complete_minutes, specs["time_to_complete_minutes"]),
                target(specs["time_to_complete_minutes"]),
            ),
            (
                "Rollback success",
                f"{completed} completed, {failed} failed" if completed + failed else "no rollback",
                "-" if completed + failed == 0 else ("yes" if failed == 0 else "NO"),
                target(specs["rollback_success_rate"]),
            ),
            (
                "Data loss",
                "yes" if h.data_loss else "none recorded",
                "NO" if h.data_loss else "yes",
                target(specs["data_loss_incidents"]),
            ),
            (
                "Repeat rollback",
                f"yes: the issue was rolled back before ({', '.join(earlier)})"
                if h.incident in repeats
                else ("no" if h.rolled_back else "no rollback"),
                "NO" if h.incident in repeats else "yes",
                target(specs["repeat_rollbacks"]),
            ),
            (
                "Preventable",
                TODO if h.preventable is None else ("yes" if h.preventable else "no"),
                "-",
                target(specs["preventable_rollbacks"]),
            ),
        ]
        lines = [
            "## Metrics of this incident",
            "",
            "| Metric | This incident | Met | Target |",
            "|---|---|---|---|",
        ]
        lines += [f"| {a} | {_cell(b)} | {c} | {d} |" for a, b, c, d in rows]
        return "\n".join(lines)

    def agenda(self, post_mortem: PostMortem | None) -> str:
        lines = ["## Agenda", ""]
        items = post_mortem.agenda if post_mortem else []
        if not items:
            return "\n".join([*lines, TODO])
        lines += [
            "The timeline, the decisions with their rationale, the rollback's figures and the "
            "action items recorded so far are in the sections of this document; the answers "
            "below are for the meeting.",
            "",
        ]
        for n, item in enumerate(items, start=1):
            lines.append(f"{n}. **{item}**")
            lines.append(f"   {TODO}")
        return "\n".join(lines)

    def action_items(self) -> str:
        lines = [
            "## Action items",
            "",
            "| Description | Owner | Due date | Priority | Success criteria |",
            "|---|---|---|---|---|",
        ]
        items: list[str | ActionItem] = [
            item for pm in self.history.post_mortems for item in pm.action_items
        ]
        if not items:
            lines.append(f"| {TODO} | {TODO} | {TODO} | {TODO} | {TODO} |")
        for item in items:
            entry = item if isinstance(item, ActionItem) else ActionItem(description=item)
            cells = [
                entry.description + (f" ({entry.category})" if entry.category else ""),
                entry.owner or TODO,
                entry.due or TODO,
                entry.priority or TODO,
                entry.success_criteria or TODO,
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines)

    def deliverables(self, post_mortem: PostMortem | None) -> str:
        items = post_mortem.deliverables if post_mortem else []
        if not items:
            return ""
        return "\n".join(["## Deliverables", "", *(f"- [ ] {item}" for item in items)])
