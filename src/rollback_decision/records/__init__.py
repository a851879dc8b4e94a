"""Decision records: the append-only decision log, the policy's rollback metrics, post-mortem
skeletons and replay of a log under another policy.

:class:`DecisionLog` appends records (and records an :class:`~rollback_decision.IncidentSession`
attached to it); :func:`read_log` reads them back, reporting a torn last line.
"""

from rollback_decision.records.log import (
    LINE_TYPES,
    ActionItem,
    DecisionLog,
    DecisionRecord,
    Deployed,
    EventRecord,
    LogContents,
    LogLine,
    Opened,
    PostMortemRecord,
    Record,
    TornTail,
    TornTailWarning,
    decision_record,
    parse_record,
    read_log,
    read_logs,
    record_to_dict,
)

__all__ = [
    "LINE_TYPES",
    "ActionItem",
    "DecisionLog",
    "DecisionRecord",
    "Deployed",
    "EventRecord",
    "LogContents",
    "LogLine",
    "Opened",
    "PostMortemRecord",
    "Record",
    "TornTail",
    "TornTailWarning",
    "decision_record",
    "parse_record",
    "read_log",
    "read_logs",
    "record_to_dict",
]
