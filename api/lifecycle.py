"""The app's lifespan: what happens before the service serves and once it is told to stop.

Start: the access log gets a handler if logging has none (uvicorn only configures its
own loggers), and every solver process is spawned and warmed up, so the first solve
after start is as fast as the next and nothing answers before that.  Then what the
server keeps for good (modules, schemas, routes) is frozen out of the garbage
collector's reach: its full collections took up to 80 ms of the event loop, every
request's tail latency under load; frozen, under a millisecond.

Stop: uvicorn waits for running requests before it runs the lifespan's shutdown, and a
solve may run for the server's whole time cap; so the stop signal itself tells every
job to stop (pool.stop_soon), then the shutdown stops the workers, within seconds.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from .pool import pool


@asynccontextmanager
async def lifespan(_: Any) -> AsyncIterator[None]:
    _access_log_to_stderr()
    await pool.start()
    if threading.current_thread() is threading.main_thread():  # a server's, not a TestClient's
        gc.freeze()
    restore = _before_stop_signals(pool.stop_soon)
    try:
        yield
    finally:
        restore()
        pool.shutdown()


def _access_log_to_stderr() -> None:
    """convsolve's access log (api/observe.py) on stderr, in uvicorn's style, unless
    logging is configured already (a handler here or on the root logger)."""
    from uvicorn.logging import DefaultFormatter

    logger = logging.getLogger("convsolve")
    if logger.hasHandlers():
        return
    handler = logging.StreamHandler()  # stderr, where uvicorn logs
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    logger.addHandler(handler)
    # INFO, or quieter if uvicorn was told so (--log-level warning).
    logger.setLevel(max(logging.INFO, logging.getLogger("uvicorn.error").level))


def _before_stop_signals(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` on SIGINT and SIGTERM, then the server's own handler; returns
    what undoes it.  Only chains onto a handler a server installed (uvicorn does), and
    only in the main thread (TestClient runs the lifespan in another)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    ours: dict[int, tuple[Any, Any]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):  # the default action, ignored, or not set from Python
            continue

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            callback()
            previous(signum, frame)

        signal.signal(sig, handler)
        ours[sig] = (handler, previous)

    def restore() -> None:
        for sig, (handler, previous) in ours.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)

    return restore
