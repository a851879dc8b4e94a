"""Commands that decide or check one input: ``decide``, ``schema``, ``verify``, ``diff``,
``render``, ``readiness``."""

from __future__ import annotations

import click

from rollback_decision._cli.base import (
    POLICY_OPTION,
    _policy,
    cli,
    echo_report,
    engine_option,
    format_option,
    input_limits,
)
from rollback_decision.engine import decide
from rollback_decision.facts import Incident, load_incident
from rollback_decision.policy import Policy
from rollback_decision.report import json_text, render_text, terminal_text


@cli.command(name="decide")
@click.argument("incident_file", metavar="FILE|-")
@format_option("the decision")
@POLICY_OPTION
@engine_option("The rules engine that evaluates the policy.")
@input_limits
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
@input_limits
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
    echo_report(report, output_format)
    return 0 if report.ok else 1


@cli.command(name="diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@format_option("the report")
@input_limits
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
    echo_report(report, output_format)
    return 1 if report.changed else 0


TABLES_OPTION = click.option(
    "--table", "tables", metavar="ID", multiple=True, help="Only these tables."
)


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
@TABLES_OPTION
@POLICY_OPTION
@input_limits
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
@TABLES_OPTION
@POLICY_OPTION
@input_limits
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
@input_limits
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
