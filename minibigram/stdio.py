"""The standard streams as a command meets them: closed, and text that must stay printable.

Two rules, used by the command line and by anything that prints a word or a path:

- :func:`escape_all` escapes every string of what is printed by the one rule of
  :mod:`minibigram.words`: ``--json`` strings by :func:`~minibigram.words.escape_bytes`
  (a byte that was not UTF-8 becomes ``\\xNN``, so the output is always valid UTF-8),
  lines of text (``score``'s TSV, ``info``) by :func:`~minibigram.words.escape_tsv`,
  which also writes tab, line breaks and backslash as backslash escapes.
- :func:`open_standard_streams` is run first by the command line: a standard stream
  that was closed (``<&-``, ``>&-``, ``2>&-``) gets ``/dev/null`` on its descriptor, so
  that no file the command opens later lands on descriptor 0, 1 or 2; a closed stderr
  then swallows the status (which would otherwise go to stdout), and a closed stdin
  or stdout is reported by :class:`ClosedStream`.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from .errors import FileAccessError
from .words import escape_bytes


def escape_all(obj: Any, field: Callable[[str], str] = escape_bytes) -> Any:
    """``obj`` with ``field`` applied to every string in it (keys included): by default
    :func:`~minibigram.words.escape_bytes`, which keeps ``--json`` valid UTF-8; for text
    printed as lines, :func:`~minibigram.words.escape_tsv`."""
    if isinstance(obj, str):
        return field(obj)
    if isinstance(obj, dict):
        return {escape_all(k, field): escape_all(v, field) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [escape_all(v, field) for v in obj]
    return obj


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (JSON has no inf or NaN).

    A probability of exactly 0 makes a loss inf or a log-probability -inf; JSON says null.
    """
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite_or_none(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def json_line(obj: Any) -> str:
    """``obj`` as one line of strict JSON, always valid UTF-8 (:func:`escape_all`)."""
    return json.dumps(escape_all(finite_or_none(obj)), ensure_ascii=False, allow_nan=False)


class ClosedStream(io.RawIOBase):
    """What a closed standard stream becomes: reading or writing it raises
    :class:`~minibigram.errors.FileAccessError` with one sentence."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__()
        self.name, self.hint = name, hint

    @property
    def buffer(self) -> ClosedStream:   # sys.stdin.buffer, sys.stdout.buffer
        return self

    def _closed(self) -> FileAccessError:
        return FileAccessError(f"standard {self.name} is closed: {self.hint}.")

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        raise self._closed()

    def write(self, b: Any) -> int:
        raise self._closed()

    def flush(self) -> None:
        pass


def _is_closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def open_standard_streams() -> tuple[bool, bool, bool]:
    """Put ``/dev/null`` on each closed standard descriptor; which of stdin, stdout, stderr
    were closed.

    A closed stdin or stdout is replaced in :mod:`sys` by a :class:`ClosedStream` (the
    first read or write says so); a closed stderr by ``/dev/null``, so that status
    lines vanish instead of going to stdout (``print(file=None)`` writes to stdout).
    """
    closed = tuple(_is_closed(fd) for fd in (0, 1, 2))
    for fd, was in enumerate(closed):
        if was:   # the lowest free descriptor: fd itself, as the lower ones are open by now
            got = os.open(os.devnull, os.O_RDWR)
            if got != fd:
                os.dup2(got, fd)
                os.close(got)
    if closed[0]:
        sys.stdin = ClosedStream("input", "give the words as arguments or in a file, or "
                                 "open it (< words.txt)")   # type: ignore[assignment]
    if closed[1]:
        sys.stdout = ClosedStream("output", "the results go there; run the command with "
                                  "stdout open (> results.txt, or > /dev/null to discard "
                                  "them)")   # type: ignore[assignment]
    if closed[2]:
        sys.stderr = open(2, "w", closefd=False)
    return closed   # type: ignore[return-value]


__all__ = ["ClosedStream", "escape_all", "finite_or_none", "json_line", "open_standard_streams"]
