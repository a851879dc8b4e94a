"""What ``verify`` and ``diff`` report, and how the reports render as text and JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from rollback_decision.decision import PolicyIdentity
from rollback_decision.facts import Incident

__all__ = ["DiffReport", "Finding", "FindingKind", "Transition", "VerifyReport"]

FindingKind = Literal["gap", "overlap", "shadowed", "unreachable", "invariant", "incomplete"]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a policy, with the smallest incident that shows it (if any)."""

    kind: FindingKind
    subject: str
    message: str
    #: how many incidents of the discretised space show it
    count: int
    #: the smallest such incident, as a mapping of its non-default fields
    example: Mapping[str, Any] | None
    section: str | None = None

    def incident(self) -> Incident | None:
        return Incident.model_validate(self.example) if self.example is not None else None

    def render(self) -> str:
        head = f"{self.kind}: {self.subject}: {self.message}"
        if self.count:
            head += f" ({self.count:,} incidents)"
        if self.example is not None:
            head += f"\n    e.g. {_show(self.example)}"
        return head

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "count": self.count,
            "example": self.example,
            "section": self.section,
        }


def _show(example: Mapping[str, Any]) -> str:
    return (
        json.dumps(example, ensure_ascii=False, sort_keys=False) if example else "{} (all defaults)"
    )


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify`` found, how large the space was and how long it took."""

    policy: PolicyIdentity
    engine: str
    space_size: int
    classes: int
    table_evaluations: int
    seconds: float
    domains: tuple[str, ...]
    fixed_facts: tuple[str, ...]
    invariants: tuple[str, ...]
    findings: tuple[Finding, ...]
    #: tables the decision does not depend on, checked rule by rule (see :mod:`.sinks`)
    sink_tables: tuple[str, ...] = ()
    #: the policy's clocks (``rules/clocks.yaml``) as (id, section, text): shown for review;
    #: they change no decision's facts, so the walk does not cover them
    clocks: tuple[tuple[str, str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    def render_text(self) -> str:
        ident = self.policy
        lines = [
            f"verify: policy {ident.name} {ident.version} ({ident.content_hash[:12]}), "
            f"engine {self.engine}",
            f"space: {self.space_size:,} incidents in {self.classes:,} classes "
            f"({self.table_evaluations:,} table evaluations), {self.seconds:.2f} s",
            "facts:",
            *(f"  {d}" for d in self.domains),
            f"invariants: {', '.join(self.invariants)}",
        ]
        if self.sink_tables:
            lines.append(
                f"tables the decision does not depend on, checked rule by rule over every "
                f"reachable decision: {', '.join(self.sink_tables)}"
            )
        if self.clocks:
            lines.append("clocks:")
            lines += [f"  {ident}: {text} ({section})" for ident, section, text in self.clocks]
        if self.ok:
            lines.append(
                "no findings: no gaps, no overlaps, every rule can fire, every invariant holds"
            )
        elif any(f.kind == "incomplete" for f in self.findings):
            lines.append(
                "INCOMPLETE: part of the space was not checked; what is not listed below is "
                "not proven"
            )
            lines.append(f"{len(self.findings)} finding{'s' if len(self.findings) != 1 else ''}:")
            lines += [f"  {f.render()}" for f in self.findings]
        else:
            lines.append(f"{len(self.findings)} finding{'s' if len(self.findings) != 1 else ''}:")
            lines += [f"  {f.render()}" for f in self.findings]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.model_dump(mode="json"),
            "engine": self.engine,
            "space_size": self.space_size,
            "classes": self.classes,
            "table_evaluations": self.table_evaluations,
            "seconds": self.seconds,
            "domains": list(self.domains),
            "fixed_facts": list(self.fixed_facts),
            "invariants": list(self.invariants),
            "sink_tables": list(self.sink_tables),
            "clocks": [
                {"id": ident, "section": section, "text": text}
                for ident, section, text in self.clocks
            ],
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class Transition:
    """Incidents whose decision changes from ``old`` to ``new`` (``None``: no decision)."""

    what: Literal["action", "authority", "rollback_type"]
    old: str | None
    new: str | None
    count: int
    example: Mapping[str, Any]

    def render(self) -> str:
        return (
            f"{_name(self.old)} → {_name(self.new)}: {self.count:,} incidents\n"
            f"    e.g. {_show(self.example)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "old": self.old,
            "new": self.new,
            "count": self.count,
            "example": self.example,
        }


def _name(value: str | None) -> str:
    return "(none)" if value is None else value


@dataclass(frozen=True)
class DiffReport:
    """Which decisions change between two policies, over the same discretised space."""

    old: PolicyIdentity
    new: PolicyIdentity
    space_size: int
    classes: int
    seconds: float
    transitions: tuple[Transition, ...]
    #: gaps or overlaps of either policy (they leave incidents undecided)
    findings: tuple[Finding, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.transitions or self.findings)

    def of(self, what: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.what == what)

    def counts(self, what: str = "action") -> dict[tuple[str | None, str | None], int]:
        """``{(old, new): incidents}`` for one kind of transition."""
        return {(t.old, t.new): t.count for t in self.of(what)}

    def render_text(self) -> str:
        def ident(p: PolicyIdentity) -> str:
            return f"{p.name} {p.version} ({p.content_hash[:12]})"

        lines = [
            f"diff: {ident(self.old)} → {ident(self.new)}",
            f"space: {self.space_size:,} incidents in {self.classes:,} classes, "
            f"{self.seconds:.2f} s",
        ]
        titles = {
            "action": "decisions that change",
            "authority": "authorities that change",
            "rollback_type": "rollback types that change",
        }
        for what, title in titles.items():
            found = self.of(what)
            if not found:
                lines.append(f"{title}: none")
                continue
            total = sum(t.count for t in found)
            lines.append(f"{title}: {total:,} incidents")
            lines += [f"  {t.render()}" for t in found]
        gaps = [f for f in self.findings if f.kind != "incomplete"]
        if gaps:
            lines.append("incidents left undecided:")
            lines += [f"  {f.render()}" for f in gaps]
        missing = [f for f in self.findings if f.kind == "incomplete"]
        if missing:
            lines.append("INCOMPLETE: part of the space was not compared:")
            lines += [f"  {f.render()}" for f in missing]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.model_dump(mode="json"),
            "new": self.new.model_dump(mode="json"),
            "space_size": self.space_size,
            "classes": self.classes,
            "seconds": self.seconds,
            "changed": self.changed,
            "transitions": [t.to_dict() for t in self.transitions],
            "findings": [f.to_dict() for f in self.findings],
        }
