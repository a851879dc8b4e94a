"""Structural findings of a walk: gaps, overlaps, shadowed and unreachable rules."""

from __future__ import annotations

from collections.abc import Sequence

from rollback_decision.policy import CompiledRule, CompiledTable, Policy
from rollback_decision.verify.incidents import minimal_mapping
from rollback_decision.verify.report import Finding
from rollback_decision.verify.walk import Walk

__all__ = ["incomplete", "structural", "unenumerable", "unreachable"]


def structural(
    policy: Policy,
    walk: Walk,
    p: int,
    label: str = "",
    tables: Sequence[CompiledTable] | None = None,
) -> list[Finding]:
    """The gaps and overlaps the walk met in policy ``p``'s tables, and its rules that never
    fired (shadowed by an earlier rule, or unreachable); ``label`` prefixes each subject."""
    out: list[Finding] = []
    position = {t.id: i for i, t in enumerate(policy.tables)}
    # in pipeline order (the walk may visit the tables in another, see verify.schedule)
    mine = sorted((f for f in walk.findings if f.policy == p), key=lambda f: position[f.table])
    for found in mine:
        table = policy.table(found.table)
        if found.kind == "gap":
            message = f"no rule of this {table.combine}-match table decides"
        else:
            message = f"several rules of this unique table match: {', '.join(found.rules)}"
        out.append(
            Finding(
                kind="gap" if found.kind == "gap" else "overlap",
                subject=f"{label}table {found.table!r}",
                message=message,
                count=found.example.weight,
                example=minimal_mapping(found.example.assignment),
                section=table.section,
            )
        )
    undecided = any(f.policy == p for f in walk.findings)
    for table in tables if tables is not None else policy.tables:
        for rule in table.rules:
            key = (p, table.id, rule.index)
            if key in walk.fired:
                continue
            shadow = walk.shadowed.get(key)
            if shadow is not None:
                winner, example = shadow
                out.append(
                    Finding(
                        kind="shadowed",
                        subject=f"{label}rule {rule.id!r}",
                        message=f"never fires: wherever it matches, the earlier rule "
                        f"{table.rules[winner].id!r} of table {table.id!r} decides first",
                        count=example.weight,
                        example=minimal_mapping(example.assignment),
                        section=rule.section,
                    )
                )
            else:
                extra = " (or only where an earlier table left a gap)" if undecided else ""
                out.append(
                    unreachable(
                        rule,
                        f"its condition holds for no incident that reaches table {table.id!r}"
                        f"{extra}",
                        label,
                    )
                )
    return out


def unreachable(rule: CompiledRule, why: str, label: str = "") -> Finding:
    """A rule that never fires, and ``why``."""
    return Finding(
        kind="unreachable",
        subject=f"{label}rule {rule.id!r}",
        message=f"never fires: {why}",
        count=0,
        example=None,
        section=rule.section,
    )


def incomplete(subject: str, why: str) -> Finding:
    """Part of the space was not checked: the report must not read as "no findings"."""
    return Finding(kind="incomplete", subject=subject, message=why, count=0, example=None)


def unenumerable(names: Sequence[str]) -> list[Finding]:
    """An incomplete finding for each fact whose values cannot be enumerated."""
    return [
        incomplete(
            f"fact {name!r}",
            "a rule reads it, but its values cannot be enumerated (no literal or parameter "
            "lists them): only its default value was checked",
        )
        for name in dict.fromkeys(names)
    ]
