"""Conditions compiled to Python source, once per policy (as fastjsonschema does for schemas).

Safety: nothing a rule file says is ever written into the source. The source is made only of
generated identifiers (``k0``, ``c1``, ``v2`` …), Python operators and the expression
templates of :mod:`.operators`; every fact name and every literal a rule file gives is bound
to a generated identifier in the namespace the code runs in. The builtins the code can reach
are the few listed in :data:`_BUILTINS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rollback_decision.policy.operators import Family, operator

__all__ = ["Namespace", "SetTest", "condition_source"]

#: set_test(operator name, fact name, literal set) -> an expression, or None
SetTest = Callable[[str, str, frozenset[Any]], "str | None"]

_BUILTINS = {"len": len, "set": set, "bool": bool, "tuple": tuple, "dict": dict, "any": any}


class Namespace:
    """The constants generated code reads, each bound to a generated identifier."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {"__builtins__": _BUILTINS}
        self._names: dict[tuple[type, Any], str] = {}

    def constant(self, value: Any, prefix: str = "c") -> str:
        """The identifier bound to ``value`` (one per distinct hashable value)."""
        try:
            key: tuple[type, Any] | None = (type(value), value)
            found = self._names.get(key)  # type: ignore[arg-type]
        except TypeError:  # unhashable: a name of its own
            key, found = None, None
        if found is None:
            found = f"{prefix}{len(self.values)}"
            self.values[found] = value
            if key is not None:
                self._names[key] = found
        return found

    def compile(self, source: str, name: str, filename: str) -> Callable[..., Any]:
        """Compile ``source`` (which defines ``name``) and return the function."""
        code = compile(source, filename, "exec")
        scope = dict(self.values)
        exec(code, scope)  # generated source only: see the module docstring
        function: Callable[..., Any] = scope[name]
        return function


#: The operator families whose test cannot raise on a fact of its type (facts are hashable),
#: whatever the rest of a rule says: such a test may be evaluated once ahead of the rules that
#: share it (see ``shared``). Membership only in a literal list: a list fact may be null; set
#: and size tests read list facts, which may be null, too.
_NEVER_RAISE = frozenset({Family.EQUALITY, Family.ORDERING})


def condition_source(
    condition: Any,
    ns: Namespace,
    fact: Callable[[str], str],
    shared: Callable[[str], str] | None = None,
    set_test: SetTest | None = None,
) -> str:
    """A Python expression for ``condition``; ``fact(name)`` is the expression of a fact.

    ``shared`` (if given) is offered the expression of every test that cannot raise and may
    return another expression in its place (a local bound to it ahead of a table's rules).
    ``set_test`` (if given) is offered every set test against a literal set, as (operator
    name, fact name, the compiled set), and may return an expression in its place (None: the
    operator's own).
    """
    from rollback_decision.policy.conditions import AllOf, AnyOf, Not, Test

    if isinstance(condition, Test):
        op = operator(condition.op)
        x = fact(condition.fact)
        if condition.operand.fact is not None:
            found = op.source(x, fact(condition.operand.fact), against_fact=True)
            safe = op.family in _NEVER_RAISE
        else:
            operand = op.compile_operand(condition.operand.value)
            replaced = (
                set_test(op.name, condition.fact, operand)
                if set_test is not None and op.family is Family.SET
                else None
            )
            found = replaced or op.source(x, ns.constant(operand), False)
            safe = op.family in _NEVER_RAISE or op.family is Family.MEMBERSHIP
        return shared(found) if shared is not None and safe else found
    if isinstance(condition, Not):
        return f"(not {condition_source(condition.item, ns, fact, shared, set_test)})"
    parts = [condition_source(item, ns, fact, shared, set_test) for item in condition.items]
    if not parts:
        return "True"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    assert isinstance(condition, (AllOf, AnyOf))
    return "(" + joiner.join(parts) + ")"
