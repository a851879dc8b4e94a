"""Issue 10: bad input never decides.

Every hostile input goes through the real command in a subprocess with an address-space and
CPU limit, and must be refused the same way: exit status 2, ONE line on standard error naming
the file (or ``<stdin>``) and the field or limit, no traceback, no raw control character and
never the whole offending value. The same inputs from Python raise the library's own errors.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rollback_decision import IncidentError, PolicyError, decide, load_policy, parse_incident
from rollback_decision.facts import load_incident
from tests.conftest import EXAMPLES

INCIDENT = str(EXAMPLES / "incidents" / "production-down.yaml")
#: The memory a refusal may take (the interpreter and its imports included) and its CPU time.
ADDRESS_SPACE = 1 << 30
CPU_SECONDS = 10
MiB = 1 << 20


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _limit_without_stdin() -> None:  # pragma: no cover - runs in the child
    _limit()
    os.close(0)


def cli(*args: str, stdin: bytes | None = b"", cwd: Path | None = None) -> tuple[int, str, str]:
    """Run the command; ``stdin=None`` starts it with standard input closed."""
    proc = subprocess.run(
        [sys.executable, "-m", "rollback_decision.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        preexec_fn=_limit if stdin is not None else _limit_without_stdin,
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode("utf-8", "replace")


def assert_refused(result: tuple[int, str, str], *expected: str) -> str:
    code, out, err = result
    assert "Traceback" not in err
    assert code == 2, err
    assert out == ""
    assert err.endswith("\n"), err[:2000]
    assert err.count("\n") == 1, err[:2000]
    assert err.startswith("rollback-decision: ")
    assert len(err) < 2_000, err[:2000]
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in err), err
    for text in expected:
        assert text in err
    return err


def bomb(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


@dataclass
class Case:
    """An incident file's content and what its one-line refusal must contain."""

    content: bytes
    expected: tuple[str, ...]
    name: str = "incident.yaml"
    extra: list[str] = field(default_factory=list)


def case(content: str | bytes, *expected: str, name: str = "incident.yaml") -> Case:
    data = content.encode() if isinstance(content, str) else content
    return Case(data, expected, name)


INCIDENTS: dict[str, Case] = {
    # Empty documents decide nothing.
    "empty": case("", ":", "the incident is empty"),
    "whitespace": case("  \n\n\t\n", "the incident is empty"),
    "comments-only": case("# nothing\n# at all\n", "the incident is empty"),
    "null": case("null\n", "the incident is empty"),
    "json-null": case("null", "the incident is empty", name="incident.json"),
    # Lax coercion is gone.
    "eta-true": case(
        "related_to_deployment: true\nfix_forward_eta_minutes: true\n",
        "incident.yaml:2:",
        "field 'fix_forward_eta_minutes': expected a number of minutes, got true",
    ),
    "eta-numeric-string": case(
        'fix_forward_eta_minutes: "12"\n', "field 'fix_forward_eta_minutes'", "got '12'"
    ),
    "related-no": case(
        'related_to_deployment: "no"\n', "field 'related_to_deployment': expected true or false"
    ),
    "related-plain-no": case("related_to_deployment: no\n", "field 'related_to_deployment'"),
    "related-zero-float": case("related_to_deployment: 0.0\n", "got 0.0"),
    "production-issue-off": case(
        "production_issue: 'off'\nsymptoms: [data_corruption]\n", "field 'production_issue'"
    ),
    "json-bool-as-int": case(
        '{"production_down": 1}', "field 'production_down'", name="incident.json"
    ),
    "enum-not-a-value": case("rollback_risk: HIGH\n", "field 'rollback_risk'"),
    "date-is-not-a-bool": case(
        "production_issue: 2024-01-01\n", "field 'production_issue'", "got '2024-01-01'"
    ),
    # Numbers must be finite and short.
    "yaml-nan": case("fix_forward_eta_minutes: .nan\n", "fix_forward_eta_minutes", "finite"),
    "yaml-inf": case("rollback_eta_minutes: -.inf\n", "rollback_eta_minutes", "finite"),
    "yaml-1e309": case("rollback_eta_minutes: 1e309\n", "rollback_eta_minutes", "finite"),
    "json-nan": case(
        '{"fix_forward_eta_minutes": NaN}', "not valid JSON", "fix_forward_eta_minutes"
    ),
    "json-infinity": case(
        '{"rollback_eta_minutes": Infinity}', "not valid JSON", "rollback_eta_minutes"
    ),
    "json-1e309": case('{"rollback_eta_minutes": 1e309}', "finite", "rollback_eta_minutes"),
    "huge-integer": case("fix_forward_eta_minutes: " + "9" * 5000 + "\n", "5,000 characters"),
    "json-huge-integer": case(
        '{"fix_forward_eta_minutes": ' + "9" * 5000 + "}", "not valid JSON", "5,000 characters"
    ),
    # Not one document of plain YAML.
    "duplicate-keys": case(
        "production_issue: true\nproduction_issue: false\n", ":2:", "duplicate key"
    ),
    "json-duplicate-keys": case(
        '{"production_issue": true, "production_issue": false}',
        "not valid JSON",
        "duplicate key 'production_issue'",
    ),
    "multi-document": case(
        "production_issue: true\n---\nproduction_issue: false\n", "more than one document"
    ),
    "python-tag": case(
        "production_issue: !!python/object/apply:os.system [echo hi]\n",
        "tag:yaml.org,2002:python/object/apply:os.system is not allowed",
    ),
    "local-tag": case("production_issue: !yes true\n", "tag !yes is not allowed"),
    "binary-tag": case("severity: !!binary aGVsbG8=\n", "is not allowed"),
    "complex-key": case("? [a, b]\n: 1\n", "a key must be a plain value"),
    "recursive-alias": case("symptoms: &a [*a]\n", "refers to a value that contains it"),
    "tab-indent": case("change:\n\tcomponents: [network]\n", ":2:", "not valid YAML"),
    "nul-byte": case(b"severity: crit\x00ical\n", "not valid YAML", "#x0000"),
    "bom-utf16": case("\ufeffseverity: critical\n".encode("utf-16"), "UTF-16 byte order mark"),
    "bom-then-nothing": case(b"\xef\xbb\xbf\n", "the incident is empty"),
    "bom-then-bad-field": case(b"\xef\xbb\xbfseverity: hgih\n", "field 'severity'"),
    "not-utf8": case(b"severity: critical\nsymptoms: [\xff\xfe]\n", ":2:", "not UTF-8"),
    "invalid-json": case(
        '{"production_issue": tru}', "incident.json:1:", "not valid JSON", name="incident.json"
    ),
    "invalid-json-by-content": case('{"production_issue": tru', "not valid JSON"),
    "top-level-list": case("[1, 2, 3]\n", "expected a mapping of incident fields"),
    "top-level-text": case("hello\n", "expected a mapping of incident fields, got text"),
    # Values and keys are shown as short excerpts, escaped.
    "long-value": case("severity: " + "x" * 500_000 + "\n", "field 'severity'", "more characters"),
    "long-key": case("? " + "k" * 200_000 + "\n: 1\n", "unknown field", "more characters"),
    "json-long-key": case('{"' + "k" * 200_000 + '": 1}', "unknown field", "more characters"),
    "control-characters": case(
        '"\\e[31mred\\e[0m": 1\nseverity: "\\e]0;pwned\\a"\n', "unknown field", "\\x1b[31mred"
    ),
    # Limits.
    "alias-bomb-9": case(bomb(9), "max_nodes"),
    "alias-bomb-7": case(bomb(7), "max_nodes"),
    "many-aliases": case("a: &a x\nb: [" + ", ".join(["*a"] * 1500) + "]\n", "max_aliases"),
    "deep-flow": case("a: " + "[" * 1000 + "]" * 1000 + "\n", "max_depth"),
    "deep-block": case(
        "".join(f"{' ' * i}k{i}:\n" for i in range(700)) + " " * 700 + "x: 1\n", "max_depth"
    ),
    "deep-json": case("[" * 100_000 + "]" * 100_000, "max_depth", name="incident.json"),
    "deep-json-shallow-enough-for-python": case(
        '{"a":' * 900 + "1" + "}" * 900, "max_depth", name="incident.json"
    ),
    "wide-list": case("symptoms:\n" + "- data_corruption\n" * 50_000, "max_nodes"),
    "json-wide-list": case('{"symptoms": [' + "1," * 300_000 + "1]}", "max_nodes"),
    "too-large": case("# " + "x" * (2 * MiB) + "\n", "input size limit of 1 MiB"),
    "large-comments-under-limit": case(("#" + "c" * 99 + "\n") * 10_000, "empty"),
}


@pytest.mark.parametrize("name", list(INCIDENTS))
def test_hostile_incident_file_is_refused_on_one_line(tmp_path: Path, name: str) -> None:
    spec = INCIDENTS[name]
    path = tmp_path / spec.name
    path.write_bytes(spec.content)
    err = assert_refused(cli("decide", str(path)), str(path), *spec.expected)
    assert "invalid incident" in err


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (b"", "the incident is empty"),
        (b"\x00\x01\x02\xff\xfe binary \x1b[2J", "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        (b"\x00\x01\x02 binary", "not valid YAML"),
        (b'{"production_issue": "off"}', "field 'production_issue'"),
        (b"# " + b"x" * (3 * MiB), "input size limit"),
    ],
    ids=["empty", "binary", "png", "control-bytes", "json-lax-bool", "oversized"],
)
def test_hostile_standard_input_is_refused_on_one_line(stdin: bytes, expected: str) -> None:
    assert_refused(cli("decide", "-", stdin=stdin), "<stdin>", expected)


def test_closed_standard_input_is_refused() -> None:
    assert_refused(cli("decide", "-", stdin=None), "<stdin>", "standard input: it is closed")


def test_no_command_prints_the_help_and_one_line() -> None:
    code, out, err = cli()
    assert code == 2
    assert "Commands:" in out
    assert err == "rollback-decision: name a command (see --help)\n"


def test_size_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("related_to_deployment: true\n" + "# padding\n" * 20, encoding="utf-8")
    assert_refused(
        cli("decide", str(path), "--max-input-bytes", "64"), "input size limit of 64 bytes"
    )
    code, out, _ = cli("decide", str(path), "--max-input-bytes", "4096", "--format", "json")
    assert code == 0
    assert json.loads(out)["action"] == "rollback"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_as_incident_is_refused() -> None:
    assert_refused(cli("decide", "/dev/zero"), "/dev/zero", "input size limit")


def test_fifo_without_writer_as_incident_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "incident.yaml"
    os.mkfifo(fifo)
    assert_refused(cli("decide", str(fifo)), "the incident is empty")


def test_folder_as_incident_is_refused(tmp_path: Path) -> None:
    assert_refused(cli("decide", str(tmp_path)), "is a folder, not a file")


def test_empty_mapping_is_still_an_incident(tmp_path: Path) -> None:
    path = tmp_path / "incident.yaml"
    path.write_text("{}\n", encoding="utf-8")
    code, out, err = cli("decide", str(path), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["action"] == "escalate"


# -- policies ------------------------------------------------------------------------------------


def org(folder: Path, text: str, name: str = "org.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


POLICIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "negative-approvers": (
        "extends: default\nparameters: {critical_min_approvers: -3}\n",
        ("org.yaml:2:", "parameters.critical_min_approvers", "must be at least 0", "got -3"),
    ),
    "nan-window": (
        "extends: default\nparameters: {fix_forward_window_minutes: .nan}\n",
        ("org.yaml:2:", "fix_forward_window_minutes", "not a finite number"),
    ),
    "negative-window": (
        "extends: default\nparameters: {fix_forward_window_minutes: -1}\n",
        ("fix_forward_window_minutes", "must be at least 0"),
    ),
    "percent-over-100": (
        "extends: default\nparameters: {target_rollback_success_percent: 150}\n",
        ("target_rollback_success_percent", "must be at most 100"),
    ),
    "huge-integer": (
        "extends: default\nparameters: {critical_min_approvers: " + "7" * 4400 + "}\n",
        ("critical_min_approvers", "4,400 characters"),
    ),
    "extends-absolute": (
        "extends: /etc\n",
        ("key 'extends'", "outside the folder of this file"),
    ),
    "extends-parent": (
        "extends: ../rules\n",
        ("key 'extends'", "outside the folder of this file"),
    ),
    "deep-nesting": (
        "extends: default\nrules:\n  add: " + "[" * 600 + "]" * 600 + "\n",
        ("org.yaml:3:", "max_depth"),
    ),
    "alias-bomb": ("extends: default\n" + bomb(9), ("max_nodes",)),
    "tabs": ("extends: default\nparameters:\n\tcritical_min_approvers: 3\n", ("org.yaml:3:",)),
    "duplicate-keys": ("extends: default\nextends: default\n", ("org.yaml:2:", "duplicate key")),
    "multi-document": ("extends: default\n---\nextends: default\n", ("more than one document",)),
    "custom-tag": ("extends: !!python/name:os.system default\n", ("is not allowed",)),
    "long-key": (
        '{"extends": "default", "' + "k" * 100_000 + '": 1}',
        ("unknown key", "more characters"),
    ),
    "long-value": (
        "extends: default\npolicy: {name: x, version: [" + "1, " * 5_000 + "1]}\n",
        ("policy.version", "a list of 5,001 items"),
    ),
    "empty": ("", ("an organisation policy is a mapping",)),
    # A list parameter where a number parameter is referenced: the checks may miss it, the
    # refusal may not.
    "param-of-wrong-type": (
        "extends: default\nauthorities: {uncertain: {notify: {param: critical_min_approvers}}}\n",
        ("org.yaml",),
    ),
    "bom-utf16": ("", ("UTF-16",)),  # content replaced below
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_hostile_policy_file_is_refused_on_one_line(tmp_path: Path, name: str) -> None:
    text, expected = POLICIES[name]
    (tmp_path / "sub").mkdir()
    path = org(tmp_path / "sub", text)
    if name == "bom-utf16":
        path.write_bytes("extends: default\n".encode("utf-16"))
    assert_refused(cli("decide", INCIDENT, "--policy", str(path)), *expected)


@pytest.mark.parametrize("command", ["decide", "verify", "diff"])
def test_every_command_refuses_a_bad_policy_on_one_line(tmp_path: Path, command: str) -> None:
    path = org(tmp_path, "extends: default\nparameters: {critical_min_approvers: -3}\n")
    args = {
        "decide": ["decide", INCIDENT, "--policy", str(path)],
        "verify": ["verify", str(path)],
        "diff": ["diff", "rules", str(path)],
    }[command]
    repo = Path(__file__).resolve().parents[1]
    assert_refused(cli(*args, cwd=repo), "must be at least 0")


def test_schema_usage_error_is_one_line() -> None:
    assert_refused(cli("schema", "extra"), "unexpected extra argument", "(see --help)")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_as_policy_is_refused() -> None:
    assert_refused(
        cli("decide", INCIDENT, "--policy", "/dev/zero"), "/dev/zero", "not a regular file"
    )


def test_fifo_as_policy_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "org.yaml"
    os.mkfifo(fifo)
    assert_refused(cli("decide", INCIDENT, "--policy", str(fifo)), "not a regular file")


def test_fifo_in_a_rules_folder_is_refused(tmp_path: Path, rules_copy: Path) -> None:
    os.mkfifo(rules_copy / "extra.yaml")
    assert_refused(cli("verify", str(rules_copy)), "extra.yaml", "not a regular file")


def test_oversized_policy_file_is_refused(tmp_path: Path) -> None:
    path = org(tmp_path, "extends: default\n" + "# pad\n" * 300_000)
    assert_refused(cli("decide", INCIDENT, "--policy", str(path)), "input size limit of 1 MiB")


def test_extends_symlink_loop(tmp_path: Path) -> None:
    os.symlink(tmp_path / "a.yaml", tmp_path / "b.yaml")
    os.symlink(tmp_path / "b.yaml", tmp_path / "a.yaml")
    path = org(tmp_path, "extends: a.yaml\n")
    assert_refused(cli("decide", INCIDENT, "--policy", str(path)), "key 'extends'", "symlink loop")


def test_policy_symlink_loop(tmp_path: Path) -> None:
    os.symlink(tmp_path / "a.yaml", tmp_path / "b.yaml")
    os.symlink(tmp_path / "b.yaml", tmp_path / "a.yaml")
    assert_refused(cli("decide", INCIDENT, "--policy", str(tmp_path / "a.yaml")))


def test_extends_chain_of_1000_files(tmp_path: Path) -> None:
    for i in range(1000):
        org(tmp_path, f"extends: p{i + 1}.yaml\n", name=f"p{i}.yaml")
    org(tmp_path, "extends: default\n", name="p1000.yaml")
    assert_refused(
        cli("decide", INCIDENT, "--policy", str(tmp_path / "p0.yaml")),
        "key 'extends'",
        "more than 16 files",
    )


SECRET = "hunter2-correct-horse-battery"


@pytest.mark.parametrize(
    "content",
    [
        f"password: {SECRET}\napi_token: {SECRET}\n",
        f"root:$6${SECRET}$abc:19000:0:99999:7:::\n",
        f"[default]\naws_secret_access_key = {SECRET}\n",
        f'{{"client_secret": "{SECRET}", "extends": 12345}}',
        f"root:$6${SECRET}$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    ],
    ids=["credentials", "shadow-line", "ini", "json-with-extends", "shadow-file"],
)
def test_extends_into_a_file_that_is_not_a_policy_never_prints_its_values(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "secrets.conf").write_text(content, encoding="utf-8")
    path = org(tmp_path, "extends: secrets.conf\n")
    err = assert_refused(cli("decide", INCIDENT, "--policy", str(path)), "secrets.conf")
    assert SECRET not in err


def test_extends_outside_the_folder_when_allowed(tmp_path: Path, rules_copy: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = org(tmp_path / "sub", "extends: ../rules\n")
    code, out, err = cli(
        "decide", INCIDENT, "--policy", str(path), "--allow-extends-outside", "--format", "json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["action"] == "immediate_rollback"


def test_control_characters_in_policy_texts_are_escaped(tmp_path: Path) -> None:
    path = org(
        tmp_path,
        'extends: default\npolicy: {name: "acme\\e[2J\\u202e", version: "1\\a"}\n',
        name="org\x1b[31m.yaml",
    )
    code, out, err = cli("decide", INCIDENT, "--policy", str(path))
    assert (code, err) == (0, "")
    assert not {"\x1b", "\u202e", "\a"} & set(out)
    assert "Policy: acme\\x1b[2J\\u202e 1\\x07 (" in out
    code, out, _ = cli("decide", INCIDENT, "--policy", str(path), "--format", "json")
    assert code == 0
    assert "\u202e" not in out
    assert json.loads(out)["policy"]["name"] == "acme\x1b[2J\u202e"
    assert_refused(cli("decide", INCIDENT, "--policy", str(tmp_path / "gone\x1b.yaml")), "\\x1b")


# -- the same inputs from Python -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["alias-bomb-9", "deep-flow", "deep-json", "huge-integer", "json-nan", "python-tag", "empty"],
)
def test_load_incident_raises_incident_error(tmp_path: Path, name: str) -> None:
    spec = INCIDENTS[name]
    path = tmp_path / spec.name
    path.write_bytes(spec.content)
    with pytest.raises(IncidentError):
        load_incident(str(path))


@pytest.mark.parametrize(
    "data",
    [
        {"fix_forward_eta_minutes": True},
        {"fix_forward_eta_minutes": "12"},
        {"related_to_deployment": "no"},
        {"related_to_deployment": 0.0},
        {"production_issue": "off", "symptoms": ["data_corruption"]},
        {"symptoms": [b"data_corruption"]},
        {"change": {"components": ["network", 1]}},
        {"rollback_eta_minutes": float("nan")},
        {"rollback_eta_minutes": 10**5000},
        {"severity": "x" * 5_000_000},
    ],
    ids=lambda data: next(iter(data)),
)
def test_decide_refuses_lax_values_from_python(data: dict[str, Any]) -> None:
    with pytest.raises(IncidentError) as info:
        decide(data)
    assert len(str(info.value)) < 1_000


def test_enum_values_still_arrive_as_strings() -> None:
    incident = parse_incident(
        {"symptoms": ["data_corruption"], "change": {"data_scenario": "incompatible_schema"}}
    )
    assert incident.symptoms[0].value == "data_corruption"
    assert parse_incident({"fix_forward_eta_minutes": 5}).fix_forward_eta_minutes == 5.0


def _deep_policy(folder: Path) -> Path:
    return org(folder, "extends: default\nrules: {add: " + "[" * 5000 + "]" * 5000 + "}\n")


def _chain(folder: Path) -> Path:
    for i in range(1000):
        org(folder, f"extends: p{i + 1}.yaml\n", name=f"p{i}.yaml")
    return folder / "p0.yaml"


def _loop(folder: Path) -> Path:
    os.symlink(folder / "a.yaml", folder / "b.yaml")
    os.symlink(folder / "b.yaml", folder / "a.yaml")
    return org(folder, "extends: a.yaml\n")


@pytest.mark.parametrize(
    "make",
    [
        _deep_policy,
        _chain,
        _loop,
        lambda folder: org(folder, "extends: default\n" + bomb(9)),
        lambda folder: org(folder, "extends: default\nparameters: {critical_min_approvers: -3}\n"),
        lambda folder: org(folder, "extends: /\n"),
    ],
    ids=["deep", "chain", "symlink-loop", "alias-bomb", "bounds", "outside"],
)
def test_load_policy_raises_policy_error(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(make(tmp_path))
    assert all(len(str(problem)) < 1_000 for problem in info.value.problems)


def test_rule_file_default_out_of_bounds(rules_copy: Path) -> None:
    path = rules_copy / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    default: 2\n", "    default: -2\n", 1), encoding="utf-8")
    with pytest.raises(PolicyError, match="default must be at least 0, got -2"):
        load_policy(rules_copy)


def test_unbounded_negative_approvers_in_a_rules_folder(rules_copy: Path) -> None:
    """A rules folder that declares no bounds still gets a PolicyError, not a traceback."""
    path = rules_copy / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    min: 0\n    default: 2\n", "    default: -3\n", 1), encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="greater than or equal to 0, got -3"):
        load_policy(rules_copy)
    assert_refused(cli("decide", INCIDENT, "--policy", str(rules_copy)), "min_approvers")
