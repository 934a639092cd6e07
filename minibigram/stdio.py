"""The standard streams as a command meets them: closed, and text that must stay printable.

Two rules, used by the command line and by anything that prints a word or a path:

- :func:`escape` makes any ``str`` printable as one field of one line of UTF-8:
  a backslash is doubled, tab, line feed and carriage return become ``\\t``, ``\\n``,
  ``\\r``, any other control character and any byte that was not UTF-8 (decoded
  with ``surrogateescape``, as Python decodes file names and arguments) become
  ``\\xNN``, and a lone surrogate of no byte becomes ``\\uNNNN``. Everything else is
  kept, so an ordinary word or path is printed as it is. The TSV of ``score`` and
  every ``--json`` string use it, so the two agree and ``--json`` is always valid UTF-8.
- :func:`open_standard_streams` is run first by the command line: a standard stream
  that was closed (``<&-``, ``>&-``, ``2>&-``) gets ``/dev/null`` on its descriptor, so
  that no file the command opens later lands on descriptor 0, 1 or 2; a closed stderr
  then swallows the status (which would otherwise go to stdout), and a closed stdin
  or stdout is reported by :class:`ClosedStream`.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from .errors import FileAccessError

_NAMED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:             # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:             # a lone surrogate of no byte: not UTF-8 either
        return f"\\u{code:04x}"
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    return c


def escape(text: str) -> str:
    """``text`` as one printable field of valid UTF-8, by the rule of the module docstring.

    >>> escape("emma"), escape("a\\tb"), escape(b"d\\xff.txt".decode("utf-8", "surrogateescape"))
    ('emma', 'a\\\\tb', 'd\\\\xff.txt')
    """
    if text.isprintable() and "\\" not in text:   # the common case, in C
        return text
    return "".join(_escape_char(c) for c in text)


def escape_all(obj: Any) -> Any:
    """``obj`` with :func:`escape` applied to every string in it (keys included)."""
    if isinstance(obj, str):
        return escape(obj)
    if isinstance(obj, dict):
        return {escape_all(k): escape_all(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [escape_all(v) for v in obj]
    return obj


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


__all__ = ["ClosedStream", "escape", "escape_all", "open_standard_streams"]
