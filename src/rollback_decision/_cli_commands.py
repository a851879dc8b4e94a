"""The click commands behind :mod:`rollback_decision.cli` (needs the ``cli`` extra)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
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
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
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
    if output_format == "json":
        click.echo(json_text(report.to_dict()))
    else:
        click.echo(terminal_text(report.render_text()), nl=False)
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
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
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
    if output_format == "json":
        click.echo(json_text(report.to_dict()))
    else:
        click.echo(terminal_text(report.render_text()), nl=False)
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
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
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


def _assignment(text: str, option: str) -> tuple[str, str]:
    from rollback_decision.errors import IncidentError
    from rollback_decision.whatif.fields import resolve_field

    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise IncidentError(
            source=option, field=None, message=f"expected FIELD=VALUE, got {text!r}"
        )
    return resolve_field(name.strip()), value


def _cli_value(column: str, text: str) -> Any:
    """A value given on the command line, read as YAML (``20``, ``true``, ``null``,
    ``[a, b]``); a list field also takes ``a+b`` (``+`` joins members; an empty value is
    the empty list). The models check it, strictly, when the incident is built."""
    from rollback_decision.policy.types import input_fact_types
    from rollback_decision.policy.yamlio import read_document, to_plain
    from rollback_decision.whatif.fields import FIELDS

    kind = input_fact_types()[FIELDS[column]].kind
    text = text.strip()
    if kind == "list" and not text.startswith("["):
        return [m.strip() for m in text.split("+") if m.strip()]
    return to_plain(read_document(text.encode(), name=None)) if text else None


@cli.command(name="what-if")
@click.argument("incident_file", metavar="FILE|-")
@click.option(
    "--set",
    "assignments",
    metavar="FIELD=VALUE",
    multiple=True,
    help="Change a fact (dotted fields reach into the change: change.data_scenario=...).",
)
@format_option("the decision and what changed")
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def what_if_command(
    incident_file: str,
    assignments: tuple[str, ...],
    output_format: str,
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Decide on the incident in FILE with facts changed, and show what changed against it."""
    from rollback_decision.whatif.batch import decision_row
    from rollback_decision.whatif.fields import set_field

    incident = load_incident(incident_file, max_bytes=max_bytes)
    overrides = {}
    for text in assignments:
        column, value = _assignment(text, "--set")
        overrides[column] = _cli_value(column, value)
    data = incident.model_dump(mode="json")
    for column, value in overrides.items():
        set_field(data, column, value)
    from rollback_decision.facts import parse_incident

    changed = parse_incident(data, source="--set")
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    before, after = decide(incident, policy=policy), decide(changed, policy=policy)
    old, new = decision_row(before), decision_row(after)
    differences = {k: {"base": old[k], "what_if": new[k]} for k in old if old[k] != new[k]}
    if output_format == "json":
        report = {
            "set": overrides,
            "changed": differences,
            "decision": after.model_dump(mode="json"),
        }
        click.echo(json_text(report))
        return 0
    lines = [
        f"What if {', '.join(f'{k}={v!r}' for k, v in overrides.items()) or 'nothing changed'}:"
    ]
    if differences:
        lines += [
            f"  {k}: {d['base']} → {d['what_if']}" for k, d in differences.items() if k != "rules"
        ]
    else:
        lines.append("  the decision's headline is unchanged")
    source = "<stdin>" if incident_file == "-" else incident_file
    text = "\n".join(lines) + "\n\n" + render_text(after, source=source)
    click.echo(terminal_text(text), nl=False)
    return 0


@cli.command(name="sweep")
@click.argument("incident_file", metavar="FILE|-")
@click.option(
    "--vary",
    "variations",
    metavar="FIELD=V1,V2,...",
    multiple=True,
    required=True,
    help="A fact and the values to try (repeat for a grid; a list's members join with +).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="A table to read, JSON records, or CSV.",
)
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def sweep_command(
    incident_file: str,
    variations: tuple[str, ...],
    output_format: str,
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Decide on the incident in FILE for every combination of the varied facts."""
    from rollback_decision.errors import IncidentError

    try:
        from rollback_decision.whatif.grid import sweep_grid
    except ModuleNotFoundError:  # pragma: no cover - depends on the installation
        raise IncidentError(
            source="sweep",
            field=None,
            message="needs pandas: pip install 'rollback-decision[notebook]'",
        ) from None
    incident = load_incident(incident_file, max_bytes=max_bytes)
    axes: dict[str, list[Any]] = {}
    for text in variations:
        column, values = _assignment(text, "--vary")
        axes[column] = [_cli_value(column, v) for v in values.split(",")]
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    table = sweep_grid(incident, axes, policy=policy)
    table = table.drop(columns=["rules"])
    if output_format == "json":
        click.echo(json_text(table.to_dict(orient="records")))
    elif output_format == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    else:
        shown = table.map(lambda v: "-" if v is None else v)
        click.echo(terminal_text(shown.to_string(index=False)) + "\n", nl=False)
    return 0


@cli.group(name="render")
def render_group() -> None:
    """Draw the policy for review: its decision tree, or its decision tables."""


@render_group.command(name="tree")
@click.option(
    "--incident", "incident_file", metavar="FILE", default=None, help="Highlight its path."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid flowchart text, or Graphviz DOT.",
)
@click.option("--table", "tables", metavar="ID", multiple=True, help="Only these tables.")
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def render_tree_command(
    incident_file: str | None,
    output_format: str,
    tables: tuple[str, ...],
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """The decision tree from the rules, one incident's path highlighted."""
    from rollback_decision.whatif.render import decision_tree

    incident = load_incident(incident_file, max_bytes=max_bytes) if incident_file else None
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    _known_tables(policy, tables)
    click.echo(
        terminal_text(decision_tree(policy, incident=incident, tables=tables, fmt=output_format)),
        nl=False,
    )
    return 0


@render_group.command(name="tables")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="Markdown or HTML tables.",
)
@click.option("--table", "tables", metavar="ID", multiple=True, help="Only these tables.")
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def render_tables_command(
    output_format: str,
    tables: tuple[str, ...],
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """Each decision table as a grid: a column per fact, a row per rule, outputs, hit policy."""
    from rollback_decision.whatif.render import decision_tables

    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    _known_tables(policy, tables)
    click.echo(terminal_text(decision_tables(policy, tables=tables, fmt=output_format)), nl=False)
    return 0


def _known_tables(policy: Policy, tables: tuple[str, ...]) -> None:
    from rollback_decision.errors import did_you_mean

    ids = [t.id for t in policy.tables]
    for name in tables:
        if name not in ids:
            raise click.UsageError(f"--table {name!r}: no such table{did_you_mean(name, ids)}")


@cli.command(name="readiness")
@click.argument("plan_file", metavar="FILE|-")
@format_option("the assessment")
@POLICY_OPTION
@MAX_BYTES_OPTION
@EXTENDS_OUTSIDE_OPTION
def readiness_command(
    plan_file: str,
    output_format: str,
    policy_path: str | None,
    max_bytes: int,
    allow_extends_outside: bool,
) -> int:
    """May the deployment in FILE go out? (a deployment plan, YAML or JSON; - reads stdin)

    Exit 0 when ready, 1 when conditional or blocked (a pipeline step gates on it), 2 on
    bad input. The JSON carries the verdict first.
    """
    from rollback_decision.readiness import assess_readiness, load_plan, render_readiness

    plan = load_plan(plan_file, max_bytes=max_bytes)
    policy = _policy(policy_path, max_bytes, allow_extends_outside)
    result = assess_readiness(plan, policy)
    if output_format == "json":
        click.echo(json_text(result.model_dump(mode="json")))
    else:
        source = "<stdin>" if plan_file == "-" else plan_file
        click.echo(terminal_text(render_readiness(result, source=source)), nl=False)
    return 0 if result.verdict == "ready" else 1
