"""The decision log: appends that survive a crash, a reader that reports a torn tail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rollback_decision.errors import DecisionLogError, RollbackDecisionError
from rollback_decision.records import (
    DecisionLog,
    DecisionRecord,
    Deployed,
    EventRecord,
    Opened,
    PostMortemRecord,
    TornTailWarning,
    read_log,
)
from rollback_decision.timeline import IncidentSession, load_timeline

ROOT = Path(__file__).resolve().parents[1]

# A writer process: appends `deployed` records numbered 0, 1, ... and acknowledges each on
# stdout once `append` has returned (the record is written and fsync-ed).
_WRITER = textwrap.dedent(
    """
    import sys
    from rollback_decision.records import DecisionLog
    path, name = sys.argv[1], sys.argv[2]
    with DecisionLog(path) as log:
        seq = 0
        while True:
            log.append({"type": "deployed", "at": "2026-03-02T14:00:00Z",
                        "deployment": f"{name}-{seq}-" + "x" * 200})
            sys.stdout.write(f"{seq}\\n")
            sys.stdout.flush()
            seq += 1
    """
)


def test_records_acknowledged_by_writers_killed_mid_append_all_survive_whole(
    tmp_path: Path,
) -> None:
    log = tmp_path / "decisions.jsonl"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(log), f"w{i}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if log.exists() and log.read_bytes().count(b"\n") >= 200:
            break
        time.sleep(0.02)
    for writer in writers:
        os.kill(writer.pid, signal.SIGKILL)
    acknowledged: dict[str, set[int]] = {}
    for i, writer in enumerate(writers):
        out, _ = writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        acknowledged[f"w{i}"] = {int(n) for n in out.split()}

    contents = read_log(log)
    found: dict[str, list[int]] = {name: [] for name in acknowledged}
    for line in contents.lines:
        assert isinstance(line.record, Deployed)
        name, seq, pad = line.record.deployment.split("-")
        assert pad == "x" * 200  # no interleaving: every line is one writer's whole record
        found[name].append(int(seq))
    assert sum(len(v) for v in found.values()) >= 200
    for name, seqs in found.items():
        # Each writer's records are there in order, none lost before the last one written;
        # every record a writer saw appended is in the log.
        assert seqs == list(range(len(seqs)))
        assert acknowledged[name] <= set(seqs)
    # A kill cannot tear a line written with one write on Linux; if one were torn it would
    # be reported, at the last line, not read as a record.
    assert all(t.line == contents.lines[-1].line + 1 for t in contents.torn)


def test_a_torn_last_line_is_reported_with_file_and_line_and_earlier_records_are_read(
    tmp_path: Path,
) -> None:
    log = tmp_path / "decisions.jsonl"
    with DecisionLog(log) as writer:
        for n in range(3):
            writer.append(Deployed(at="2026-03-02T14:00:00Z", deployment=f"d{n}"))
    data = log.read_bytes()
    log.write_bytes(data + data.splitlines(keepends=True)[0][:30])  # a power cut mid-write
    contents = read_log(log)
    assert [r.deployment for r in contents.records if isinstance(r, Deployed)] == ["d0", "d1", "d2"]
    assert len(contents.torn) == 1
    torn = contents.torn[0]
    assert (torn.source, torn.line, torn.reason) == (str(log), 4, "no newline at its end")
    assert str(torn) == f"{log}:4: torn last line (no newline at its end); it is not read"


def test_an_invalid_json_last_line_is_a_torn_tail_but_an_earlier_one_is_an_error(
    tmp_path: Path,
) -> None:
    log = tmp_path / "decisions.jsonl"
    good = '{"type": "deployed", "at": "2026-03-02T14:00:00Z", "deployment": "d1"}\n'
    log.write_text(good + '{"type": "depl\n')
    contents = read_log(log)
    assert len(contents.records) == 1
    assert contents.torn[0].line == 2
    assert contents.torn[0].reason.startswith("not valid JSON")

    log.write_text(good + '{"type": "depl\n' + good)
    with pytest.raises(DecisionLogError) as caught:
        read_log(log)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{log}:2: invalid decision log line: not valid JSON")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"type": "deployd", "at": "2026-03-02T14:00:00Z", "deployment": "d"}',
            "field 'type': unknown line type 'deployd' (did you mean 'deployed'?)",
        ),
        (
            '{"type": "deployed", "at": "2026-03-02T14:00:00", "deployment": "d"}',
            "field 'at': ",
        ),
        (
            '{"type": "deployed", "at": 1772460000, "deployment": "d"}',
            "field 'at': ",
        ),
        (
            '{"type": "deployed", "at": "2026-03-02T14:00:00Z", "deploymnt": "d"}',
            "field 'deploymnt': unknown field (did you mean 'deployment'?)",
        ),
        (
            '{"type": "fix_eta", "at": "2026-03-02T14:00:00Z", "minutes": 3}',
            "field 'incident': field required",
        ),
        (
            '{"type": "fix_eta", "incident": "I", "at": "2026-03-02T14:00:00Z", "minute": 3}',
            "field 'minute': unknown field (did you mean 'minutes'?)",
        ),
        (
            '{"type": "post_mortem", "incident": "I", "at": "2026-03-02T14:00:00Z"}',
            "field 'preventable': field required",
        ),
        ("[1, 2]", "a line is a JSON object with 'type', got list"),
    ],
)
def test_a_bad_line_is_an_error_naming_file_line_and_field(
    tmp_path: Path, line: str, message: str
) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text(
        line + "\n" + '{"type": "deployed", "at": "2026-03-02T14:00:00Z", "deployment": "d"}\n'
    )
    with pytest.raises(DecisionLogError) as caught:
        read_log(log)
    assert isinstance(caught.value, (RollbackDecisionError, ValueError))
    assert caught.value.line == 1
    assert f"{log}:1: invalid decision log line: {message}" in str(caught.value)


def test_naive_times_are_refused(tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text(
        '{"type": "opened", "incident": "I", "at": "2026-03-02T14:00:00", "facts": {}}\n'
    )
    with pytest.raises(DecisionLogError, match="naive: give a zone offset"):
        read_log(log)


def test_a_writer_sets_a_torn_tail_aside_before_appending(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    log.write_text('{"type": "deployed", "at": "2026-03-02T14:00:00Z", "deployment": "d1"}\n{"ty')
    with DecisionLog(log) as writer, pytest.warns(TornTailWarning, match=":2: a torn last line"):
        writer.append(Deployed(at="2026-03-02T15:00:00Z", deployment="d2"))
    contents = read_log(log)
    assert contents.torn == ()
    assert [r.deployment for r in contents.records if isinstance(r, Deployed)] == ["d1", "d2"]
    assert (tmp_path / "decisions.jsonl.torn").read_text() == '# decisions.jsonl:2\n{"ty\n'


def test_threads_of_one_process_share_a_writer_without_interleaving(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    with DecisionLog(log, fsync=False) as writer:

        def write(name: str) -> None:
            for n in range(100):
                writer.append(
                    {"type": "deployed", "at": "2026-03-02T14:00:00Z", "deployment": f"{name}-{n}"}
                )

        threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    records = read_log(log).records
    assert len(records) == 400
    for i in range(4):
        mine = [
            r.deployment
            for r in records
            if isinstance(r, Deployed) and r.deployment.startswith(f"t{i}-")
        ]
        assert mine == [f"t{i}-{n}" for n in range(100)]


def test_a_session_attached_to_a_log_records_its_events_and_decision_changes(
    tmp_path: Path,
) -> None:
    timeline = load_timeline(ROOT / "examples/timelines/promised-fix-lapses.yaml")
    log = tmp_path / "decisions.jsonl"
    with DecisionLog(log) as writer:
        session = IncidentSession(timeline.opened_at, timeline.facts, incident_id="INC-2041")
        writer.attach(session, issue="report-totals")
        for event in timeline.events:
            session.apply(event)
    records = read_log(log).records
    kinds = [
        (r.type, r.at.strftime("%H:%M"))
        for r in records
        if isinstance(r, (Opened, DecisionRecord, EventRecord))
    ]
    assert kinds == [
        ("opened", "14:00"),
        ("decision", "14:00"),
        ("facts", "14:03"),
        ("decision", "14:03"),
        ("fix_eta", "14:04"),
        ("decision", "14:04"),
        ("decision_accepted", "14:05"),
        ("decision", "14:14"),  # the promise lapsed (a clock), before the next event
        ("rollback_started", "14:16"),
        ("rollback_completed", "14:20"),
    ]
    decisions = [r for r in records if isinstance(r, DecisionRecord)]
    assert [(d.action.value, d.cause.event, d.cause.clock) for d in decisions] == [
        ("escalate", None, None),
        ("rollback", 0, None),
        ("fix_forward", 1, None),
        ("rollback", None, "clock.fix_forward.promise"),
    ]
    assert decisions[-1].policy == session.decision.policy
    assert decisions[-1].rules == session.decision.rule_ids
    opened = records[0]
    assert isinstance(opened, Opened)
    assert (opened.issue, opened.facts) == ("report-totals", dict(timeline.facts))


def test_a_session_must_be_attached_before_its_first_event(tmp_path: Path) -> None:
    timeline = load_timeline(ROOT / "examples/timelines/promised-fix-lapses.yaml")
    session = IncidentSession(timeline.opened_at, timeline.facts, incident_id="INC-2041")
    session.apply(timeline.events[0])
    with (
        DecisionLog(tmp_path / "l.jsonl") as writer,
        pytest.raises(DecisionLogError, match="before its first event"),
    ):
        writer.attach(session)


def test_records_round_trip_through_their_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    lines: list[dict[str, Any]] = [
        {"type": "deployed", "at": "2026-03-02T14:00:00Z", "deployment": "d1", "incident": "I"},
        {"type": "opened", "incident": "I", "at": "2026-03-02T14:00:00+01:00", "facts": {}},
        {"type": "data_loss", "incident": "I", "at": "2026-03-02T14:01:00Z", "records": 3},
        {
            "type": "post_mortem",
            "incident": "I",
            "at": "2026-03-02T15:00:00Z",
            "preventable": False,
            "action_items": ["add a canary", {"description": "d", "owner": "o"}],
        },
    ]
    with DecisionLog(log) as writer:
        for line in lines:
            writer.append(line)
    assert [json.loads(x) for x in log.read_text().splitlines()] == lines
    assert isinstance(read_log(log).records[3], PostMortemRecord)
