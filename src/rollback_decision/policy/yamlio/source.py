"""Reading input bytes within :attr:`~.Limits.max_bytes` (the rest is never read), and
decoding them as UTF-8."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from rollback_decision.policy.yamlio.limits import DEFAULT_LIMITS, Limits, YamlReadError, too_large

__all__ = ["decode", "read_bytes", "read_stdin"]


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
            raise too_large(limits)
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
            raise too_large(limits)
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
        raise too_large(limits)
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
