"""What-if commands: ``what-if`` (one incident with facts changed) and ``sweep`` (a fact
varied over values)."""

from __future__ import annotations

from typing import Any

import click

from rollback_decision._cli.base import (
    POLICY_OPTION,
    _policy,
    cli,
    format_option,
    input_limits,
)
from rollback_decision.engine import decide
from rollback_decision.facts import load_incident
from rollback_decision.report import json_text, render_text, terminal_text


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
@input_limits
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
@input_limits
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
