"""A progress bar on standard error: label, bar, percentage, rate and time left."""

from __future__ import annotations

import sys
import time
from typing import IO


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """One line on stderr, redrawn at most ten times a second, for input bytes done of ``total``
    (``None``: unknown, e.g. a pipe: bytes and rate only). Disabled, it does nothing."""

    def __init__(self, label: str, total: int | None, enabled: bool, stream: IO[str] | None = None) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.start = self.last = time.monotonic()
        self.done = 0
        self.drawn = False

    def update(self, done: int) -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def text(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        speed = f"{rate / 1e6:7.1f} MB/s"
        if not self.total:
            return f"{self.label} {self.done / 1e6:9.1f} MB {speed} {_clock(elapsed)}"
        fraction = min(self.done / self.total, 1.0)
        bar = "#" * int(fraction * 30)
        left = f"ETA {_clock((self.total - self.done) / rate)}" if 0 < self.done < self.total else _clock(elapsed)
        return f"{self.label} [{bar:<30}] {fraction:6.1%} {speed} {left}"

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.text(now) + "\x1b[K")
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        """Removes the bar (before a message is printed), to be redrawn by the next update."""
        if self.enabled and self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def finish(self) -> None:
        """Draws the final state and ends the line."""
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
