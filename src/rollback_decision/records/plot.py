"""A plot of each incident's time to decision and time to complete against their targets
(needs the ``plot`` extra: matplotlib)."""

from __future__ import annotations

import os
from typing import Any

from rollback_decision.errors import RollbackDecisionError
from rollback_decision.records.history import LogHistory
from rollback_decision.records.metrics import MetricsReport

__all__ = ["plot_times"]


def plot_times(history: LogHistory, report: MetricsReport, path: str | os.PathLike[str]) -> None:
    """Write the plot to ``path`` (the format from its suffix: .png, .svg, .pdf)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise RollbackDecisionError(
            "--plot needs matplotlib: pip install 'rollback-decision[plot]'"
        ) from None

    def inside(history_opened: Any) -> bool:
        since, until = report.since, report.until
        return (since is None or history_opened >= since) and (
            until is None or history_opened <= until
        )

    incidents = [h for h in history.incidents if inside(h.opened_at)]
    panels = (
        (
            "time_to_decision_minutes",
            "Time to decision",
            [h.time_to_decision_minutes for h in incidents],
        ),
        (
            "time_to_complete_minutes",
            "Time to complete",
            [h.time_to_complete_minutes for h in incidents],
        ),
    )
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for axis, (name, title, values) in zip(axes, panels, strict=True):
        shown = [(h.incident, v) for h, v in zip(incidents, values, strict=True) if v is not None]
        target = report.metrics[name].target
        labels = [ident for ident, _ in shown]
        minutes = [v for _, v in shown]
        colours = ["tab:red" if target is not None and v > target else "tab:blue" for v in minutes]
        axis.bar(range(len(minutes)), minutes, color=colours)
        axis.set_xticks(range(len(minutes)), labels, rotation=45, ha="right", fontsize=8)
        if target is not None:
            axis.axhline(target, color="black", linestyle="--", label=f"target {target:g} min")
            axis.legend(loc="upper left")
        axis.set_title(title)
        axis.set_ylabel("minutes")
        if not minutes:
            axis.text(0.5, 0.5, "nothing to measure", ha="center", transform=axis.transAxes)
    try:
        figure.savefig(os.fspath(path))
    except (OSError, ValueError) as exc:
        raise RollbackDecisionError(f"{os.fspath(path)}: cannot write the plot: {exc}") from None
    finally:
        plt.close(figure)
