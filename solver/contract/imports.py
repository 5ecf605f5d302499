"""What an importer answers: a model's spatial path as a forward document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .values import Described, InputSize, StrictModel


class ImportedModel(Described):
    """A model read into a forward document, and how it was read."""

    document: dict[str, Any]
    traced_with: Literal["fx", "hooks", "onnx", "keras"]
    folded: list[str] = Field(default_factory=list)


class OnnxImport(StrictModel):
    """An ONNX graph to import, as base64 text (weights are not needed: a graph saved
    without them imports alike)."""

    model: str = Field(min_length=1)
    input_size: InputSize | None = None


class KerasImport(StrictModel):
    """A Keras model's config to import: model.get_config(), or the JSON model.to_json()
    writes (Sequential or functional, channels last)."""

    model: dict[str, Any]
    input_size: InputSize | None = None
