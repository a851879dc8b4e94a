"""The decision log's reader over a log cut anywhere (what a crash or a power cut leaves).

"A reader detects a torn or invalid last line and reports it (file, line number) instead of
dropping it silently": a log cut at any byte reads as exactly the records whose lines ended
before the cut, plus a torn tail at the next line when the cut falls inside a line.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rollback_decision.records import read_log, record_to_dict
from tests.decision_log_example import EXAMPLE
from tests.property.settings import SETTINGS

DATA = EXAMPLE.read_bytes()
WHOLE = [record_to_dict(r) for r in read_log(EXAMPLE).records]
ENDS = [i + 1 for i, byte in enumerate(DATA) if byte == ord("\n")]


@SETTINGS
@given(st.integers(min_value=0, max_value=len(DATA)))
def test_a_log_cut_anywhere_reads_every_whole_line_and_reports_the_torn_one(cut: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cut.jsonl"
        path.write_bytes(DATA[:cut])
        contents = read_log(path)
    whole_lines = sum(1 for end in ENDS if end <= cut)
    assert [record_to_dict(r) for r in contents.records] == WHOLE[:whole_lines]
    if cut in (0, *ENDS):
        assert contents.torn == ()
    else:
        assert [(t.line, t.reason) for t in contents.torn] == [
            (whole_lines + 1, "no newline at its end")
        ]
