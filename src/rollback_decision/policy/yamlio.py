"""Bounded, safe reading of YAML and JSON documents that remembers where each value came from.

Everything the library reads from outside (incident files, standard input, rule files,
organisation policy files) goes through here, so every input gets the same limits, checked
before the expensive work and named in the error:

- size: at most :attr:`Limits.max_bytes` bytes are ever read (the rest is not read at all);
- nesting: at most :attr:`Limits.max_depth` levels, counted while parsing (never by recursion);
- aliases: at most :attr:`Limits.max_aliases` of them, and at most :attr:`Limits.max_nodes`
  values in the document once every alias is expanded (a YAML "billion laughs" is refused
  after reading a few lines, before anything is built).

YAML is read as a stream of parser events (ruamel.yaml's parser) and composed here into
plain containers: :class:`YamlMap` and :class:`YamlSeq` (a ``dict`` and a ``list`` that
also know the line of each key and item). Only the YAML core schema is built:
null, booleans, integers, finite floats, strings (a timestamp stays the text it was written
as), mappings and sequences; any other tag (``!!python/...``, ``!!binary``, a local ``!tag``)
is refused. Duplicate keys, keys that are not plain values, several documents in one stream,
non-finite numbers (``.nan``, ``.inf``, ``1e309``) and numbers of more than
:data:`MAX_NUMBER_LENGTH` characters are refused with their line.

JSON (a ``.json`` file, or text that starts with ``{`` or ``[`` and parses as JSON) is read
by the json module with the same limits; its errors are worded as JSON errors.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from rollback_decision.errors import escape

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_NUMBER_LENGTH",
    "Limits",
    "YamlMap",
    "YamlReadError",
    "YamlSeq",
    "line_of",
    "parse_text",
    "read_bytes",
    "read_document",
    "read_stdin",
    "to_plain",
]

#: Longest number (in characters, as written) that is read; longer ones are refused.
MAX_NUMBER_LENGTH = 100


@dataclass(frozen=True)
class Limits:
    """How much of an input is read and built before it is refused."""

    #: Bytes of one file or of standard input.
    max_bytes: int = 1 << 20
    #: Levels of nested mappings and lists.
    max_depth: int = 64
    #: Values (mappings, lists, scalars) in one document, every alias expanded.
    max_nodes: int = 10_000
    #: Aliases (``*name``) in one document.
    max_aliases: int = 1_000

    def with_max_bytes(self, max_bytes: int | None) -> Limits:
        if max_bytes is None:
            return self
        return Limits(max_bytes, self.max_depth, self.max_nodes, self.max_aliases)


DEFAULT_LIMITS = Limits()


class YamlReadError(Exception):
    """The input cannot be read as a document; ``line`` is 1-based where it is known.

    ``message`` is already safe to print: values are short excerpts with control characters
    escaped.
    """

    def __init__(self, message: str, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        #: Dotted path of the value in the document (``change.components.0``), where known.
        self.key = key


def _dotted(path: Sequence[Any]) -> str | None:
    return ".".join(str(part) for part in path) or None


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n:,} bytes"


def _too_large(limits: Limits) -> YamlReadError:
    return YamlReadError(
        f"larger than the input size limit of {_size(limits.max_bytes)} (max_bytes)"
    )


# -- reading bytes -------------------------------------------------------------------------------


def read_bytes(path: Path, limits: Limits = DEFAULT_LIMITS, *, regular_only: bool = True) -> bytes:
    """The bytes of ``path``, never more than ``limits.max_bytes`` read.

    ``regular_only`` refuses anything but a regular file (a FIFO, a device such as
    ``/dev/zero``, a folder); without it a pipe or a device is read up to the limit, and a
    FIFO with no writer reads as empty instead of blocking.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise YamlReadError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise YamlReadError("is a folder, not a file")
        if regular_only and not stat.S_ISREG(info.st_mode):
            raise YamlReadError("not a regular file (only regular files are read)")
        if stat.S_ISREG(info.st_mode) and info.st_size > limits.max_bytes:
            raise _too_large(limits)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as stream:
            fd = -1
            return _read_capped(stream, limits)
    except OSError as exc:
        raise YamlReadError(f"cannot read file: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def read_stdin(limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Standard input as bytes, never more than ``limits.max_bytes`` read."""
    if sys.stdin is None:  # closed when the process started (``<&-``)
        raise YamlReadError("cannot read standard input: it is closed")
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text stream (tests, notebooks)
        text = sys.stdin.read(limits.max_bytes + 1)
        data = text.encode("utf-8", "surrogateescape")
        if len(data) > limits.max_bytes:
            raise _too_large(limits)
        return data
    try:
        return _read_capped(stream, limits)
    except OSError as exc:
        raise YamlReadError(f"cannot read standard input: {exc.strerror or exc}") from None


def _read_capped(stream: BinaryIO, limits: Limits) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total <= limits.max_bytes:
        chunk = stream.read(min(1 << 16, limits.max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limits.max_bytes:
        raise _too_large(limits)
    return b"".join(chunks)


def decode(data: bytes) -> str:
    """UTF-8 text (a leading byte order mark is dropped); anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlReadError("not UTF-8 text: it starts with a UTF-16 byte order mark", 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise YamlReadError(
            f"not UTF-8 text: byte 0x{bad} at offset {exc.start} cannot be decoded", line
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_document(data: bytes, *, limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> Any:
    """Decode and parse ``data`` (YAML or JSON); None for an empty document."""
    if len(data) > limits.max_bytes:
        raise _too_large(limits)
    return parse_text(decode(data), limits=limits, name=name)


# -- parsing -------------------------------------------------------------------------------------


class YamlMap(dict[Any, Any]):
    """A mapping read from a document, with the 1-based line of itself and of each key."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class YamlSeq(list[Any]):
    """A list read from a document, with the 1-based line of itself and of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def parse_text(text: str, *, limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> Any:
    """Parse one YAML or JSON document; None when there is none (empty, comments, ``null``)."""
    if len(text) > limits.max_bytes:
        raise _too_large(limits)
    if not text.strip():
        return None
    if name is not None and name.lower().endswith(".json"):
        return _parse_json(text, limits)  # a file that says it is JSON is read as JSON only
    if text.lstrip(" \t\r\n").startswith(("{", "[")):
        try:
            return _parse_json(text, limits)
        except _JsonSyntaxError as json_error:
            # Not JSON after all; YAML flow style (``{a: 1}``) was always accepted here too.
            # When neither reads it, the JSON error is the one that makes sense to whoever
            # wrote it.
            try:
                return _parse_yaml(text, limits)
            except YamlReadError:
                raise json_error from None
    return _parse_yaml(text, limits)


# -- JSON ----------------------------------------------------------------------------------------


class _JsonSyntaxError(YamlReadError):
    """Text that starts like JSON and is not JSON."""


class _Refused:
    """A JSON value refused where it was read; reported with its path by :func:`_check_tree`."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _json_number(text: str, convert: Callable[[str], Any]) -> Any:
    if len(text) > MAX_NUMBER_LENGTH:
        return _Refused(
            f"a number of {len(text):,} characters (at most {MAX_NUMBER_LENGTH} are read)"
        )
    value = convert(text)
    if isinstance(value, float) and not math.isfinite(value):
        return _Refused(f"{escape(text, 40)} is not a finite number")
    return value


def _json_constant(text: str) -> Any:
    return _Refused(f"{text} is not a number JSON allows")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise YamlReadError(f"not valid JSON: duplicate key {escape(repr(key), 80)}")
        out[key] = value
    return out


def _parse_json(text: str, limits: Limits) -> Any:
    try:
        data = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_int=lambda s: _json_number(s, int),
            parse_float=lambda s: _json_number(s, float),
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        message = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise _JsonSyntaxError(message, exc.lineno) from None
    except RecursionError:
        raise YamlReadError(
            f"nested deeper than the limit of {limits.max_depth} levels (max_depth)"
        ) from None
    _check_tree(data, limits)
    return data


def _check_tree(data: Any, limits: Limits) -> None:
    """Depth, size and refused values of a JSON tree, walked without recursion."""
    count = 0
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise YamlReadError(f"more than the limit of {limits.max_nodes:,} values (max_nodes)")
        if isinstance(node, _Refused):
            raise YamlReadError(f"not valid JSON: {node.message}", None, _dotted(path))
        if isinstance(node, (dict, list)):
            if len(path) >= limits.max_depth:
                raise YamlReadError(
                    f"nested deeper than the limit of {limits.max_depth} levels (max_depth)"
                )
            if count + len(stack) + len(node) > limits.max_nodes:
                raise YamlReadError(
                    f"more than the limit of {limits.max_nodes:,} values (max_nodes)"
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((child, (*path, key)) for key, child in reversed(list(items)))


# -- YAML ----------------------------------------------------------------------------------------

_CORE = "tag:yaml.org,2002:"
_NODE_EVENTS = (
    ScalarEvent,
    AliasEvent,
    MappingStartEvent,
    MappingEndEvent,
    SequenceStartEvent,
    SequenceEndEvent,
)
_RESOLVERS: dict[Any, VersionedResolver] = {}


def _resolver(version: Any) -> VersionedResolver:
    key = tuple(version) if version else None
    if key not in _RESOLVERS:
        _RESOLVERS[key] = VersionedResolver(version=key) if key else VersionedResolver()
    return _RESOLVERS[key]


def _events(text: str) -> Iterator[Event]:
    # The pure-Python parser, always: the C one (libyaml) reads some plain scalars in flow
    # collections differently (``{text: Assess the severity (within SLA?)}``), so which
    # policies are valid would depend on what else is installed. Its cost is bounded by the
    # limits: the stream is consumed event by event and refused at the first one too many.
    yield from YAML(typ="safe", pure=True).parse(text)


def _line(event: Event) -> int | None:
    mark = getattr(event, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_error(exc: YAMLError, text: str) -> YamlReadError:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        return YamlReadError(f"not valid YAML: {escape(str(problem), 200)}", line)
    position = getattr(exc, "position", None)
    line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
    first = str(exc).split("\n", 1)[0]
    return YamlReadError(f"not valid YAML: {escape(first, 200)}", line)


@dataclass
class _Open:
    """A mapping or list being built."""

    value: YamlMap | YamlSeq
    anchor: str | None
    count_at_start: int
    key: Any = None
    have_key: bool = False
    key_line: int | None = None
    merges: list[tuple[Any, int | None]] | None = None


class _Composer:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.count = 0
        self.aliases = 0
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.resolver = _resolver(None)
        self.legacy = False
        self.stack: list[_Open] = []

    def compose(self) -> Any:
        events = _events(self.text)
        document: Any = None
        documents = 0
        try:
            for event in events:
                if isinstance(event, DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        raise YamlReadError(
                            "more than one document in the stream (a '---' separates them)",
                            _line(event),
                        )
                    version = getattr(event, "version", None)
                    self.resolver = _resolver(version)
                    self.legacy = version is not None and tuple(version) < (1, 2)
                elif isinstance(event, StreamEndEvent):
                    break
                elif isinstance(event, _NODE_EVENTS):
                    try:
                        done, value = self.feed(event)
                    except YamlReadError as exc:
                        if exc.key is None:
                            exc.key = _dotted(self._path()[:16])
                        raise
                    if done:
                        document = value
        except YAMLError as exc:
            raise _yaml_error(exc, self.text) from None
        except RecursionError:  # pragma: no cover - the depth limit comes first
            raise YamlReadError(
                f"nested deeper than the limit of {self.limits.max_depth} levels (max_depth)"
            ) from None
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
        return document

    def _path(self) -> list[Any]:
        """Where the next value goes: the keys and indexes of the open containers."""
        path: list[Any] = []
        for open_ in self.stack:
            if isinstance(open_.value, YamlSeq):
                path.append(len(open_.value))
            elif open_.have_key:
                path.append(open_.key)
        return path

    def _grow(self, by: int, line: int | None) -> None:
        self.count += by
        if self.count > self.limits.max_nodes:
            raise YamlReadError(
                f"more than the limit of {self.limits.max_nodes:,} values once aliases are "
                "expanded (max_nodes)",
                line,
            )

    def feed(self, event: Event) -> tuple[bool, Any]:
        """Take one event; (True, document) once the top-level value is complete."""
        line = _line(event)
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            self._check_tag(
                event.tag, "map" if isinstance(event, MappingStartEvent) else "seq", line
            )
            if len(self.stack) >= self.limits.max_depth:
                raise YamlReadError(
                    f"nested deeper than the limit of {self.limits.max_depth} levels (max_depth)",
                    line,
                )
            self._grow(1, line)
            container: YamlMap | YamlSeq = (
                YamlMap(line) if isinstance(event, MappingStartEvent) else YamlSeq(line)
            )
            self.stack.append(_Open(container, event.anchor, self.count))
            return False, None
        if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            done = self.stack.pop()
            if isinstance(done.value, YamlMap) and done.merges:
                self._merge(done.value, done.merges)
            if done.anchor is not None:
                self.anchors[done.anchor] = (done.value, self.count - done.count_at_start + 1)
            return self._place(done.value, line)
        if isinstance(event, AliasEvent):
            anchor = event.anchor
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise YamlReadError(
                    f"more than the limit of {self.limits.max_aliases:,} aliases (max_aliases)",
                    line,
                )
            if anchor not in self.anchors:
                if any(o.anchor == anchor for o in self.stack):
                    raise YamlReadError(
                        f"alias {escape(repr(anchor), 60)} refers to a value that contains it",
                        line,
                    )
                raise YamlReadError(
                    f"not valid YAML: unknown alias {escape(repr(anchor), 60)}", line
                )
            value, size = self.anchors[anchor]
            self._grow(size, line)
            return self._place(value, line)
        assert isinstance(event, ScalarEvent)
        self._grow(1, line)
        value = self._scalar(event, line)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        return self._place(value, line)

    def _place(self, value: Any, line: int | None) -> tuple[bool, Any]:
        if value is _MERGE and not (
            self.stack and isinstance(self.stack[-1].value, YamlMap) and not self.stack[-1].have_key
        ):
            value = "<<"  # a merge key only merges where it is a key
        if not self.stack:
            return True, value
        top = self.stack[-1]
        if isinstance(top.value, YamlSeq):
            top.value.append(value)
            top.value.item_lines.append(line or 0)
            return False, None
        if not top.have_key:
            if isinstance(value, (dict, list)):
                raise YamlReadError("a key must be a plain value, not a mapping or a list", line)
            top.key, top.have_key, top.key_line = value, True, line
            return False, None
        key, top.have_key = top.key, False
        if isinstance(key, _Merge):
            top.merges = [*(top.merges or []), (value, top.key_line)]
            return False, None
        if key in top.value:
            raise YamlReadError(f"duplicate key {escape(repr(key), 80)}", top.key_line)
        top.value[key] = value
        top.value.key_lines[key] = top.key_line or 0
        return False, None

    def _merge(self, target: YamlMap, merges: list[tuple[Any, int | None]]) -> None:
        for value, line in merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise YamlReadError("a merge key '<<' takes a mapping or a list of them", line)
                for key, item in source.items():
                    if key not in target:
                        self._grow(1, line)
                        target[key] = item
                        target.key_lines[key] = line or 0

    def _check_tag(self, tag: Any, kind: str, line: int | None) -> None:
        tag = None if tag is None else str(getattr(tag, "value", tag))
        if tag is None or tag == "!" or tag == _CORE + kind:
            return
        raise YamlReadError(f"tag {escape(tag, 60)} is not allowed here (only plain YAML)", line)

    def _scalar(self, event: ScalarEvent, line: int | None) -> Any:
        value: str = event.value
        tag = None if event.tag is None else str(getattr(event.tag, "value", event.tag))
        if tag is None or tag == "!":
            if tag == "!" or not event.implicit[0]:
                return value  # quoted, or the non-specific tag: a string
            resolved = self.resolver.resolve(ScalarNode, value, event.implicit)
            tag = str(getattr(resolved, "value", resolved))
        if not tag.startswith(_CORE):
            raise YamlReadError(f"tag {escape(tag, 60)} is not allowed (only plain YAML)", line)
        kind = tag[len(_CORE) :]
        if kind in ("str", "timestamp"):
            return value
        if kind == "null":
            if value not in ("", "~", "null", "Null", "NULL"):
                raise YamlReadError(f"{escape(repr(value), 60)} is not null", line)
            return None
        if kind == "bool":
            lowered = value.lower()
            if lowered in ("true", "yes", "on", "y"):
                return True
            if lowered in ("false", "no", "off", "n"):
                return False
            raise YamlReadError(f"{escape(repr(value), 60)} is not a boolean", line)
        if kind in ("int", "float"):
            return _number(value, kind, line, legacy=self.legacy)
        if kind == "merge":
            return _MERGE
        raise YamlReadError(f"tag {escape(tag, 60)} is not allowed (only plain YAML)", line)


class _Merge:
    """The ``<<`` key of a YAML merge."""


_MERGE = _Merge()


def _number(text: str, kind: str, line: int | None, *, legacy: bool) -> int | float:
    if len(text) > MAX_NUMBER_LENGTH:
        raise YamlReadError(
            f"a number of {len(text):,} characters (at most {MAX_NUMBER_LENGTH} are read)", line
        )
    cleaned = text.replace("_", "")
    sign = -1 if cleaned.startswith("-") else 1
    body = cleaned.lstrip("+-")
    try:
        if kind == "int":
            lowered = body.lower()
            if lowered.startswith("0b"):
                return sign * int(lowered[2:], 2)
            if lowered.startswith("0o"):
                return sign * int(lowered[2:], 8)
            if lowered.startswith("0x"):
                return sign * int(lowered[2:], 16)
            if legacy and ":" in body:  # YAML 1.1 sexagesimal
                total = 0
                for part in body.split(":"):
                    total = total * 60 + int(part)
                return sign * total
            if legacy and len(body) > 1 and body.startswith("0") and body.isdigit():
                return sign * int(body, 8)  # YAML 1.1 octal
            return sign * int(body)
        lowered = body.lower()
        number = math.inf if lowered == ".inf" else math.nan if lowered == ".nan" else float(body)
    except ValueError:
        raise YamlReadError(f"{escape(repr(text), 60)} is not a number", line) from None
    if not math.isfinite(number):
        raise YamlReadError(f"{escape(text, 40)} is not a finite number", line)
    return sign * number


def _parse_yaml(text: str, limits: Limits) -> Any:
    return _Composer(text, limits).compose()


# -- using what was read -------------------------------------------------------------------------


def line_of(node: Any, path: Sequence[str | int] = ()) -> int | None:
    """1-based line of the value at ``path`` inside ``node``, or of the nearest parent known."""
    best: int | None = None
    current = node
    for part in path:
        if isinstance(current, YamlMap) and part in current:
            best = current.key_lines.get(part) or best
            current = current[part]
        elif isinstance(current, YamlSeq) and isinstance(part, int) and 0 <= part < len(current):
            best = current.item_lines[part] or best
            current = current[part]
        else:
            break
    if best is None and isinstance(current, (YamlMap, YamlSeq)):
        best = current.line
    return best


def to_plain(node: Any) -> Any:
    """Plain ``dict``/``list``/scalars (drops the line info; aliases become copies).

    Keys other than integers and booleans become strings. Built without recursion; the size
    is bounded by the limits the document was read with.
    """
    if not isinstance(node, (dict, list)):
        return node
    root: Any = {} if isinstance(node, dict) else []
    stack: list[tuple[Any, Any]] = [(node, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, (dict, list)):
                copy: Any = {} if isinstance(value, dict) else []
                stack.append((value, copy))
                value = copy
            if isinstance(target, dict):
                plain_key = key if isinstance(key, (int, bool)) else str(key)
                target[plain_key] = value
            else:
                target.append(value)
    return root
