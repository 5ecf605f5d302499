"""The JSON contract shared by the REST API, the CLI and the Python API.

A concrete value is an int (the same on every axis) or a list with one int per axis,
as in PyTorch's `kernel_size=3` vs `kernel_size=(1, 3)`.  In a solve document a
searchable parameter may instead be a domain, `{"min": 1, "max": 7}` or
`{"choices": [1, 3, 5]}`: a scalar domain is shared by every axis, a list of domains
searches each axis on its own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, Strict, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..rules import ANY_PADDING_MODE, CONVENTIONS

# Bounds that keep documents sane; the solver's own limits live in its settings.
MAX_SIZE = 1 << 20
MAX_PARAM = 1 << 16
MAX_CHANNELS = 1 << 20
MAX_LAYERS = 1024  # real networks: DenseNet-201 has 700 layers

# Strict: JSON `true` is not a kernel size.
Size = Annotated[int, Strict(), Field(ge=1, le=MAX_SIZE)]
#: A number of pixels that may be 0 (an explicit pad's).
Size0 = Annotated[int, Strict(), Field(ge=0, le=MAX_SIZE)]
Int = Annotated[int, Strict(), Field(ge=-MAX_PARAM, le=MAX_PARAM)]
Channels = Annotated[int, Strict(), Field(ge=-MAX_CHANNELS, le=MAX_CHANNELS)]
#: The input's channels: a layer's may be wrong (its rule says why), the input's is a count.
InputChannels = Annotated[int, Strict(), Field(ge=1, le=MAX_CHANNELS)]
#: A padding mode; each convention takes some of them (see rules.PADDING_MODES).
PaddingMode = Literal[ANY_PADDING_MODE]


class Described(BaseModel):
    """The base of every model of the contract: its JSON Schema (model_json_schema(),
    `convsolve schema`, /openapi.json) describes each field from the glossary."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler,
                                     ) -> JsonSchemaValue:
        schema = handler(core_schema)
        from .glossary import describe  # the glossary quotes this module's bounds

        describe(handler.resolve_ref_schema(schema), cls)
        return schema


class StrictModel(Described):
    """A document, or a part of one: a field it does not know is an error."""

    model_config = ConfigDict(extra="forbid")


class Range(StrictModel):
    """All integers from min to max, inclusive."""

    min: Int
    max: Int

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        return self


class Choices(StrictModel):
    """An explicit list of allowed values: ints (within the parameters' bounds), padding
    modes, or true/false for ceil_mode."""

    choices: Annotated[list[Int | bool | PaddingMode], Field(min_length=1, max_length=1024)]


Domain = Range | Choices
# A parameter: a value, one value per axis, a domain shared by all axes, or per-axis domains.
Param = Int | Domain | Annotated[list[Int | Domain], Field(min_length=1, max_length=3)]
#: Padding: pixels, or a mode of the document's convention ("same" and "valid" in
#: pytorch and tensorflow; "same_upper", "same_lower" and "valid" in onnx).
PaddingParam = Int | PaddingMode | Domain | Annotated[
    list[Int | Domain], Field(min_length=1, max_length=3)
]
#: Whose size rules a document follows.
Convention = Literal[CONVENTIONS]
BoolParam = bool | Choices

TensorName = Annotated[str, Field(min_length=1, max_length=200)]
InputSize = Annotated[list[Size], Field(min_length=1, max_length=3)]
