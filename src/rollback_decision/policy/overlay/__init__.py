"""Organisation policies: one YAML file layered over the shipped policy (or another policy).

A firm says what differs from the policy it ``extends``, and nothing else::

    extends: default                 # the shipped rules; or a path (relative to this file) to
                                     # another organisation policy file or to a rules folder
    policy:                          # this policy's identity on every decision (optional)
      name: acme-trading-rollback
      version: "2026.1"
    parameters:                      # values of parameters declared in rules/parameters.yaml
      fix_forward_window_minutes: 10
      critical_min_approvers: 3
    roles:                           # any catalogue section: change fields of an entry by id
      executive: {name: Head of Trading}
    add:                             # new catalogue entries (roles, approvals, parameters, ...)
      roles:
        trading_desk: {name: Trading desk}
    rules:                           # rules of the decision tables, by id
      disable: [tree.7.fix_faster]
      replace:
        - {id: tree.6.high_risk, when: ..., set: ..., because: ...}
      add:
        - {table: impact, before: impact.reported, id: acme.impact.x, when: ..., set: ...}

The overlay is applied to the merged rule files *before* the compiler runs, so the result is
checked exactly like the shipped rules; every entry the file changes is recorded as coming
from it, so a problem in an override is reported at the organisation file's line.

Mistakes that only an overlay can make (an unknown parameter, rule or entry id, a value of
the wrong type, a cycle of ``extends``, a missing base) are reported here, with "did you
mean" where a near name exists. Every problem of every file in the chain is collected before
anything is raised.
"""

from rollback_decision.policy.overlay.chain import read_org_policy
from rollback_decision.policy.overlay.spec import (
    DEFAULT_BASE,
    MAX_EXTENDS,
    AddedRuleSpec,
    OrgPolicySpec,
    RuleChanges,
    catalogue_sections,
)

__all__ = [
    "DEFAULT_BASE",
    "MAX_EXTENDS",
    "AddedRuleSpec",
    "OrgPolicySpec",
    "RuleChanges",
    "catalogue_sections",
    "read_org_policy",
]
