"""The command line: ``rollback-decision decide FILE``, ``timeline FILE``, ``schema`` ….

Exit codes: 0 success, 2 bad input. Every refusal is ONE line on standard error, naming the
file (or ``<stdin>``), the line and the field where known, never a traceback: the command is
meant to sit behind bots that pipe whatever they receive. An error the library did not
foresee is reported the same way, as an internal error (``ROLLBACK_DECISION_DEBUG=1`` shows
its traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from rollback_decision.errors import PolicyError, RollbackDecisionError, escape

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
    from rollback_decision._cli import cli

    try:
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except PolicyError as exc:
        return _refuse(exc.one_line())
    except RollbackDecisionError as exc:
        return _refuse(str(exc))
    except _click_errors() as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # no command: the help, then why
            print(exc.format_message(), file=sys.stdout)  # type: ignore[attr-defined]
            return _refuse("name a command (see --help)")
        message = exc.format_message()  # type: ignore[attr-defined]
        usage = isinstance(exc, _click_usage_error())
        return _refuse(message + (" (see --help)" if usage else ""))
    except _click_abort():
        print("Aborted!", file=sys.stderr)
        return 1
    except (RecursionError, MemoryError):
        return _refuse("the input is too large or too deeply nested to read")
    except Exception as exc:
        if os.environ.get("ROLLBACK_DECISION_DEBUG"):
            raise
        return _refuse(
            f"internal error ({type(exc).__name__}: {escape(str(exc), 200)}); "
            "ROLLBACK_DECISION_DEBUG=1 shows where"
        )
    return int(result or 0)


def _refuse(message: str) -> int:
    """One line on standard error, control characters escaped; the exit status for it."""
    print(f"rollback-decision: {escape(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _click_errors() -> type[Exception]:
    import click

    return click.ClickException


def _click_usage_error() -> type[Exception]:
    import click

    return click.UsageError


def _click_abort() -> type[BaseException]:
    import click

    return click.exceptions.Abort


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
