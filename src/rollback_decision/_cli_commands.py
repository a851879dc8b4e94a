"""The click commands behind :mod:`rollback_decision.cli` (needs the ``cli`` extra)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from rollback_decision.engine import ENGINES, decide
from rollback_decision.facts import Incident, load_incident
from rollback_decision.policy import Policy, load_policy
from rollback_decision.policy.yamlio import DEFAULT_LIMITS
from rollback_decision.report import json_text, render_text, terminal_text

__all__ = ["cli"]

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


@cli.command(name="decide")
@click.argument("incident_file", metavar="FILE|-")
@format_option("the decision")
@POLICY_OPTION
@engine_option("The rules engine that evaluates the policy.")
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def decide_command(
    incident_file: str,
    output_format: str,
    policy_path: str | None,
    engine: str,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Decide on the incident in FILE (YAML or JSON; - reads standard input)."""
    # The incident first: refusing a bad one should not wait for the policy to compile.
    incident = load_incident(incident_file, max_bytes=max_bytes)
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    decision = decide(incident, policy=policy, engine=engine)  # type: ignore[arg-type]
    if output_format == "json":
        click.echo(json_text(decision.model_dump(mode="json")))
    else:
        source = "<stdin>" if incident_file == "-" else incident_file
        click.echo(terminal_text(render_text(decision, source=source)), nl=False)
    return 0


@cli.command(name="schema")
def schema_command() -> int:
    """Print the JSON Schema of an incident file."""
    click.echo(json_text(Incident.model_json_schema()))
    return 0


@cli.command(name="verify")
@click.argument("rules_dir", metavar="[RULES_DIR]", required=False, default=None)
@POLICY_OPTION
@format_option("the report")
@engine_option("The rules engine whose matches are verified.")
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def verify_command(
    rules_dir: str | None,
    policy_path: str | None,
    output_format: str,
    engine: str,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Check a policy over its whole discretised fact space (default: the shipped policy).

    The policy is RULES_DIR or --policy: a rules folder or an organisation policy file.

    Reports gaps, overlaps in unique tables, rules that can never fire and invariant
    violations, each with a counterexample incident. Exit 1 on findings.
    """
    from rollback_decision.verify import verify_policy

    if rules_dir is not None and policy_path is not None:
        raise click.UsageError("name the policy once: as RULES_DIR or with --policy")
    policy = _policy(rules_dir or policy_path, max_bytes, allow_extends_outside)
    report = verify_policy(policy, engine=engine)
    if output_format == "json":
        click.echo(json_text(report.to_dict()))
    else:
        click.echo(terminal_text(report.render_text()), nl=False)
    return 0 if report.ok else 1


@cli.command(name="diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@format_option("the report")
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def diff_command(
    old: str, new: str, output_format: str, max_bytes: int, allow_extends_outside: bool
) -> int:
    """Which decisions change from policy OLD to policy NEW (rule folders or policy files).

    Exit 0 when nothing changes, 1 when something does, 2 on bad input.
    """
    from rollback_decision.verify import diff_policies

    report = diff_policies(
        _policy(old, max_bytes, allow_extends_outside),
        _policy(new, max_bytes, allow_extends_outside),
    )
    if output_format == "json":
        click.echo(json_text(report.to_dict()))
    else:
        click.echo(terminal_text(report.render_text()), nl=False)
    return 1 if report.changed else 0


@cli.command(name="timeline")
@click.argument("timeline_file", metavar="FILE")
@format_option("the changes, deadlines, warnings and final decision")
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
@click.option(
    "--at",
    "at_time",
    metavar="TIME",
    default=None,
    help="Show the timeline as of TIME (ISO 8601 with an offset). Default: its last event.",
)
def timeline_command(
    timeline_file: str,
    output_format: str,
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
    at_time: str | None,
) -> int:
    """Replay the incident timeline in FILE (YAML or JSON; - reads standard input).

    Prints every change of the decision (time, action, cause: an event or a clock of the
    policy), the warnings of the clocks that ran out and the deadlines still open.
    """
    from rollback_decision.errors import TimelineError
    from rollback_decision.timeline import load_timeline, render_text, replay
    from rollback_decision.timeline.events import parse_time

    # The timeline first: refusing a bad one should not wait for the policy to compile.
    timeline = load_timeline(timeline_file, max_bytes=max_bytes)
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    until = None
    if at_time is not None:
        try:
            until = parse_time(at_time, what="--at")
        except ValueError as exc:
            raise TimelineError(str(exc), source=timeline.source, field="at") from None
    session = replay(timeline, policy=policy, until=until)
    if output_format == "json":
        click.echo(json_text(session.to_dict()))
    else:
        click.echo(terminal_text(render_text(session, source=timeline.source)), nl=False)
    return 0
