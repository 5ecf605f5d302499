"""CPU-bound work (solving, planning, sweeping sizes) in a pool of processes.

At most `workers` run and `queue` wait; one more answers 503 with Retry-After at once
instead of piling up.  Light requests (forward, health, metrics) never enter the pool,
so they stay fast while solves run.  Every job bounds its own time (the solver's
deadline), so a worker is never held longer than the server's cap; and a solve whose
client goes away is told so through a flag shared with the workers, and stops.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from fastapi import HTTPException

from .settings import Settings, settings

T = TypeVar("T")


# In a worker: one cancel flag per job slot, shared with the server process.
_FLAGS: Any = None


def _warm(flags: Any) -> None:
    global _FLAGS
    _FLAGS = flags
    import solver  # noqa: F401 - import once per worker, not per job


class Pool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.executor: ProcessPoolExecutor | None = None
        self.pending = 0  # running + waiting; only touched on the event loop
        self.flags: Any = None
        self.free: list[int] = []  # job slots, one flag each

    def _start(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # spawn, not fork: the server's threads and locks are not copied into workers.
            context = multiprocessing.get_context("spawn")
            slots = self.settings.workers + self.settings.queue
            self.flags = context.Array("b", slots, lock=False)
            self.free = list(range(slots))
            self.executor = ProcessPoolExecutor(
                max_workers=self.settings.workers, mp_context=context, initializer=_warm, initargs=(self.flags,))
        return self.executor

    async def run(self, fn: Callable[..., T], *args: Any,
                  disconnected: Callable[[], Awaitable[bool]] | None = None, **kwargs: Any) -> T:
        """fn(*args, **kwargs) in a worker.  With `disconnected`, fn also gets a
        `cancelled` callable, which turns true once the client has gone away."""
        executor = self._start()
        if not self.free:  # every slot (a worker's or a queue place) is taken
            raise HTTPException(
                status_code=503, headers={"Retry-After": "1"},
                detail=[{"type": "busy", "loc": [], "msg": f"all {self.settings.workers} solvers are busy and "
                         f"{self.settings.queue} requests wait already; retry in a second"}])
        self.pending += 1
        flags, slot = self.flags, self.free.pop()
        flags[slot] = 0
        try:
            loop = asyncio.get_running_loop()
            job = loop.run_in_executor(executor, _call, fn, args, kwargs, slot if disconnected else None)
            while disconnected is not None and not job.done():
                await asyncio.wait({job}, timeout=0.1)
                if not job.done() and await disconnected():
                    flags[slot] = 1  # the worker stops at its next check
                    break
            return await job
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool for the next request.
            self.shutdown()
            raise HTTPException(status_code=503, headers={"Retry-After": "1"}, detail=[
                {"type": "busy", "loc": [], "msg": "a solver process stopped; retry"}]) from None
        finally:
            self.pending -= 1
            if flags is self.flags:  # not a pool replaced meanwhile
                self.free.append(slot)

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], slot: int | None) -> T:
    if slot is not None:
        kwargs = {**kwargs, "cancelled": lambda: _FLAGS[slot] == 1}
    return fn(*args, **kwargs)


#: The service's pool, started on first use.
pool = Pool(settings)
