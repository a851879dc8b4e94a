"""The command line: ``rollback-decision decide FILE``, ``timeline FILE``, ``schema`` ….

Exit codes: 0 success, 2 bad input (one message naming the file and field, no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rollback_decision.errors import RollbackDecisionError

__all__ = ["main"]

EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., Any])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rollback-decision`` command."""
    try:
        import click  # noqa: F401
    except ModuleNotFoundError:
        print(
            "rollback-decision: the command line needs the 'cli' extra: "
            "pip install 'rollback-decision[cli]'",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    from rollback_decision._cli_commands import cli

    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except RollbackDecisionError as exc:
        print(f"rollback-decision: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except _click_errors() as exc:
        exc.show()  # type: ignore[attr-defined]
        return EXIT_BAD_INPUT
    except _click_abort():
        print("Aborted!", file=sys.stderr)
        return 1
    return int(result or 0)


def _click_errors() -> type[Exception]:
    import click

    return click.ClickException


def _click_abort() -> type[BaseException]:
    import click

    return click.exceptions.Abort


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
