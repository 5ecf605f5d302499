"""CPU-bound work (solving, planning, sweeping sizes) in a pool of processes.

At most `workers` run and `queue` wait; one more answers 503 with Retry-After at once
instead of piling up.  Light requests (forward, health, metrics) never enter the pool,
so they stay fast while solves run.  Every job bounds its own time (the solver's
deadline), so a worker is never held longer than the server's cap.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from fastapi import HTTPException

from .settings import Settings, settings

T = TypeVar("T")


def _warm() -> None:
    import solver  # noqa: F401 - import once per worker, not per job


class Pool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.executor: ProcessPoolExecutor | None = None
        self.pending = 0  # running + waiting; only touched on the event loop

    def _start(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # spawn, not fork: the server's threads and locks are not copied into workers.
            self.executor = ProcessPoolExecutor(
                max_workers=self.settings.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm)
        return self.executor

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        limit = self.settings.workers + self.settings.queue
        if self.pending >= limit:
            raise HTTPException(
                status_code=503, headers={"Retry-After": "1"},
                detail=[{"type": "busy", "loc": [], "msg": f"all {self.settings.workers} solvers are busy and "
                         f"{self.settings.queue} requests wait already; retry in a second"}])
        self.pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._start(), _call, fn, args, kwargs)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool for the next request.
            self.shutdown()
            raise HTTPException(status_code=503, headers={"Retry-After": "1"}, detail=[
                {"type": "busy", "loc": [], "msg": "a solver process stopped; retry"}]) from None
        finally:
            self.pending -= 1

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    return fn(*args, **kwargs)


#: The service's pool, started on first use.
pool = Pool(settings)
