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

from rollback_decision.policy.yamlio.document import parse_text, read_document, read_input
from rollback_decision.policy.yamlio.limits import (
    DEFAULT_LIMITS,
    MAX_NUMBER_LENGTH,
    Limits,
    YamlReadError,
)
from rollback_decision.policy.yamlio.nodes import YamlMap, YamlSeq, line_of, to_plain
from rollback_decision.policy.yamlio.source import read_bytes, read_stdin

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
    "read_input",
    "read_stdin",
    "to_plain",
]
