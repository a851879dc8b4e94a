"""The YAML composer: parser events built into :class:`~.YamlMap` and :class:`~.YamlSeq`
(core schema only), counting depth, values and aliases as it goes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
from rollback_decision.policy.yamlio.limits import (
    MAX_NUMBER_LENGTH,
    Limits,
    YamlReadError,
    dotted,
)
from rollback_decision.policy.yamlio.nodes import YamlMap, YamlSeq

__all__ = ["parse_yaml"]

_CORE = "tag:yaml.org,2002:"
_NODE_EVENTS = (
    ScalarEvent,
    AliasEvent,
    MappingStartEvent,
    MappingEndEvent,
    SequenceStartEvent,
    SequenceEndEvent,
)


def _resolver(version: Any) -> VersionedResolver:
    """A resolver for the ``%YAML`` version a document declares (made per document: the
    composer owns it, nothing is kept between documents)."""
    key = tuple(version) if version else None
    return VersionedResolver(version=key) if key else VersionedResolver()


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
                            exc.key = dotted(self._path()[:16])
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


def parse_yaml(text: str, limits: Limits) -> Any:
    return _Composer(text, limits).compose()
