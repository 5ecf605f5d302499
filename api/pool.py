"""CPU-bound work (solving, planning, sweeping sizes) in a pool of processes.

At most `workers` run and `queue` wait; one more answers 503 with Retry-After at once
instead of piling up.  Jobs wait in the pool, first come first served, and only as long
as their time limit allows: then they answer "timeout" at once.  Light requests
(forward, health, metrics) never enter the pool, so they stay fast while solves run.
Every job bounds its own time (the solver's deadline), so a worker is never held longer
than the server's cap; a job whose worker is so short of CPU that it would answer past
its time limit is answered "timeout" by the server (`LATE`); and a solve whose client
goes away is told so through a flag shared with the workers, and stops.

The service starts every worker before it serves (`start`, from the app's lifespan),
so the first solve is as fast as the next; without the lifespan (the pool used as a
library, or the tests' client) the first job starts them all and waits until they are
warm, and only then does its time limit start.  On shutdown every job is told to stop, and a worker
that has not left within `GRACE` seconds is terminated: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from .settings import Settings, settings

T = TypeVar("T")

#: Seconds a worker has to leave once told to stop, before it is terminated.
GRACE = 2.0
#: How much lower the workers' CPU priority is than the server's (Unix nice).
NICE = 10
#: How long after its time limit a job's answer may come from its worker.  Past it (a
#: worker short of CPU on a loaded machine), the job is told to stop and the client
#: gets the "timeout" answer from the server itself, so every answer keeps its time
#: limit + 0.5 s; the worker stays counted busy until its job has really stopped.
LATE = 0.25

# The document each worker solves once when it starts, so its first real job finds
# every module imported and every code path warm (ranking included).
_TINY = {"input_size": [8], "target_size": [8], "objective": "smallest_kernels",
         "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 3}, "padding": {"min": 0, "max": 1}}]}

# In a worker: one cancel flag per job slot, shared with the server process.
_FLAGS: Any = None


def _warm(flags: Any, ready: Any) -> None:
    """Each worker's initializer: imports and a tiny solve, then counts itself ready."""
    global _FLAGS
    _FLAGS = flags
    # Ctrl-C in a terminal reaches the whole process group; the server stops its
    # workers itself (through their flags), so they do not die mid-job with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Solving is CPU-bound and the server's event loop is not: at a lower priority, the
    # workers leave it the CPU it needs to answer health checks and light requests at
    # once, and still get every cycle it does not use.
    if hasattr(os, "nice"):
        os.nice(NICE)
    import solver
    import solver.engines.cpsat  # noqa: F401 - ortools, the slowest import, once per worker

    solver.solve(_TINY)
    gc.freeze()  # what the worker keeps for good, out of the collector's reach (api/lifecycle.py)
    with ready.get_lock():
        ready.value += 1


def _nothing() -> None:
    """A job that only makes the executor spawn a worker (see Pool.start)."""


class Pool:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.executor: ProcessPoolExecutor | None = None
        self.pending = 0  # running + waiting; only touched on the event loop
        self.flags: Any = None
        self.ready: Any = None  # how many workers have warmed up
        self.free: list[int] = []  # job slots, one flag each
        # Workers not running a job, and the jobs waiting for one, oldest first; only
        # touched on the event loop.
        self.idle = settings.workers
        self.waiting: deque[asyncio.Future[None]] = deque()
        self.stop_at: float | None = None  # set once the service is stopping: when to terminate workers
        self.starting = asyncio.Lock()  # one start on first use, however many jobs arrive at once

    def _start(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # spawn, not fork: the server's threads and locks are not copied into workers.
            context = multiprocessing.get_context("spawn")
            slots = self.settings.workers + self.settings.queue
            self.flags = context.Array("b", slots, lock=False)
            self.ready = context.Value("i", 0)
            self.free = list(range(slots))
            self.executor = ProcessPoolExecutor(
                max_workers=self.settings.workers, mp_context=context, initializer=_warm,
                initargs=(self.flags, self.ready))
        return self.executor

    async def start(self, timeout: float = 120.0) -> None:
        """Spawn every worker and wait until each has warmed up (the app's lifespan)."""
        self.stop_at = None
        self.shutdown()  # a pool started on first use may have fewer workers: start afresh
        executor = self._start()
        loop = asyncio.get_running_loop()
        # The executor spawns a worker per job submitted while none is idle: `workers`
        # jobs at once spawn them all.  One worker may run two of these jobs while
        # another still warms up, so wait for the count of warm workers too.
        await asyncio.gather(*(loop.run_in_executor(executor, _nothing) for _ in range(self.settings.workers)))
        deadline = loop.time() + timeout
        while self.ready.value < self.settings.workers:
            if loop.time() > deadline:
                raise RuntimeError(f"only {self.ready.value} of {self.settings.workers} solver processes "
                                   f"started within {timeout:.0f} s")
            await asyncio.sleep(0.02)

    def stop_soon(self) -> None:
        """Tell every job to stop at its next check, refuse new ones, and terminate
        workers still busy `GRACE` seconds from now.  Only assignments: safe in a signal handler."""
        self.stop_at = time.monotonic() + GRACE
        if self.flags is not None:
            self.flags[:] = [1] * len(self.flags)

    async def run(self, fn: Callable[..., T], *args: Any,
                  disconnected: Callable[[], Awaitable[bool]] | None = None, **kwargs: Any) -> T:
        """fn(*args, **kwargs) in a worker.  With `disconnected`, fn also gets a
        `cancelled` callable, which turns true once the client has gone away (or the
        service is stopping).  A `max_time_s` counts from now, the wait for a worker
        included: a job still waiting when it is spent gets fn's own answer for no
        time at all (status "timeout"), at once."""
        if self.stop_at is not None:
            raise _unavailable("the service is stopping; retry on another instance or in a moment")
        if self.executor is None:  # first use without the app's lifespan: warm up first, so
            async with self.starting:  # the job's time limit counts from a ready pool, as in the service
                if self.executor is None:
                    await self.start()
        executor = self._start()
        if not self.free:  # every slot (a worker's or a queue place) is taken
            raise _unavailable(f"all {self.settings.workers} solvers are busy and "
                               f"{self.settings.queue} requests wait already; retry in a second")
        self.pending += 1
        flags, slot = self.flags, self.free.pop()
        flags[slot] = 0
        arrived = time.monotonic()
        budget = kwargs.get("max_time_s")
        late = None if budget is None else arrived + budget + LATE
        held = abandoned = False  # a worker taken; its job left to finish on its own

        def give_back(_: Any = None) -> None:
            if held:
                self._give_back_worker()
            self.pending -= 1
            if flags is self.flags:  # not a pool replaced meanwhile
                self.free.append(slot)

        try:
            if not await self._take_worker(None if budget is None else arrived + budget, disconnected):
                if self.stop_at is not None:
                    raise _unavailable("the service is stopping; retry on another instance or in a moment")
                return await _out_of_time(fn, args, kwargs, "no solver was free")
            held = True
            loop = asyncio.get_running_loop()
            job = loop.run_in_executor(executor, _call, fn, args, kwargs, slot if disconnected else None,
                                       arrived)
            while not job.done():
                await asyncio.wait({job}, timeout=_poll(late))
                if job.done():
                    break
                if disconnected is not None and not flags[slot] and await disconnected():
                    flags[slot] = 1  # the worker stops at its next check
                if self.stop_at is not None and time.monotonic() > self.stop_at:
                    _terminate(executor)  # a job that did not stop in time; the job fails below
                elif late is not None and time.monotonic() >= late:
                    # The worker is short of CPU: it stops at its next check and is given
                    # back then; the client has its answer now.
                    flags[slot] = 1
                    abandoned = True
                    job.add_done_callback(_forget)
                    job.add_done_callback(give_back)
                    return await _out_of_time(fn, args, kwargs,
                                              "the solver, short of CPU on a busy server, found no answer")
            return await job
        except BrokenProcessPool:
            # A worker died (killed, out of memory, or terminated because the service
            # stops): start a fresh pool for the next request.
            stopping = self.stop_at is not None
            self.shutdown()
            raise _unavailable("the service is stopping" if stopping else "a solver process stopped; retry") from None
        finally:
            if not abandoned:
                give_back()

    async def _take_worker(self, until: float | None,
                           disconnected: Callable[[], Awaitable[bool]] | None) -> bool:
        """Wait, first come first served, for a free worker; False if the time runs out,
        the client leaves or the service stops first.  Jobs wait here rather than in
        the executor's own queue, where they could not be taken back."""
        if self.idle and not self.waiting:
            self.idle -= 1
            return True
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            while not turn.done():
                await asyncio.wait({turn}, timeout=_poll(until))
                if turn.done():
                    break
                if ((until is not None and time.monotonic() > until) or self.stop_at is not None
                        or (disconnected is not None and await disconnected())):
                    self.waiting.remove(turn)
                    return False
            return True
        except BaseException:
            if turn.done():  # handed a worker, then cancelled: hand it on
                self._give_back_worker()
            else:
                self.waiting.remove(turn)
            raise

    def _give_back_worker(self) -> None:
        """A job is done: its worker goes to the longest-waiting job, or is idle."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.idle += 1

    def shutdown(self) -> None:
        """Stop every worker, within about `GRACE` seconds even with jobs running, and
        free the pool's semaphores now: a server stopped by a signal may skip the
        interpreter's exit hooks, and what they would free is then reported leaked."""
        executor, self.executor = self.executor, None
        if executor is None:
            return
        if self.flags is not None:
            self.flags[:] = [1] * len(self.flags)  # running jobs stop at their next check
        processes = list((executor._processes or {}).values())  # noqa: SLF001 - the only handle on them
        # The executor's own shutdown joins its workers without a bound; run it aside.
        stopper = threading.Thread(target=executor.shutdown, kwargs={"wait": True, "cancel_futures": True},
                                   daemon=True)
        stopper.start()
        stopper.join(GRACE)
        for kill in (_stop, _kill):
            if not stopper.is_alive():
                break
            for p in processes:
                kill(p)  # a job that does not check its flag in time
            stopper.join(GRACE)
        self.flags = self.ready = None
        del executor, processes, stopper
        gc.collect()  # the queues' semaphores, unlinked now (their finalizers)


async def _out_of_time(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], why: str) -> T:
    """fn's answer for no time at all (status "timeout"): milliseconds, in a thread of
    the server, for a job whose time ran out before a worker could answer."""
    answer = await run_in_threadpool(fn, *args, **{**kwargs, "max_time_s": 0.0})
    if isinstance(getattr(answer, "message", None), str):  # say why, not "a time limit of 0 s"
        answer = answer.model_copy(update={"message": f"{why} within the time limit of "
                                                      f"{kwargs['max_time_s']:g} s; retry, or allow more time"})
    return answer


def _poll(until: float | None) -> float:
    """How long to wait before looking again: 0.1 s, or less, to wake up at `until`."""
    return 0.1 if until is None else min(0.1, max(0.0, until - time.monotonic()))


def _forget(job: asyncio.Future[Any]) -> None:
    """An abandoned job's end: its result or failure is nobody's (and not logged as lost)."""
    if not job.cancelled():
        job.exception()


def _unavailable(msg: str) -> HTTPException:
    return HTTPException(status_code=503, headers={"Retry-After": "1"},
                         detail=[{"type": "busy", "loc": [], "msg": msg}])


def _stop(p: multiprocessing.process.BaseProcess) -> None:
    if p.is_alive():
        p.terminate()


def _kill(p: multiprocessing.process.BaseProcess) -> None:
    if p.is_alive():
        p.kill()


def _terminate(executor: ProcessPoolExecutor) -> None:
    for p in list((executor._processes or {}).values()):  # noqa: SLF001
        _stop(p)


def _call(fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], slot: int | None,
          submitted: float) -> T:
    if "max_time_s" in kwargs:
        # The time limit counts from the request's arrival: the wait for a worker is taken
        # from it.  (time.monotonic is one clock for every process of a machine.)
        kwargs = {**kwargs, "max_time_s": max(0.0, kwargs["max_time_s"] - (time.monotonic() - submitted))}
    if slot is not None:
        kwargs = {**kwargs, "cancelled": lambda: _FLAGS[slot] == 1}
    return fn(*args, **kwargs)


#: The service's pool, started by the app's lifespan, or on first use without it.
pool = Pool(settings)
