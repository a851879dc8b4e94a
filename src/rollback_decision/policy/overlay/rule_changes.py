"""Changes to the rules of the decision tables, by rule id: ``replace``, ``disable``, ``add``
(placed ``before`` or ``after`` a rule, else last)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollback_decision.errors import PolicyProblem, did_you_mean
from rollback_decision.policy.loader import RawPolicy, SourceFile
from rollback_decision.policy.overlay.spec import AddedRuleSpec, OrgFile
from rollback_decision.policy.spec import PolicyDocument, RuleSpec

__all__ = ["change_rules"]


_Origin = tuple[SourceFile, tuple[str | int, ...]]


def change_rules(
    raw: RawPolicy, org: OrgFile, document: PolicyDocument, problems: list[PolicyProblem]
) -> list[Any]:
    """The tables with ``org``'s rule changes applied; rule origins updated in ``raw``."""
    spec = org.spec
    tables = list(document.tables)
    if spec is None or not (spec.rules.disable or spec.rules.replace or spec.rules.add):
        return tables
    work: dict[str, list[tuple[RuleSpec, _Origin]]] = {}
    for table in tables:
        work[table.id] = [
            (rule, raw.rule_origin(table.id, index)) for index, rule in enumerate(table.rules)
        ]
    home = {rule.id: tid for tid, rules in work.items() for rule, _ in rules}
    changes = spec.rules

    def unknown(rid: str) -> str:
        return f"unknown rule {rid!r}{did_you_mean(rid, home)}"

    replaced: set[str] = set()
    for index, rule in enumerate(changes.replace):
        path = org.rule_path("replace", index)
        if rule.id not in home:
            problems.append(org.problem((*path, "id"), unknown(rule.id), rule_id=rule.id))
            continue
        if rule.id in replaced:
            problems.append(org.problem(path, "replaced twice in this file", rule_id=rule.id))
            continue
        replaced.add(rule.id)
        rules = work[home[rule.id]]
        at = next(i for i, (r, _) in enumerate(rules) if r.id == rule.id)
        rules[at] = (rule, (org.source, path))

    disabled: set[str] = set()
    for index, rid in enumerate(changes.disable):
        path = org.rule_path("disable", index)
        if rid not in home:
            problems.append(org.problem(path, unknown(rid), rule_id=rid))
            continue
        if rid in replaced or rid in disabled:
            what = "replaced" if rid in replaced else "disabled"
            problems.append(org.problem(path, f"already {what} in this file", rule_id=rid))
            continue
        disabled.add(rid)
        rules = work[home[rid]]
        rules[:] = [(r, o) for r, o in rules if r.id != rid]
        if not rules:
            problems.append(
                org.problem(path, f"disables every rule of table {home[rid]!r}", rule_id=rid)
            )

    combine = {table.id: table.combine for table in tables}
    for index, added in enumerate(changes.add):
        path = org.rule_path("add", index)
        problem = _place(work, combine, home, disabled, added, (org.source, path))
        if problem is not None:
            key, message = problem
            problems.append(org.problem((*path, key), message, rule_id=added.id))
            continue
        home[added.id] = added.table

    out = []
    for table in tables:
        rules = work[table.id]
        for stale in [k for k in raw.rule_origins if k[0] == table.id]:
            del raw.rule_origins[stale]
        for index, (_, origin) in enumerate(rules):
            raw.rule_origins[(table.id, index)] = origin
        if [r for r, _ in rules] != list(table.rules):
            table = table.model_copy(update={"rules": [r for r, _ in rules]})
        out.append(table)
    return out


def _place(
    work: dict[str, list[tuple[RuleSpec, _Origin]]],
    combine: Mapping[str, str],
    home: Mapping[str, str],
    disabled: set[str],
    added: AddedRuleSpec,
    origin: _Origin,
) -> tuple[str, str] | None:
    """Insert ``added`` into its table; or return (key, message) saying why not."""
    if added.table not in work:
        return "table", f"unknown table {added.table!r}{did_you_mean(added.table, work)}"
    if added.id in home:
        return "id", (
            f"rule id {added.id!r} is already used in table {home[added.id]!r}; "
            "to change that rule, list it under 'rules: replace:'"
        )
    if added.before is not None and added.after is not None:
        return "before", "say 'before' or 'after', not both"
    rules = work[added.table]
    rule = added.rule()
    anchor = added.before if added.before is not None else added.after
    if anchor is None:
        last = rules[-1][0] if rules else None
        if combine[added.table] == "first" and last is not None and not last.when:
            return "table", (
                f"the rule would never match: table {added.table!r} takes the first match and "
                f"ends with the catch-all rule {last.id!r}; place it with 'before: {last.id}'"
            )
        rules.append((rule, origin))
        return None
    key = "before" if added.before is not None else "after"
    ids = [r.id for r, _ in rules]
    if anchor not in ids:
        if anchor in disabled:
            return key, f"rule {anchor!r} is disabled in this file"
        where = f" (it is in table {home[anchor]!r})" if anchor in home else ""
        return key, (
            f"no rule {anchor!r} in table {added.table!r}{where}"
            f"{did_you_mean(anchor, ids) if not where else ''}"
        )
    at = ids.index(anchor) + (1 if key == "after" else 0)
    rules.insert(at, (rule, origin))
    return None
