"""Every kind of document, by the name its command and its route use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from .forward import ForwardRequest
from .plans import ASPPPlan, EncoderDecoderPlan, UNetPlan
from .sample import SampleRequest
from .sizes import InputSizesRequest
from .solve import SolveRequest

DOCUMENTS: dict[str, type[BaseModel]] = {model.command: model for model in (
    ForwardRequest, SolveRequest, SampleRequest, InputSizesRequest, UNetPlan, ASPPPlan, EncoderDecoderPlan)}

#: The name of a kind of document, as the CLI's argument and the REST route take it.
DocumentKind = Literal[tuple(DOCUMENTS)]  # type: ignore[valid-type]


def json_schema(kind: str) -> dict[str, object]:
    """The JSON Schema of one kind of document (for editors: `$schema` in a YAML file)."""
    schema = DOCUMENTS[kind].model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
