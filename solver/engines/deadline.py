"""One deadline-and-cancel object, handed down to every loop whose work grows with the
document: the bounds, the levels of the DP, CP-SAT's tables, the explanation's
re-solves, the refusal suggestions, the input-size sweep and the planners.

Loops call `tick()` per item (cheap: the clock is read every 32 calls) or `check()`
per coarse step; either raises Timeout once the time is up or the caller (the service,
when a client hangs up) says stop.  A sub-task takes a shorter share with `within()`.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator


class Timeout(Exception):  # noqa: N818 - a verdict of the clock, not a program error
    """The deadline passed, or the caller cancelled the work."""


class Deadline:
    """A point in time (time.monotonic) and, optionally, a cancel flag to ask."""

    __slots__ = ("at", "cancelled", "_calls")

    def __init__(self, seconds: float, cancelled: Callable[[], bool] | None = None) -> None:
        self.at = time.monotonic() + seconds
        self.cancelled = cancelled
        self._calls = 0

    def within(self, seconds: float) -> Deadline:
        """A deadline `seconds` from now, or this one if sooner; the same cancel flag."""
        child = Deadline(seconds, self.cancelled)
        child.at = min(child.at, self.at)
        return child

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def was_cancelled(self) -> bool:
        return self.cancelled is not None and bool(self.cancelled())

    def expired(self) -> bool:
        return time.monotonic() > self.at or self.was_cancelled()

    def check(self) -> None:
        """Raise Timeout if the time is up or the work was cancelled."""
        if self.expired():
            raise Timeout

    def tick(self) -> None:
        """check(), every 32nd call: for the inner loops, where a clock read per item
        would cost more than the item."""
        self._calls += 1
        if not self._calls & 31:
            self.check()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a search runs: a search makes millions of
    small acyclic objects, and each full collection walks them all, and everything else
    the process holds (pauses of 0.1 s and more, which made time limits overrun).
    Whatever cycles there are go at the next collection."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
