"""Commands over an incident's life and its records: ``timeline``, ``metrics``, ``replay``,
``post-mortem``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click

from rollback_decision._cli.base import (
    POLICY_OPTION,
    _policy,
    cli,
    echo_report,
    format_option,
    input_limits,
)
from rollback_decision.report import json_text, terminal_text


@cli.command(name="timeline")
@click.argument("timeline_file", metavar="FILE")
@format_option("the changes, deadlines, warnings and final decision")
@POLICY_OPTION
@input_limits
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


def _log_time(value: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A --since/--until value: a date (the whole day, UTC) or an ISO 8601 time with a zone."""
    from rollback_decision.errors import DecisionLogError
    from rollback_decision.timeline.events import parse_time

    if value is None:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        try:
            return parse_time(value, what=option)
        except ValueError as exc:
            raise DecisionLogError(f"{exc}, or a date (2026-03-31)", source=option) from None
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start + timedelta(days=1, microseconds=-1) if end_of_day else start


def _read_logs(paths: tuple[str, ...]) -> Any:
    from rollback_decision.records import read_logs

    contents = read_logs(paths)
    for torn in contents.torn:
        click.echo(f"rollback-decision: warning: {torn}", err=True)
    return contents


@cli.command(name="metrics")
@click.argument("log_files", metavar="LOG...", nargs=-1, required=True)
@format_option("the metrics")
@click.option("--since", metavar="DATE", default=None, help="From DATE (or an ISO 8601 time).")
@click.option("--until", metavar="DATE", default=None, help="Up to DATE, inclusive.")
@click.option(
    "--plot",
    "plot_file",
    metavar="FILE",
    default=None,
    help=(
        "Also draw decision and completion times against their targets to FILE (PNG, SVG, PDF; "
        "needs the 'plot' extra)."
    ),
)
@POLICY_OPTION
@input_limits
def metrics_command(
    log_files: tuple[str, ...],
    output_format: str,
    since: str | None,
    until: str | None,
    plot_file: str | None,
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """The policy's rollback metrics over the decision logs LOG... against its targets.

    Targets come from the policy's parameters (--policy: an organisation policy's own).
    """
    from rollback_decision.records.history import group_log
    from rollback_decision.records.metrics import compute_metrics

    start = _log_time(since, "--since", end_of_day=False)
    end = _log_time(until, "--until", end_of_day=True)
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    history = group_log(_read_logs(log_files))
    report = compute_metrics(history, policy=policy, since=start, until=end)
    if plot_file is not None:
        from rollback_decision.records.plot import plot_times

        plot_times(history, report, plot_file)
    echo_report(report, output_format)
    return 0


@cli.command(name="replay")
@click.argument("log_file", metavar="LOG")
@click.option(
    "--policy",
    "policy_path",
    metavar="PATH",
    required=True,
    help="The policy to re-decide under (a rules folder or an organisation policy file).",
)
@format_option("the differences")
@input_limits
def replay_command(
    log_file: str,
    policy_path: str,
    output_format: str,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Re-decide every incident recorded in the decision LOG under a policy.

    Lists the incidents whose decisions would differ, at the first difference: its time, the
    recorded and the new action, and the rules that changed. Exit 0 when none differ, 1 when
    some do, 2 on bad input.
    """
    from rollback_decision.records.replay import replay_log

    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    report = replay_log(_read_logs((log_file,)), policy)
    echo_report(report, output_format)
    return 1 if report.differ else 0


@cli.command(name="post-mortem")
@click.argument("log_file", metavar="LOG")
@click.option("--incident", "incident", metavar="ID", required=True, help="The incident id.")
@POLICY_OPTION
@click.option(
    "--output",
    "-o",
    "output_file",
    metavar="FILE",
    default=None,
    help="Write the Markdown to FILE instead of standard output.",
)
@input_limits
def post_mortem_command(
    log_file: str,
    incident: str,
    policy_path: str | None,
    output_file: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """A Markdown post-mortem skeleton for incident ID from the decision LOG.

    Filled in from the log: the timeline, the decisions with their rationale and policy, the
    48-hour deadline and the incident's metrics against the targets; the policy's agenda,
    deliverables and attendees. Placeholders where the log has no answer.
    """
    from pathlib import Path

    from rollback_decision.records.history import group_log
    from rollback_decision.records.postmortem import render_post_mortem

    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    text = render_post_mortem(group_log(_read_logs((log_file,))), incident, policy=policy)
    if output_file is None:
        click.echo(text, nl=False)
    else:
        Path(output_file).write_text(text, encoding="utf-8")
    return 0
