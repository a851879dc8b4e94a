"""How ``examples/decision-log.jsonl`` is made: a month of deployments and incidents at a
trading firm, each incident run through an :class:`IncidentSession` attached to a
:class:`DecisionLog`, so its ``decision`` lines are exactly what the shipped policy decides.

Regenerate it after a change of the shipped rules (its policy hash changes with them)::

    .venv/bin/python tests/decision_log_example.py

``tests/test_records_example.py`` checks that the shipped file is current.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rollback_decision.records import DecisionLog, Deployed, PostMortemRecord
from rollback_decision.timeline import IncidentSession

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "decision-log.jsonl"


def _t(day: int, clock: str) -> datetime:
    hour, minute = clock.split(":")
    return datetime(2026, 3, day, int(hour), int(minute), tzinfo=UTC)


@dataclass(frozen=True)
class _Incident:
    ident: str
    deployment: str
    opened_at: datetime
    facts: dict[str, Any]
    #: (minutes after opening, event without its time)
    events: list[tuple[float, dict[str, Any]]]
    issue: str | None = None
    #: (hours after opening, preventable, action items)
    post_mortem: tuple[float, bool, list[Any]] | None = None


_INCIDENTS = [
    # A report renders wrong totals; a fix is promised in 10 minutes, does not come, and the
    # promise lapses into a rollback (type 2).
    _Incident(
        "INC-3001",
        "dep-0303-b",
        _t(3, "14:00"),
        {"symptoms": ["minor_functional_issue"], "change": {"components": ["application_code"]}},
        [
            (
                3,
                {
                    "type": "facts",
                    "set": {"related_to_deployment": True, "severity": "non_critical"},
                },
            ),
            (4, {"type": "fix_eta", "minutes": 10}),
            (5, {"type": "decision_accepted", "by": "dana", "role": "incident_commander"}),
            (16, {"type": "rollback_started"}),
            (20, {"type": "rollback_completed"}),
            (60, {"type": "resolved"}),
        ],
        issue="report-totals-rounding",
        post_mortem=(
            26,
            True,
            [
                {
                    "description": "Unit tests for the totals rounding of multi-currency reports",
                    "owner": "reporting team",
                    "due": "2026-03-10",
                    "priority": "high",
                    "category": "immediate",
                },
            ],
        ),
    ),
    # Login latency after a code change: the fix lands inside the promised 8 minutes.
    _Incident(
        "INC-3002",
        "dep-0305-a",
        _t(5, "10:20"),
        {
            "symptoms": ["performance_within_tolerance"],
            "change": {"components": ["application_code"]},
        },
        [
            (
                2,
                {
                    "type": "facts",
                    "set": {"related_to_deployment": True, "severity": "non_critical"},
                },
            ),
            (4, {"type": "fix_eta", "minutes": 8}),
            (6, {"type": "decision_accepted", "by": "li", "role": "incident_commander"}),
            (11, {"type": "fix_deployed"}),
            (30, {"type": "resolved"}),
        ],
        issue="login-session-cache",
    ),
    # A schema migration of the order router brings a trading logic error: immediate
    # rollback (type 3), which overruns its 30-minute budget.
    _Incident(
        "INC-3003",
        "dep-0309-a",
        _t(9, "09:30"),
        {
            "symptoms": ["trading_logic_error"],
            "change": {"components": ["database_schema"], "trading_system": True},
        },
        [
            (3, {"type": "facts", "set": {"related_to_deployment": True, "verified_backup": True}}),
            (5, {"type": "decision_accepted", "by": "sam", "role": "incident_commander"}),
            (7, {"type": "rollback_started"}),
            (45, {"type": "rollback_completed"}),
            (120, {"type": "resolved"}),
        ],
        issue="order-router-migration",
        post_mortem=(
            30,
            False,
            [
                {
                    "description": "Time the schema rollback in staging with production volumes",
                    "owner": "database team",
                    "due": "2026-04-09",
                    "priority": "medium",
                    "category": "short-term",
                },
            ],
        ),
    ),
    # A risk-limit configuration change rejects valid orders: the first rollback fails (the
    # config service is read-only during the auction), the retry completes.
    _Incident(
        "INC-3004",
        "dep-0312-b",
        _t(12, "15:10"),
        {
            "symptoms": ["critical_production_errors"],
            "change": {"components": ["configuration"], "trading_system": True},
        },
        [
            (2, {"type": "facts", "set": {"related_to_deployment": True}}),
            (4, {"type": "decision_accepted", "by": "ana", "role": "incident_commander"}),
            (5, {"type": "rollback_started"}),
            (
                9,
                {
                    "type": "rollback_failed",
                    "reason": "config service read-only during the auction",
                },
            ),
            (14, {"type": "rollback_started"}),
            (17, {"type": "rollback_completed"}),
            (40, {"type": "resolved"}),
        ],
        issue="risk-limits-config",
        post_mortem=(
            20,
            True,
            [
                "Validate risk-limit files against the order schema before deploying",
                {
                    "description": "Allow configuration rollback during auctions",
                    "owner": "platform team",
                    "due": "2026-06-30",
                    "priority": "medium",
                    "category": "long-term",
                },
            ],
        ),
    ),
    # A migration of the fills table corrupts data; the rollback restores the backup and the
    # fills written since it are lost.
    _Incident(
        "INC-3005",
        "dep-0318-a",
        _t(18, "11:00"),
        {
            "symptoms": ["data_corruption"],
            "change": {
                "components": ["database_schema"],
                "data_scenario": "backward_compatible_schema",
            },
        },
        [
            (4, {"type": "facts", "set": {"related_to_deployment": True, "verified_backup": True}}),
            (9, {"type": "decision_accepted", "by": "sam", "role": "incident_commander"}),
            (12, {"type": "rollback_started"}),
            (38, {"type": "data_loss", "records": 1240}),
            (41, {"type": "rollback_completed"}),
            (180, {"type": "resolved"}),
        ],
        issue="fills-table-migration",
        post_mortem=(
            44,
            True,
            [
                {
                    "description": "Replay fills from the exchange drop copy after a restore",
                    "owner": "operations team",
                    "due": "2026-03-25",
                    "priority": "high",
                    "category": "immediate",
                },
            ],
        ),
    ),
    # The report totals bug again, in another report: a repeat rollback of the same issue.
    _Incident(
        "INC-3006",
        "dep-0324-b",
        _t(24, "13:40"),
        {
            "symptoms": ["minor_functional_issue"],
            "related_to_deployment": True,
            "severity": "non_critical",
            "change": {"components": ["application_code"]},
        },
        [
            (7, {"type": "decision_accepted", "by": "dana", "role": "incident_commander"}),
            (9, {"type": "rollback_started"}),
            (13, {"type": "rollback_completed"}),
            (50, {"type": "resolved"}),
        ],
        issue="report-totals-rounding",
        post_mortem=(
            22,
            True,
            ["Share the totals rounding helper between all reports"],
        ),
    ),
    # Latency after a dependency update, at the same time as an exchange feed change: no
    # decision within 15 minutes, the policy defaults to rollback; then the feed is found to
    # be the cause (not related) and the issue is resolved without rolling back.
    _Incident(
        "INC-3007",
        "dep-0327-a",
        _t(27, "16:00"),
        {
            "symptoms": ["performance_within_tolerance", "monitoring_alert"],
            "change": {"components": ["dependency"]},
        },
        [
            (
                6,
                {
                    "type": "facts",
                    "set": {
                        "symptoms": [
                            "performance_within_tolerance",
                            "monitoring_alert",
                            "non_critical_errors",
                        ]
                    },
                },
            ),
            (19, {"type": "facts", "set": {"related_to_deployment": False}}),
            (21, {"type": "decision_accepted", "by": "li", "role": "incident_commander"}),
            (55, {"type": "resolved"}),
        ],
    ),
]


def _deployments() -> list[tuple[datetime, str]]:
    """Two deployments each weekday of March 2026 (10:00 and 13:30; one on Fridays)."""
    out = []
    day = datetime(2026, 3, 2, tzinfo=UTC)
    while day.month == 3:
        if day.weekday() < 5:
            out.append((day.replace(hour=10), f"dep-{day:%m%d}-a"))
            if day.weekday() < 4:
                out.append((day.replace(hour=13, minute=30), f"dep-{day:%m%d}-b"))
        day += timedelta(days=1)
    return out


def build_example_log(path: Path) -> None:
    """Write the example month to ``path`` (replacing it)."""
    path.unlink(missing_ok=True)
    causes = {i.deployment: i.ident for i in _INCIDENTS}
    steps: list[tuple[datetime, int, Callable[[DecisionLog], None]]] = []

    def at(moment: datetime, step: Callable[[DecisionLog], None]) -> None:
        steps.append((moment, len(steps), step))

    for moment, deployment in _deployments():
        record = Deployed(at=moment, deployment=deployment, incident=causes.get(deployment))
        at(moment, _appender(record))
    for incident in _INCIDENTS:
        _schedule(incident, at)
    steps.sort(key=lambda step: (step[0], step[1]))
    with DecisionLog(path, fsync=False) as log:
        for _, _, step in steps:
            step(log)


def _schedule(
    incident: _Incident, at: Callable[[datetime, Callable[[DecisionLog], None]], None]
) -> None:
    sessions: list[IncidentSession] = []

    def open_session(log: DecisionLog) -> None:
        session = IncidentSession(incident.opened_at, incident.facts, incident_id=incident.ident)
        log.attach(session, issue=incident.issue)
        sessions.append(session)

    at(incident.opened_at, open_session)
    for minutes, event in incident.events:
        moment = incident.opened_at + timedelta(minutes=minutes)
        at(moment, _applier(sessions, {**event, "at": moment}))
    if incident.post_mortem is not None:
        hours, preventable, items = incident.post_mortem
        moment = incident.opened_at + timedelta(hours=hours)
        record = PostMortemRecord(
            incident=incident.ident, at=moment, preventable=preventable, action_items=items
        )
        at(moment, _appender(record))


def _appender(record: Deployed | PostMortemRecord) -> Callable[[DecisionLog], None]:
    def append(log: DecisionLog) -> None:
        log.append(record)

    return append


def _applier(
    sessions: list[IncidentSession], event: dict[str, Any]
) -> Callable[[DecisionLog], None]:
    def apply(_log: DecisionLog) -> None:
        sessions[0].apply(event)

    return apply


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLE
    build_example_log(target)
    print(f"wrote {target}")
