"""Every kind of document, by the name its command and its route use."""

from __future__ import annotations

from pydantic import BaseModel

from .forward import ForwardRequest
from .plans import ASPPPlan, EncoderDecoderPlan, UNetPlan
from .sizes import InputSizesRequest
from .solve import SolveRequest

DOCUMENTS: dict[str, type[BaseModel]] = {model.command: model for model in (
    ForwardRequest, SolveRequest, InputSizesRequest, UNetPlan, ASPPPlan, EncoderDecoderPlan)}


def json_schema(kind: str) -> dict[str, object]:
    """The JSON Schema of one kind of document (for editors: `$schema` in a YAML file)."""
    schema = DOCUMENTS[kind].model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
