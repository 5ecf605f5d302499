"""Batches: many documents of one kind answered in their order; a document that fails
gives its errors in its place and never stops the batch.

`batch` spreads the documents over local worker processes, or over a Ray cluster's
(ray is an optional extra: `pip install 'convsolve[ray]'`); `solve_batch` answers a
few solve documents one after the other within one time budget (the REST route's).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..contract import BatchItem, BatchResponse, SolveBatch, parse
from ..errors import ConvsolveError
from .input_sizes import input_sizes
from .plan import plan_aspp, plan_encoder_decoder, plan_unet
from .sample import sample
from .solve import solve
from .suggest import forward

#: What answers each kind of document (the kinds of contract.DOCUMENTS).
RUNS: dict[str, Callable[[Any], Any]] = {
    "forward": forward, "solve": solve, "sample": sample, "input-sizes": input_sizes,
    "unet": plan_unet, "aspp": plan_aspp, "encoder-decoder": plan_encoder_decoder,
}


def answer_one(kind: str, index: int, document: Any, **options: Any) -> BatchItem:
    """One document's answer as JSON data, or its errors; never raises.  A document
    that could not be read comes as its error."""
    if isinstance(document, ConvsolveError):
        return BatchItem(index=index, detail=document.details())
    try:
        return BatchItem(index=index, answer=RUNS[kind](document, **options).model_dump(mode="json"))
    except ConvsolveError as exc:
        return BatchItem(index=index, detail=exc.details())
    except Exception as exc:  # noqa: BLE001 - a bug in one answer must not stop the batch: said in its place
        return BatchItem(index=index, detail=[{"type": "internal_error", "loc": [],
                                               "msg": f"convsolve failed on this document ({type(exc).__name__}: "
                                                      f"{exc}); please report it"}])


def batch(documents: Iterable[Any], kind: str = "solve", *, workers: int | None = None,
          ray_address: str | None = None) -> Iterator[BatchItem]:
    """Answer every document, in order, as each is ready.

    workers: local processes (default: one per core; 1 answers in this process).
    ray_address: a Ray cluster's address ("auto" joins the one this machine belongs
    to, "local" starts one here) instead of local processes.

    >>> [item.answer["output_size"] if item.answer else item.detail[0]["msg"] for item in batch(
    ...     [{"input_size": [32], "layers": [{"type": "conv", "kernel_size": 3}]}, {"input_size": [32]}],
    ...     "forward", workers=1)]
    [[30], 'layers: Field required']
    """
    if kind not in RUNS:
        raise ConvsolveError(f"kind: '{kind}' is not a kind of document; one of {', '.join(RUNS)}")
    if ray_address is not None:
        yield from _on_ray(kind, documents, ray_address)
    elif workers == 1:
        for index, document in enumerate(documents):
            yield answer_one(kind, index, document)
    else:
        yield from _in_processes(kind, documents, workers or os.cpu_count() or 1)


def _in_processes(kind: str, documents: Iterable[Any], workers: int) -> Iterator[BatchItem]:
    """A few documents ahead of the one yielded in each worker, so that memory stays
    bounded whatever the batch's length.  When a worker dies (out of memory), every
    document in flight fails with it; those are answered again one at a time, each in
    a process of its own, so that only the one that kills its process fails."""
    todo = enumerate(documents)
    pool = ProcessPoolExecutor(workers)
    pending: deque[tuple[int, Any, Future[BatchItem]]] = deque()

    def submit(index: int, document: Any) -> None:
        pending.append((index, document, pool.submit(answer_one, kind, index, document)))

    def refill() -> None:
        for index, document in todo:
            submit(index, document)
            if len(pending) >= 2 * workers:
                break

    try:
        refill()
        while pending:
            index, document, future = pending.popleft()
            try:
                yield future.result()
            except BrokenProcessPool:
                pool.shutdown(cancel_futures=True)
                in_flight = [(index, document), *((i, d) for i, d, _ in pending)]
                pending.clear()
                for i, d in in_flight:
                    yield _alone(kind, i, d)
                pool = ProcessPoolExecutor(workers)
            refill()
    finally:
        pool.shutdown(cancel_futures=True)


def _alone(kind: str, index: int, document: Any) -> BatchItem:
    """One document answered in a process of its own: if the process dies, the document
    is the one that killed it."""
    with ProcessPoolExecutor(1) as solo:
        try:
            return solo.submit(answer_one, kind, index, document).result()
        except BrokenProcessPool:
            return BatchItem(index=index, detail=[{"type": "worker_died", "loc": [], "msg": (
                "the process answering this document died (out of memory?); the batch went on")}])


def _on_ray(kind: str, documents: Iterable[Any], address: str) -> Iterator[BatchItem]:
    try:
        import ray
    except ImportError:
        raise ConvsolveError("a batch on Ray needs ray: pip install 'convsolve[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    remote = ray.remote(answer_one)
    refs = [remote.remote(kind, index, document) for index, document in enumerate(documents)]
    for index, ref in enumerate(refs):
        try:
            yield ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a worker lost by Ray fails its document, not the batch
            yield BatchItem(index=index, detail=[{"type": "worker_died", "loc": [], "msg": (
                f"Ray lost the task answering this document ({type(exc).__name__}); the batch went on")}])


def solve_batch(request: SolveBatch | dict[str, Any], *, max_time_s: float | None = None,
                cancelled: Callable[[], bool] | None = None) -> BatchResponse:
    """A few solve documents answered one after the other, within max_time_s in all
    (each within its own time_limit_s and what is left): the documents not reached in
    time answer "timeout"."""
    started = time.monotonic()
    documents = parse(SolveBatch, request).documents
    items = []
    for index, document in enumerate(documents):
        left = None if max_time_s is None else max_time_s - (time.monotonic() - started)
        items.append(answer_one("solve", index, document, max_time_s=left, cancelled=cancelled))
    return BatchResponse(items=items, elapsed_s=round(time.monotonic() - started, 6))
