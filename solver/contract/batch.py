"""Batches: many documents answered at once, one answer (or one failure) each, in order."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .values import Described, StrictModel

#: The most documents one REST batch holds (the CLI and the library take any number).
MAX_BATCH = 32


class BatchItem(Described):
    """One document's outcome: its answer, or why it has none."""

    index: int
    answer: dict[str, Any] | None = None
    detail: list[dict[str, Any]] | None = None


class SolveBatch(StrictModel):
    """Solve documents answered together, within one time budget."""

    documents: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class BatchResponse(Described):
    """Every document's outcome, in the order of the documents."""

    items: list[BatchItem]
    elapsed_s: float
