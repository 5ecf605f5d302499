"""What an importer answers: a model's spatial path as a forward document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .values import Described


class ImportedModel(Described):
    """A model read into a forward document, and how it was read."""

    document: dict[str, Any]
    traced_with: Literal["fx", "hooks"]
    folded: list[str] = Field(default_factory=list)
