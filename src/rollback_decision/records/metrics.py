"""The policy's rollback metrics ("METRICS"), from a decision log.

=============================  ==========================================================
``rollback_rate``              deployments rolled back / deployments, in %
``time_to_decision_minutes``   mean of opened → first ``decision_accepted``
``time_to_complete_minutes``   mean of first ``rollback_started`` → ``rollback_completed``
``rollback_success_rate``      completed / (completed + failed) rollbacks, in %
``data_loss_incidents``        incidents with a ``data_loss`` event
``repeat_rollbacks``           rollbacks for an ``issue`` already rolled back earlier
``preventable_rollbacks``      post-mortems that found the rollback preventable
=============================  ==========================================================

Targets are the policy's parameters (``target_*`` in ``rules/parameters.yaml``), so an
organisation policy changes them. A target written "< X" is met at X (as the time-to-decision
clock reads it); "0 %" and "100 %" are met only exactly. A rate or mean with nothing to
measure (no deployments, no rollbacks) has value and ``met`` None, with ``count`` 0 — never 0.
The figures do not depend on which policy made the logged decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any

from rollback_decision.policy import Policy, default_policy
from rollback_decision.records.history import LogHistory, group_log
from rollback_decision.records.reader import LogContents
from rollback_decision.timeline.changes import format_time

__all__ = ["METRICS", "Metric", "MetricSpec", "MetricsReport", "compute_metrics"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric: its name, label, unit, the parameter holding its target and how it is met."""

    name: str
    label: str
    unit: str
    target_parameter: str | None
    #: "max": met when the value is at most the target; "min": at least.
    bound: str
    counts: str


#: The policy's metrics, in its order ("TRACK ROLLBACK METRICS").
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "rollback_rate", "Rollback rate", "%", "target_rollback_rate_percent", "max", "deployments"
    ),
    MetricSpec(
        "time_to_decision_minutes",
        "Time to decision (mean)",
        "min",
        "target_time_to_decision_minutes",
        "max",
        "incidents decided",
    ),
    MetricSpec(
        "time_to_complete_minutes",
        "Time to complete (mean)",
        "min",
        "target_time_to_complete_minutes",
        "max",
        "rollbacks completed",
    ),
    MetricSpec(
        "rollback_success_rate",
        "Rollback success",
        "%",
        "target_rollback_success_percent",
        "min",
        "rollbacks ended",
    ),
    MetricSpec(
        "data_loss_incidents",
        "Data-loss incidents",
        "",
        "target_data_loss_percent",
        "max",
        "incidents",
    ),
    MetricSpec(
        "repeat_rollbacks",
        "Repeat rollbacks",
        "",
        "target_repeat_issues_percent",
        "max",
        "rollbacks",
    ),
    MetricSpec("preventable_rollbacks", "Preventable rollbacks", "", None, "max", "post-mortems"),
)


@dataclass(frozen=True)
class Metric:
    """One metric's figure: ``value`` (None: nothing to measure), its ``target`` (None: the
    policy sets none), whether it is ``met`` (None: unknown) and ``count`` (how many things
    it was measured over: the denominator of a rate, the samples of a mean)."""

    spec: MetricSpec
    value: float | None
    target: float | None
    met: bool | None
    count: int

    @property
    def name(self) -> str:
        return self.spec.name

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "target": self.target, "met": self.met, "count": self.count}


@dataclass(frozen=True)
class MetricsReport:
    """The metrics of a log (or of the part of it between ``since`` and ``until``)."""

    metrics: dict[str, Metric]
    deployments: int
    incidents: int
    rollbacks: int
    since: datetime | None = None
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": {name: m.to_dict() for name, m in self.metrics.items()},
            "deployments": self.deployments,
            "incidents": self.incidents,
            "rollbacks": self.rollbacks,
        }

    def render_text(self) -> str:
        window = ""
        if self.since is not None or self.until is not None:
            start = format_time(self.since) if self.since else "start"
            end = format_time(self.until) if self.until else "end"
            window = f" ({start} to {end})"
        lines = [
            f"Rollback metrics{window}: {self.deployments} deployments, "
            f"{self.incidents} incidents, {self.rollbacks} rollbacks",
            "",
        ]
        rows = [("Metric", "Value", "Target", "Met", "Measured over")]
        for metric in self.metrics.values():
            spec = metric.spec
            rows.append(
                (
                    spec.label,
                    _figure(metric.value, spec.unit)
                    if spec.unit
                    else f"{_figure(metric.value, '')} of {metric.count}",
                    "none"
                    if metric.target is None
                    else ("≤ " if spec.bound == "max" else "≥ ")
                    + _figure(metric.target, _target_unit(spec)),
                    {True: "yes", False: "NO", None: "-"}[metric.met],
                    f"{metric.count} {spec.counts}",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            lines.append(
                "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            )
        return "\n".join(line.rstrip() for line in lines) + "\n"


def _target_unit(spec: MetricSpec) -> str:
    # Data loss and repeat targets are percentages of incidents and rollbacks.
    return "%" if spec.name in ("data_loss_incidents", "repeat_rollbacks") else spec.unit


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.1f}".removesuffix(".0") if unit else f"{value:g}"
    return f"{text} {unit}" if unit else text


def compute_metrics(
    contents: LogContents | LogHistory,
    *,
    policy: Policy | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> MetricsReport:
    """The policy's metrics over a log. Deployments count by their time, incidents (and all
    their records) by when they opened; ``since`` and ``until`` are inclusive. A repeat
    rollback may repeat an issue rolled back before ``since``."""
    history = group_log(contents) if isinstance(contents, LogContents) else contents
    params = (policy if policy is not None else default_policy()).parameters

    def inside(moment: datetime) -> bool:
        return (since is None or moment >= since) and (until is None or moment <= until)

    deployments = {d.deployment for d in history.deployments if inside(d.at)}
    incidents = [h for h in history.incidents if inside(h.opened_at)]
    rolled_back = [h for h in incidents if h.rolled_back]
    rolled_back_deployments = {d for h in rolled_back for d in h.deployments if d in deployments}
    decided = [t for h in incidents if (t := h.time_to_decision_minutes) is not None]
    completed_times = [t for h in incidents if (t := h.time_to_complete_minutes) is not None]
    completed = sum(h.count("rollback_completed") for h in incidents)
    failed = sum(h.count("rollback_failed") for h in incidents)
    data_loss = sum(1 for h in incidents if h.data_loss)
    repeats = history.repeats()
    repeat = sum(1 for h in rolled_back if h.incident in repeats)
    reviewed = [h.preventable for h in incidents if h.preventable is not None]

    def ratio(part: int, whole: int) -> float | None:
        return None if whole == 0 else round(100 * part / whole, 2)

    figures: dict[str, tuple[float | None, int, float | None]] = {
        # name: (value, count, the value compared with the target)
        "rollback_rate": (
            r := ratio(len(rolled_back_deployments), len(deployments)),
            len(deployments),
            r,
        ),
        "time_to_decision_minutes": (m := _mean(decided), len(decided), m),
        "time_to_complete_minutes": (c := _mean(completed_times), len(completed_times), c),
        "rollback_success_rate": (s := ratio(completed, completed + failed), completed + failed, s),
        "data_loss_incidents": (data_loss, len(incidents), ratio(data_loss, len(incidents)) or 0.0),
        "repeat_rollbacks": (repeat, len(rolled_back), ratio(repeat, len(rolled_back)) or 0.0),
        "preventable_rollbacks": (sum(reviewed), len(reviewed), None),
    }
    metrics = {}
    for spec in METRICS:
        value, count, compared = figures[spec.name]
        target = None if spec.target_parameter is None else float(params[spec.target_parameter])
        metrics[spec.name] = Metric(spec, value, target, _met(compared, target, spec.bound), count)
    return MetricsReport(
        metrics, len(deployments), len(incidents), len(rolled_back), since=since, until=until
    )


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None


_BOUNDS: dict[str, Callable[[float, float], bool]] = {
    "max": lambda value, target: value <= target,
    "min": lambda value, target: value >= target,
}


def _met(value: float | None, target: float | None, bound: str) -> bool | None:
    if value is None or target is None:
        return None
    return _BOUNDS[bound](value, target)
