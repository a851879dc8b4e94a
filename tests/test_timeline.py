"""Incident timelines: decisions that change with events and with the policy's clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import PolicyError, TimelineError, decide, load_policy
from rollback_decision.cli import main
from rollback_decision.timeline import (
    IncidentSession,
    clock_rules,
    load_timeline,
    parse_timeline,
    replay,
    run_live,
)
from tests.conftest import EXAMPLES

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
RELATED = {"related_to_deployment": True, "severity": "non_critical"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def iso(minutes: float) -> str:
    return at(minutes).isoformat().replace("+00:00", "Z")


def history(session: IncidentSession) -> list[tuple[float, str, dict[str, Any]]]:
    """(minute, action, cause) of every decision change."""
    return [
        ((c.at - T0).total_seconds() / 60, c.action.value, c.cause.to_dict())
        for c in session.changes
    ]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- the shipped example timelines, through the command line --------------------------------

EXPECTED_CHANGES = {
    "promised-fix-lapses.yaml": [
        {"at": "2026-03-02T14:00:00Z", "action": "escalate", "cause": {"event": None}},
        {"at": "2026-03-02T14:03:00Z", "action": "rollback", "cause": {"event": 0}},
        {"at": "2026-03-02T14:04:00Z", "action": "fix_forward", "cause": {"event": 1}},
        {
            "at": "2026-03-02T14:14:00Z",
            "action": "rollback",
            "cause": {"clock": "clock.fix_forward.promise"},
        },
    ],
    "fix-lands-in-time.yaml": [
        {"at": "2026-03-02T14:00:00Z", "action": "escalate", "cause": {"event": None}},
        {"at": "2026-03-02T14:03:00Z", "action": "rollback", "cause": {"event": 0}},
        {"at": "2026-03-02T14:04:00Z", "action": "fix_forward", "cause": {"event": 1}},
        {"at": "2026-03-02T14:25:00Z", "action": "no_action", "cause": {"event": 4}},
    ],
    "critical-rollback-overruns-budget.yaml": [
        {"at": "2026-03-05T09:30:00Z", "action": "escalate", "cause": {"event": None}},
        {"at": "2026-03-05T09:33:00Z", "action": "immediate_rollback", "cause": {"event": 0}},
    ],
    "uncertain-relation-overdue.yaml": [
        {"at": "2026-03-09T16:00:00+01:00", "action": "escalate", "cause": {"event": None}},
        {
            "at": "2026-03-09T16:15:00+01:00",
            "action": "rollback",
            "cause": {"clock": "clock.time_to_decision"},
        },
    ],
}
TIMELINES = sorted((EXAMPLES / "timelines").glob("*.yaml"))


def test_example_timelines_cover_the_four_promised_stories() -> None:
    assert sorted(p.name for p in TIMELINES) == sorted(EXPECTED_CHANGES)


@pytest.mark.parametrize("path", TIMELINES, ids=[p.name for p in TIMELINES])
def test_example_timeline_changes_exactly_as_expected(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    code, out, err = run(capsys, "timeline", str(path), "--format", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["changes"] == EXPECTED_CHANGES[path.name]
    assert result["final"]["action"] == EXPECTED_CHANGES[path.name][-1]["action"]
    assert set(result) >= {"changes", "deadlines", "warnings", "final"}


def test_budget_overrun_warns_then_monitoring_and_post_mortem_stay_open(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = EXAMPLES / "timelines" / "critical-rollback-overruns-budget.yaml"
    _, out, _ = run(capsys, "timeline", str(path), "--format", "json")
    result = json.loads(out)
    assert [(w["at"], w["rule_id"]) for w in result["warnings"]] == [
        ("2026-03-05T10:07:00Z", "clock.rollback.budget")
    ]
    assert "overrun its 30-minute budget" in result["warnings"][0]["text"]
    assert [(d["at"], d["rule_id"]) for d in result["deadlines"]] == [
        ("2026-03-05T12:15:00Z", "clock.monitoring_window"),  # type 3: 2 hours
        ("2026-03-07T10:15:00Z", "clock.post_mortem"),  # 48 hours
    ]


def test_at_shows_the_timeline_as_of_a_moment(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "timelines" / "critical-rollback-overruns-budget.yaml"
    _, out, _ = run(capsys, "timeline", str(path), "--format", "json", "--at", "2026-03-05T10:00Z")
    result = json.loads(out)
    assert result["at"] == "2026-03-05T10:00:00Z"
    assert result["warnings"] == []
    assert [(d["at"], d["rule_id"]) for d in result["deadlines"]] == [
        ("2026-03-05T10:07:00Z", "clock.rollback.budget"),
        ("2026-03-05T10:07:00Z", "clock.rollback.status_update"),  # 09:52, then 10:07
    ]


def test_text_report_one_line_per_change_with_cause_and_deadlines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = EXAMPLES / "timelines" / "promised-fix-lapses.yaml"
    code, out, _ = run(capsys, "timeline", str(path))
    assert code == 0
    assert "  2026-03-02T14:04:00Z  fix_forward (type 2)  event 1 (fix_eta)\n" in out
    assert "  2026-03-02T14:14:00Z  rollback (type 2)     clock clock.fix_forward.promise\n" in out
    assert "Open deadlines:\n  2026-03-02T14:50:00Z  Monitoring after the type 2 rollback" in out
    assert out.rstrip().endswith(
        "Now: rollback (type 2); Non-Critical Issue: decided by Change Advisory Board (CAB)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "opened_at: 2026-03-02T14:00:00\n",
            "field 'opened_at': opened_at 2026-03-02T14:00:00 is naive: give a zone offset "
            "(Z or +HH:MM)",
        ),
        (
            "opened_at: 2026-03-02T14:00:00Z\nevents:\n"
            "  - {at: 2026-03-02T14:05:00Z, type: fix_eat, minutes: 5}\n",
            "event 0: field 'type': unknown event type 'fix_eta'",
        ),
        (
            "opened_at: 2026-03-02T14:00:00Z\nevent: []\n",
            "field 'event': unknown key (did you mean 'events'?)",
        ),
        (
            "opened_at: 2026-03-02T14:00:00Z\nevents:\n"
            "  - {at: 2026-03-02T14:05:00Z, type: rollback_started}\n"
            "  - {at: 2026-03-02T14:04:00Z, type: rollback_completed}\n",
            "event 1 (rollback_completed): field 'at': 2026-03-02T14:04:00Z is before the "
            "previous event (2026-03-02T14:05:00Z): events are in time order",
        ),
    ],
)
def test_bad_timeline_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "timeline", str(path))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"rollback-decision: {path}: invalid timeline: ")
    assert message.replace("'fix_eta'", "'fix_eat' (did you mean 'fix_eta'?)") in err or (
        message in err
    )


def test_naive_at_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / "timelines" / "fix-lands-in-time.yaml"
    code, _, err = run(capsys, "timeline", str(path), "--at", "2026-03-02T14:10:00")
    assert code == 2
    assert "field 'at': --at 2026-03-02T14:10:00 is naive" in err


def test_timeline_from_json_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "opened_at": "2026-03-02T14:00:00Z",
                "facts": RELATED,
                "events": [{"at": "2026-03-02T14:01:00Z", "type": "fix_eta", "minutes": 5}],
            }
        ),
        encoding="utf-8",
    )
    _, out, _ = run(capsys, "timeline", str(path), "--format", "json", "--at", "2026-03-02T15:00Z")
    changes = [(c["at"], c["action"]) for c in json.loads(out)["changes"]]
    assert changes == [
        ("2026-03-02T14:00:00Z", "rollback"),
        ("2026-03-02T14:01:00Z", "fix_forward"),
        ("2026-03-02T14:06:00Z", "rollback"),
    ]


# -- the fix-forward promise ----------------------------------------------------------------


def test_promise_lapses_at_the_promised_time() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    assert session.next_deadline is not None
    assert (session.next_deadline.at, session.next_deadline.rule_id) == (
        at(14),
        "clock.fix_forward.promise",
    )
    assert session.advance_to(at(13.99)) == []
    assert session.decision.action.value == "fix_forward"
    [change] = session.advance_to(at(14))
    assert (change.at, change.action.value, change.cause.to_dict()) == (
        at(14),
        "rollback",
        {"clock": "clock.fix_forward.promise"},
    )
    assert session.incident.fix_forward_eta_minutes is None
    assert [w.rule_id for w in session.warnings] == ["clock.fix_forward.promise"]


def test_promise_beyond_the_window_lapses_when_the_window_ends() -> None:
    # A 30-minute fix beats a 60-minute rollback at step 7, but the time limit is 15 minutes.
    facts = {**RELATED, "rollback_eta_minutes": 60}
    session = IncidentSession(T0, facts)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 30})
    assert session.decision.action.value == "fix_forward"
    session.advance_to(at(60))
    assert history(session) == [
        (0, "rollback", {"event": None}),
        (4, "fix_forward", {"event": 0}),
        (19, "rollback", {"clock": "clock.fix_forward.promise"}),
    ]


def test_fix_deployed_at_the_deadline_is_in_time() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    session.apply({"at": at(14), "type": "fix_deployed"})
    session.advance_to(at(120))
    assert [a for _, a, _ in history(session)] == ["rollback", "fix_forward"]
    assert [w.rule_id for w in session.warnings] == ["clock.time_to_decision"]


def test_a_new_promise_replaces_the_old_one() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    session.apply({"at": at(10), "type": "fix_eta", "minutes": 8})
    assert [d.at for d in session.deadlines if d.rule_id == "clock.fix_forward.promise"] == [at(18)]
    session.advance_to(at(18))
    assert history(session)[-1] == (18, "rollback", {"clock": "clock.fix_forward.promise"})


def test_an_eta_among_the_facts_is_a_promise_too() -> None:
    session = IncidentSession(T0, {**RELATED, "fix_forward_eta_minutes": 10})
    session.apply({"at": at(3), "type": "facts", "set": {"severity": "non_critical"}})
    session.advance_to(at(30))
    assert history(session) == [
        (0, "fix_forward", {"event": None}),
        (10, "rollback", {"clock": "clock.fix_forward.promise"}),
    ]
    later = IncidentSession(T0, RELATED)
    later.apply({"at": at(5), "type": "facts", "set": {"fix_forward_eta_minutes": 5}})
    later.apply({"at": at(7), "type": "facts", "set": {"fix_forward_eta_minutes": None}})
    assert [d.rule_id for d in later.deadlines] == ["clock.time_to_decision"]


def test_failed_fix_goes_back_to_rollback_at_once() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    session.apply({"at": at(7), "type": "fix_failed"})
    assert history(session)[-1] == (7, "rollback", {"event": 1})
    assert session.deadlines[0].rule_id == "clock.time_to_decision"


# -- time to decision -----------------------------------------------------------------------


def test_uncertain_relation_defaults_to_rollback_when_the_decision_is_overdue() -> None:
    session = IncidentSession(T0, {"symptoms": ["monitoring_alert"]})
    assert session.decision.action.value == "escalate"
    session.advance_to(at(15))
    assert history(session) == [
        (0, "escalate", {"event": None}),
        (15, "rollback", {"clock": "clock.time_to_decision"}),
    ]
    # The relation is presumed; the tree goes on from step 2 as for a related issue.
    assert session.incident.related_to_deployment is True
    assert "tree.7.rollback" in session.decision.rule_ids
    assert session.decision == decide(session.incident)


def test_overdue_uncertain_relation_still_goes_down_the_tree() -> None:
    critical = IncidentSession(T0, {"symptoms": ["data_corruption"]})
    irreversible = IncidentSession(T0, {"change": {"point_of_no_return": ["one_way_migration"]}})
    risky = IncidentSession(T0, {"rollback_risk": "high"})
    for session in (critical, irreversible, risky):
        assert session.decision.action.value == "escalate"
        session.advance_to(at(15))
    assert critical.decision.action.value == "immediate_rollback"
    assert irreversible.decision.action.value == "must_fix_forward"
    assert risky.decision.action.value == "evaluate_risk"


def test_a_relation_found_unrelated_after_the_deadline_is_not_presumed_away() -> None:
    session = IncidentSession(T0, {"symptoms": ["monitoring_alert"]})
    session.apply({"at": at(20), "type": "facts", "set": {"related_to_deployment": False}})
    assert [a for _, a, _ in history(session)] == ["escalate", "rollback", "investigate"]


def test_accepted_decision_stops_the_decision_clock() -> None:
    session = IncidentSession(T0, {"symptoms": ["monitoring_alert"]})
    session.apply({"at": at(15), "type": "decision_accepted", "by": "vp", "role": "executive"})
    session.advance_to(at(60))
    assert [a for _, a, _ in history(session)] == ["escalate"]
    assert session.warnings == []
    assert [(a.by, a.role, a.action.value) for a in session.acceptances] == [
        ("vp", "executive", "escalate")
    ]


def test_overdue_with_a_known_relation_warns_without_changing_the_decision() -> None:
    session = IncidentSession(T0, RELATED)
    session.advance_to(at(16))
    assert [a for _, a, _ in history(session)] == ["rollback"]
    assert [(w.at, w.rule_id) for w in session.warnings] == [(at(15), "clock.time_to_decision")]


# -- rollbacks: budget, status updates, monitoring, post-mortem -----------------------------


def test_rollback_updates_every_15_minutes_until_it_completes() -> None:
    facts = {**RELATED, "change": {"components": ["infrastructure"]}}  # type 4, 120 min
    session = IncidentSession(T0, facts)
    session.apply({"at": at(1), "type": "decision_accepted", "by": "cab", "role": "cab"})
    session.apply({"at": at(2), "type": "rollback_started"})
    assert [(d.at, d.rule_id) for d in session.deadlines] == [
        (at(17), "clock.rollback.status_update"),
        (at(122), "clock.rollback.budget"),
    ]
    session.advance_to(at(50))
    assert session.next_deadline is not None
    assert session.next_deadline.at == at(62)  # 17, 32, 47 passed
    session.apply({"at": at(70), "type": "rollback_completed"})
    assert [(d.at, d.rule_id) for d in session.deadlines] == [
        (at(70 + 48 * 60), "clock.monitoring_window"),  # type 4: 48 hours
        (at(70 + 48 * 60), "clock.post_mortem"),
    ]
    assert session.warnings == []


def test_failed_rollback_warns_at_once_and_may_be_retried() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(1), "type": "rollback_started"})
    session.apply({"at": at(3), "type": "rollback_failed", "reason": "health check failed"})
    session.apply({"at": at(4), "type": "rollback_started"})
    assert [(w.at, w.rule_id) for w in session.warnings] == [(at(3), "clock.rollback.failed")]
    session.apply({"at": at(6), "type": "rollback_completed"})
    post_mortem = [d for d in session.deadlines if d.rule_id == "clock.post_mortem"]
    assert [d.at for d in post_mortem] == [at(3 + 48 * 60)]  # from the first rollback's end


# -- bad events: typed errors, and nothing changes --------------------------------------------


@pytest.mark.parametrize(
    ("events", "index", "field", "message"),
    [
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "rollback_completed"}],
            0,
            "type",
            "rollback_completed with no rollback_started before it",
        ),
        (
            [
                {"at": "2026-03-02T14:05:00Z", "type": "rollback_started"},
                {"at": "2026-03-02T14:06:00Z", "type": "rollback_started"},
            ],
            1,
            "type",
            "a rollback is already under way (started by event 0)",
        ),
        (
            [{"at": "2026-03-02T13:59:00Z", "type": "resolved"}],
            0,
            "at",
            "2026-03-02T13:59:00Z is before the incident opened (2026-03-02T14:00:00Z)",
        ),
        (
            [{"at": "2026-03-02T14:05:00", "type": "resolved"}],
            0,
            "at",
            "time 2026-03-02T14:05:00 is naive: give a zone offset (Z or +HH:MM)",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "resolve"}],
            0,
            "type",
            "unknown event type 'resolve' (did you mean 'resolved'?); expected one of facts, "
            "fix_eta, fix_deployed, fix_failed, decision_accepted, rollback_started, "
            "rollback_completed, rollback_failed, data_loss, resolved",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "fix_eta", "minute": 5}],
            0,
            "minute",
            "unknown field (did you mean 'minutes'?); a fix_eta event has minutes",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "facts", "set": {"severty": "critical"}}],
            0,
            "set.severty",
            "unknown field (did you mean 'severity'?)",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "facts", "set": {"change.component": []}}],
            0,
            "set.change.component",
            "unknown field (did you mean 'components'?)",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "decision_accepted", "by": "dana"}],
            0,
            "role",
            "field required",
        ),
        (
            [{"at": "2026-03-02T14:05:00Z", "type": "fix_eta", "minutes": -1}],
            0,
            "minutes",
            "input should be greater than or equal to 0, got -1",
        ),
    ],
)
def test_bad_event_names_index_and_field_and_changes_nothing(
    events: list[dict[str, Any]], index: int, field: str, message: str
) -> None:
    session = IncidentSession(T0, RELATED)
    for event in events[:-1]:
        session.apply(event)
    before = session.to_dict()
    with pytest.raises(TimelineError) as info:
        session.apply(events[-1])
    assert (info.value.index, info.value.field, info.value.message) == (index, field, message)
    assert session.to_dict() == before
    assert session.events_applied == index


def test_rejected_event_after_due_clocks_leaves_them_due() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    with pytest.raises(TimelineError):
        session.apply({"at": at(30), "type": "rollback_completed"})
    # The lapse at 14:14 did not happen: the rejected event did not move time on.
    assert session.now == at(4)
    assert session.decision.action.value == "fix_forward"


def test_time_never_moves_back() -> None:
    session = IncidentSession(T0, RELATED)
    session.advance_to(at(20))
    with pytest.raises(TimelineError, match="before the session's time"):
        session.apply({"at": at(10), "type": "resolved"})
    with pytest.raises(TimelineError, match="before the session's time"):
        session.advance_to(at(19))


def test_naive_opened_at_is_an_error() -> None:
    with pytest.raises(TimelineError, match="naive"):
        IncidentSession(datetime(2026, 3, 2, 14, 0), RELATED)


def test_equal_times_keep_file_order() -> None:
    timeline = parse_timeline(
        {
            "opened_at": "2026-03-02T14:00:00Z",
            "facts": RELATED,
            "events": [
                {"at": "2026-03-02T14:05:00Z", "type": "fix_eta", "minutes": 5},
                {"at": "2026-03-02T14:05:00Z", "type": "fix_failed"},
            ],
        }
    )
    session = replay(timeline)
    assert [(c.action.value, c.cause.event) for c in session.changes] == [
        ("rollback", None),
        ("fix_forward", 0),
        ("rollback", 1),
    ]


def test_times_keep_the_offset_of_opened_at() -> None:
    zone = timezone(timedelta(hours=-5))
    session = IncidentSession(datetime(2026, 3, 2, 9, 0, tzinfo=zone), RELATED)
    session.apply({"at": "2026-03-02T14:04:00Z", "type": "fix_eta", "minutes": 10})
    assert session.to_dict()["changes"][1]["at"] == "2026-03-02T09:04:00-05:00"


# -- clocks are rules of the policy -------------------------------------------------------------


def test_clocks_are_listed_with_ids_sections_and_texts() -> None:
    listing = {c.id: c for c in clock_rules()}
    assert set(listing) == {
        "clock.fix_forward.promise",
        "clock.time_to_decision",
        "clock.rollback.budget",
        "clock.rollback.status_update",
        "clock.rollback.failed",
        "clock.data_loss",
        "clock.monitoring_window",
        "clock.post_mortem",
    }
    assert listing["clock.time_to_decision"].section == (
        "METRICS › TARGET METRICS › Time to decision (< 15 minutes)"
    )
    assert "within 15 minutes" in listing["clock.time_to_decision"].text


def test_organisation_policy_overrides_clocks_and_their_parameters(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(
        "extends: default\n"
        "parameters: {fix_forward_window_minutes: 10, target_time_to_decision_minutes: 5}\n"
        "clocks:\n"
        "  clock.rollback.status_update: {after: {minutes: 10}}\n",
        encoding="utf-8",
    )
    policy = load_policy(org)
    # 5 minutes: within type 2's budget (a longer reported rollback is a larger type)
    session = IncidentSession(T0, {**RELATED, "rollback_eta_minutes": 5}, policy=policy)
    session.apply({"at": at(1), "type": "fix_eta", "minutes": 30})
    session.apply({"at": at(2), "type": "rollback_started"})
    assert [(d.at, d.rule_id) for d in session.deadlines][:4] == [
        (at(5), "clock.time_to_decision"),
        (at(7), "clock.rollback.budget"),  # type 2: 5 minutes
        (at(11), "clock.fix_forward.promise"),  # the 10-minute window
        (at(12), "clock.rollback.status_update"),
    ]


def test_broken_clock_is_reported_with_file_line_and_did_you_mean(rules_copy: Path) -> None:
    path = rules_copy / "clocks.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("stops_on: [fix_deployed, fix_failed, resolved]", "stops_on: [fix_deploy]")
    text = text.replace("{param: target_time_to_decision_minutes}", "{param: target_decision}")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(rules_copy)
    messages = [str(p) for p in info.value.problems]
    assert any(
        "clocks.yaml:" in m
        and "key 'clocks.clock.fix_forward.promise.stops_on.0': unknown event type "
        "'fix_deploy' (did you mean 'fix_deployed'?)"
        in m
        for m in messages
    ), messages
    assert any(
        "key 'clocks.clock.time_to_decision.after.minutes': unknown parameter "
        "'target_decision' (did you mean" in m
        for m in messages
    ), messages


# -- live use -----------------------------------------------------------------------------------


def test_run_live_follows_an_injected_clock_to_each_deadline() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(4), "type": "fix_eta", "minutes": 10})
    now = [at(5)]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    seen = run_live(
        session,
        clock=lambda: now[0],
        sleep=sleep,
        stop=lambda s: s.decision.action.value == "rollback",
        max_wait_seconds=600,
    )
    assert [(c.at, c.action.value) for c in seen] == [(at(14), "rollback")]
    assert slept == [540.0]


def test_load_timeline_reads_the_issue_example() -> None:
    timeline = load_timeline(EXAMPLES / "timelines" / "fix-lands-in-time.yaml")
    assert timeline.incident == "INC-2042"
    assert [e.type for e in timeline.events] == [
        "facts",
        "fix_eta",
        "decision_accepted",
        "fix_deployed",
        "resolved",
    ]


def test_misspelt_clock_key_is_a_shape_problem_with_did_you_mean(rules_copy: Path) -> None:
    path = rules_copy / "clocks.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      reset: [fix_", "      rest: [fix_"), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(rules_copy)
    [problem] = info.value.problems
    assert (problem.key, problem.message) == (
        "clocks.clock.fix_forward.promise.on_expiry.rest",
        "unknown key (did you mean 'reset'?)",
    )


def test_organisation_policy_adds_a_clock_and_names_a_misspelt_one(tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(
        "extends: default\n"
        "add:\n"
        "  clocks:\n"
        "    acme.clock.desk_briefing:\n"
        "      section: Acme trading desk rules\n"
        "      text: Brief the trading desk {minutes} minutes into a rollback.\n"
        "      starts_on: [rollback_started]\n"
        "      stops_on: [rollback_completed]\n"
        "      after: {minutes: 3}\n"
        "      on_expiry: {warning: The trading desk is due a briefing.}\n",
        encoding="utf-8",
    )
    session = IncidentSession(T0, RELATED, policy=load_policy(org))
    session.apply({"at": at(1), "type": "rollback_started"})
    session.advance_to(at(4))
    assert [(w.at, w.rule_id, w.text) for w in session.warnings] == [
        (at(4), "acme.clock.desk_briefing", "The trading desk is due a briefing.")
    ]
    org.write_text(
        "extends: default\nclocks:\n  clock.post_mortm: {after: {hours: 24}}\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError, match=r"did you mean 'clock\.post_mortem'\?"):
        load_policy(org)


def test_data_loss_warns_at_once_without_changing_the_decision() -> None:
    session = IncidentSession(T0, RELATED)
    session.apply({"at": at(2), "type": "data_loss", "records": 12})
    session.advance_to(at(2))
    assert [(w.at, w.rule_id) for w in session.warnings] == [(at(2), "clock.data_loss")]
    assert "target: 0% data loss" in session.warnings[0].text
    assert [a for _, a, _ in history(session)] == ["rollback"]
