"""The bounded reader (``policy/yamlio.py``) still reads every valid document as before, and
policy files are read once, by content."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rollback_decision import Action, IncidentError, decide, load_policy
from rollback_decision.errors import escape, excerpt
from rollback_decision.facts import load_incident
from rollback_decision.policy import SourceCache
from rollback_decision.policy.loader import shipped_rules_dir
from rollback_decision.policy.yamlio import (
    Limits,
    YamlMap,
    YamlReadError,
    line_of,
    parse_text,
    to_plain,
)


def test_scalars_of_the_core_schema() -> None:
    data = parse_text(
        "a: 1\nb: 1.5\nc: true\nd: null\ne: 0x1f\nf: 0o17\ng: 1_000\nh: 2024-01-01\n"
        "i: no\nj: '12'\nk: !!str 12\nl: !!int '7'\nm: 012\n"
    )
    assert to_plain(data) == {
        "a": 1,
        "b": 1.5,
        "c": True,
        "d": None,
        "e": 31,
        "f": 15,
        "g": 1000,
        "h": "2024-01-01",  # a timestamp stays the text it was written as
        "i": "no",  # YAML 1.2: a string, as ruamel read it before
        "j": "12",
        "k": "12",
        "l": 7,
        "m": 12,
    }


def test_yaml_1_1_directive_is_honoured() -> None:
    assert to_plain(parse_text("%YAML 1.1\n---\na: no\nb: 012\n")) == {"a": False, "b": 10}


def test_anchors_aliases_and_merge_keys_within_the_limits() -> None:
    data = parse_text(
        "base: &b {x: 1, y: 2}\nlist: &l [a, b]\nuse:\n  <<: *b\n  y: 3\n  items: *l\n"
    )
    assert to_plain(data)["use"] == {"x": 1, "y": 3, "items": ["a", "b"]}


def test_lines_of_keys_and_items() -> None:
    data = parse_text("a:\n  b:\n    - x\n    - y\nc: 1\n")
    assert isinstance(data, YamlMap)
    assert line_of(data, ("a", "b", 1)) == 4
    assert line_of(data, ("c",)) == 5
    assert line_of(data, ("a", "missing")) == 1


def test_yaml_flow_style_that_is_not_json_still_reads() -> None:
    assert to_plain(parse_text("{related_to_deployment: true, symptoms: [a]}")) == {
        "related_to_deployment": True,
        "symptoms": ["a"],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [" * 5 + "]" * 5, "nested deeper than the limit of 4 levels (max_depth)"),
        ("a: &x [1, 2]\nb: [*x, *x, *x, *x]\n", "more than the limit of 3 aliases (max_aliases)"),
        ("[" + "1, " * 50 + "1]", "more than the limit of 40 values"),
    ],
)
def test_limits_are_named(text: str, message: str) -> None:
    limits = Limits(max_bytes=1000, max_depth=4, max_nodes=40, max_aliases=3)
    with pytest.raises(YamlReadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_text(text, limits=limits)


def test_errors_name_the_key_of_a_bad_value() -> None:
    with pytest.raises(YamlReadError) as info:
        parse_text("a:\n  b: [1, .nan]\n")
    assert (info.value.line, info.value.key) == (2, "a.b.1")


def test_escape_and_excerpt() -> None:
    assert escape("red\x1b[31m\n", 80) == "red\\x1b[31m\\x0a"
    assert escape("x" * 10, 4) == "xxxx… (6 more characters)"
    assert excerpt(b"hello") == "5 bytes"
    assert excerpt(True) == "true"
    assert excerpt(["a", 1]) == "['a', 1]"
    assert excerpt(list(range(100))) == "a list of 100 items"


def test_incident_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("related_to_deployment: true\nchange:\n  components: [netwrk]\n")
    with pytest.raises(IncidentError) as info:
        load_incident(str(path))
    assert info.value.line == 3
    assert info.value.field == "change.components.0"


# -- policy files are read once, by content ----------------------------------------------------


def _same_stat_edit(path: Path, old: str, new: str) -> None:
    """Edit ``path`` keeping its size and modification time (what ``cp -p`` can do)."""
    assert len(old) == len(new)
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size


QUICK_FIX = {
    "related_to_deployment": True,
    "severity": "non_critical",
    "fix_forward_eta_minutes": 10,
}


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cache"])
def test_an_edit_keeping_size_and_mtime_is_seen(tmp_path: Path, cached: bool) -> None:
    """Issue 10: base rule files remembered by size and mtime ignored such an edit."""
    rules = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), rules)
    org = tmp_path / "org.yaml"
    org.write_text("extends: rules\n", encoding="utf-8")
    cache = SourceCache() if cached else None
    before = load_policy(org, cache=cache)
    assert decide(QUICK_FIX, policy=before).action is Action.FIX_FORWARD
    _same_stat_edit(rules / "parameters.yaml", "default: 15\n", "default: 05\n")
    after = load_policy(org, cache=cache)
    assert after.identity.content_hash != before.identity.content_hash
    assert decide(QUICK_FIX, policy=after).action is Action.ROLLBACK


def test_cache_reuses_files_with_the_same_bytes(tmp_path: Path) -> None:
    cache = SourceCache(size=100)
    org = tmp_path / "org.yaml"
    org.write_text("extends: default\n", encoding="utf-8")
    first = load_policy(org, cache=cache)
    files = len(cache)
    assert files == len(list(shipped_rules_dir().glob("*.yaml")))
    assert load_policy(org, cache=cache).identity == first.identity
    assert len(cache) == files
    cache.clear()
    assert len(cache) == 0


def test_hash_and_rules_come_from_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file is opened once: a file replaced after its first read cannot lend the Policy
    its rules while the hash names the old bytes."""
    rules = tmp_path / "rules"
    shutil.copytree(shipped_rules_dir(), rules)
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str | os.PathLike[str], *args: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", counting_open)
    load_policy(rules)
    yaml_files = [p for p in opened if p.endswith(".yaml")]
    assert sorted(yaml_files) == sorted(set(yaml_files))
    assert len(yaml_files) == len(list(rules.glob("*.yaml")))
