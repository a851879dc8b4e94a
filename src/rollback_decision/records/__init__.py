"""Decision records: the append-only decision log, the policy's rollback metrics, post-mortem
skeletons and replay of a log under another policy.

:class:`DecisionLog` appends records (and records an :class:`~rollback_decision.IncidentSession`
attached to it); :func:`read_log` reads them back, reporting a torn last line;
:func:`group_log` groups them by incident; :func:`compute_metrics`, :func:`render_post_mortem`
and :func:`replay_log` work on either.
"""

from rollback_decision.records.history import IncidentHistory, LogHistory, group_log
from rollback_decision.records.lines import (
    LINE_TYPES,
    ActionItem,
    DecisionRecord,
    Deployed,
    EventRecord,
    Opened,
    PostMortemRecord,
    Record,
    parse_record,
    record_to_dict,
)
from rollback_decision.records.log import DecisionLog, TornTailWarning, decision_record
from rollback_decision.records.metrics import METRICS, Metric, MetricsReport, compute_metrics
from rollback_decision.records.postmortem import render_post_mortem
from rollback_decision.records.reader import LogContents, LogLine, TornTail, read_log, read_logs
from rollback_decision.records.replay import Difference, ReplayReport, replay_log

__all__ = [
    "LINE_TYPES",
    "METRICS",
    "ActionItem",
    "DecisionLog",
    "DecisionRecord",
    "Deployed",
    "Difference",
    "EventRecord",
    "IncidentHistory",
    "LogContents",
    "LogHistory",
    "LogLine",
    "Metric",
    "MetricsReport",
    "Opened",
    "PostMortemRecord",
    "Record",
    "ReplayReport",
    "TornTail",
    "TornTailWarning",
    "compute_metrics",
    "decision_record",
    "group_log",
    "parse_record",
    "read_log",
    "read_logs",
    "record_to_dict",
    "render_post_mortem",
    "replay_log",
]
