"""What every command shares: the ``rollback-decision`` click group and the options that
read a policy or an input file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import click

from rollback_decision.engine import ENGINES
from rollback_decision.policy import Policy, load_policy
from rollback_decision.policy.yamlio import DEFAULT_LIMITS
from rollback_decision.report import json_text, terminal_text

__all__ = [
    "EXTENDS_OUTSIDE_OPTION",
    "MAX_BYTES_OPTION",
    "POLICY_OPTION",
    "cli",
    "echo_report",
    "engine_option",
    "format_option",
    "input_limits",
]

F = TypeVar("F", bound=Callable[..., Any])

POLICY_OPTION = click.option(
    "--policy",
    "policy_path",
    metavar="PATH",
    default=None,
    help="A policy (folder of rule files, or an organisation policy file). Default: shipped.",
)


MAX_BYTES_OPTION = click.option(
    "--max-input-bytes",
    "max_bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.max_bytes,
    show_default=True,
    help="Refuse an incident or policy file larger than this many bytes.",
)
EXTENDS_OUTSIDE_OPTION = click.option(
    "--allow-extends-outside",
    "allow_extends_outside",
    is_flag=True,
    default=False,
    help="Let an organisation policy's 'extends' name a file outside its own folder.",
)


class Report(Protocol):
    """A report a command prints: as JSON, or as text to read."""

    def to_dict(self) -> dict[str, Any]: ...

    def render_text(self) -> str: ...


def echo_report(report: Report, output_format: str) -> None:
    """Print ``report`` as ``--format`` asks: JSON, or text for a terminal."""
    if output_format == "json":
        click.echo(json_text(report.to_dict()))
    else:
        click.echo(terminal_text(report.render_text()), nl=False)


def input_limits(func: F) -> F:
    """The options every command that reads files shares: the size limit of an input, and
    whether an organisation policy may extend a file outside its folder."""
    return MAX_BYTES_OPTION(EXTENDS_OUTSIDE_OPTION(func))


def format_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help=f"A report to read, or {what} as JSON.",
    )


def engine_option(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--engine",
        type=click.Choice(list(ENGINES)),
        default="native",
        show_default=True,
        help=help_text,
    )


def _policy(path: str | None, max_bytes: int, allow_extends_outside: bool) -> Policy:
    return load_policy(path, max_bytes=max_bytes, allow_extends_outside=allow_extends_outside)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rollback-decision")
def cli() -> None:
    """Decide what to do about a bad deployment, by the rollback policy."""
