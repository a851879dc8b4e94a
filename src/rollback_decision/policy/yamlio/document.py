"""One document from bytes or text: YAML, or JSON when it says or looks so."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rollback_decision.policy.yamlio.composer import parse_yaml
from rollback_decision.policy.yamlio.json_reader import JsonSyntaxError, parse_json
from rollback_decision.policy.yamlio.limits import (
    DEFAULT_LIMITS,
    Limits,
    YamlReadError,
    too_large,
)
from rollback_decision.policy.yamlio.source import decode, read_bytes, read_stdin

__all__ = ["parse_text", "read_document", "read_input"]


def read_document(data: bytes, *, limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> Any:
    """Decode and parse ``data`` (YAML or JSON); None for an empty document."""
    if len(data) > limits.max_bytes:
        raise too_large(limits)
    return parse_text(decode(data), limits=limits, name=name)


def parse_text(text: str, *, limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> Any:
    """Parse one YAML or JSON document; None when there is none (empty, comments, ``null``)."""
    if len(text) > limits.max_bytes:
        raise too_large(limits)
    if not text.strip():
        return None
    if name is not None and name.lower().endswith(".json"):
        return parse_json(text, limits)  # a file that says it is JSON is read as JSON only
    if text.lstrip(" \t\r\n").startswith(("{", "[")):
        try:
            return parse_json(text, limits)
        except JsonSyntaxError as json_error:
            # Not JSON after all; YAML flow style (``{a: 1}``) was always accepted here too.
            # When neither reads it, the JSON error is the one that makes sense to whoever
            # wrote it.
            try:
                return parse_yaml(text, limits)
            except YamlReadError:
                raise json_error from None
    return parse_yaml(text, limits)


def read_input(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> Any:
    """Read and parse an input document: the file ``path``, or standard input for ``-``.

    A pipe or a device is read up to the limit, a folder is refused; a ``.json`` name is read
    as JSON only. None for an empty document.
    """
    name = str(path)
    if name == "-":
        return read_document(read_stdin(limits), limits=limits, name=None)
    data = read_bytes(Path(name), limits, regular_only=False)
    return read_document(data, limits=limits, name=name)
