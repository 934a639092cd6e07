"""A one-line progress display for long runs, rewritten in place on a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Show ``step 57/100  loss 2.7123  850 step/s`` on one line of ``stream``.

    The line is redrawn in place (carriage return, then erase to the end of the
    line) at most every ``interval`` seconds, and erased by :meth:`close`. When
    ``enabled`` is false every method does nothing, so callers need no ``if``.

    Parameters
    ----------
    total : int
        The number of units the run will do (0 if unknown).
    unit : str
        What a unit is called ("step", "line", ...).
    stream : text stream, optional
        Default ``sys.stderr``.
    enabled : bool, optional
        Default: ``stream`` is a terminal.
    interval : float
        Minimum seconds between redraws.
    """

    def __init__(self, total: int, unit: str = "step", stream: TextIO | None = None,
                 enabled: bool | None = None, interval: float = 0.1) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.total, self.unit, self.interval = total, unit, interval
        self.start = time.monotonic()
        self.last = -float("inf")
        self.shown = False

    def update(self, done: int, loss: float | None = None) -> None:
        """Redraw with ``done`` units finished (and the latest loss, if any)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < self.interval and done != self.total:   # the last is always shown
            return
        self.last = now
        of = f"/{self.total:,}" if self.total else ""
        text = f"{self.unit} {done:,}{of}"
        if loss is not None:
            text += f"  loss {loss:.4f}"
        if now > self.start:
            text += f"  {done / (now - self.start):,.0f} {self.unit}/s"
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the line, e.g. before printing a regular line of output."""
        if self.enabled and self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    close = clear


def wanted(status: bool = True) -> bool:
    """Whether to draw a progress line: ``status`` is wanted, and stdout and stderr are
    both terminals (a line redrawn in place would garble a file or a pipe)."""
    return status and _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
