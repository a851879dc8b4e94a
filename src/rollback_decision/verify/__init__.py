"""Prove what a policy does: ``verify_policy`` (gaps, overlaps, dead rules, invariants) and
``diff_policies`` (which decisions change), both over the whole discretised fact space.

One concern per module:

* :mod:`.domains` — the discretised fact space (each input fact's representative values);
* :mod:`.incidents` — incidents of the space, built from a class and shown minimally;
* :mod:`.walk` — the exhaustive walk of the tables over classes of incidents;
* :mod:`.classes` — what a walk holds: classes, problems, limits;
* :mod:`.inputs` — input facts joining the walk, or evaluated locally by one table;
* :mod:`.tables` — one table evaluated with bit masks, its outcomes remembered;
* :mod:`.runs` — one table's plan per signature, runs and blocks of numbers;
* :mod:`.numbers` — which numbers run, and classes merged by blocks of numbers;
* :mod:`.schedule` — the order the walk visits a policy's tables in;
* :mod:`.abstraction` — values the tables left cannot tell apart, merged;
* :mod:`.findings` — gaps, overlaps, shadowed and unreachable rules found by a walk;
* :mod:`.sinks` — tables the decision does not depend on, checked rule by rule;
* :mod:`.invariants_check` — the decision invariants over every class;
* :mod:`.verifier` and :mod:`.diff` — the two entry points;
* :mod:`.report` — the reports and their text and JSON forms.
"""

from rollback_decision.verify.diff import diff_policies
from rollback_decision.verify.report import DiffReport, Finding, Transition, VerifyReport
from rollback_decision.verify.verifier import verify_policy

__all__ = [
    "DiffReport",
    "Finding",
    "Transition",
    "VerifyReport",
    "diff_policies",
    "verify_policy",
]
