"""The sample document: a solve document, and how many designs to draw from its solutions."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, Strict, model_validator

from .solve import Explanation, Goal, Solution, SolveRequest, Status
from .values import Described, StrictModel

#: The most designs one request draws.
MAX_DRAWS = 10_000


class ScoreBound(StrictModel):
    """Bounds on one goal's score, as a solution's score gives it; either may be left out."""

    min: Annotated[float, Field(allow_inf_nan=False)] | None = None
    max: Annotated[float, Field(allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _some(self) -> ScoreBound:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        return self


class SampleRequest(SolveRequest):
    """Designs drawn uniformly at random from a solve document's solutions."""

    command: ClassVar[str] = "sample"

    n: Annotated[int, Strict(), Field(ge=1, le=MAX_DRAWS)] = 10
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] | None = None
    replace: bool = True
    within: Annotated[dict[Goal, ScoreBound], Field(max_length=len(Goal))] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _no_pages(self) -> SampleRequest:
        if self.cursor is not None:
            raise ValueError("cursor: a sample has no pages; draw again with another seed")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "input_size": [64, 64],
                    "target_size": [8, 8],
                    "in_channels": 3,
                    "layers": [
                        {"type": "conv", "out_channels": 32, "kernel_size": {"min": 1, "max": 7},
                         "stride": {"min": 1, "max": 4}, "padding": {"min": 0, "max": 3}},
                        {"type": "conv", "out_channels": 64, "kernel_size": {"min": 1, "max": 5},
                         "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 2}},
                    ],
                    "n": 5,
                    "seed": 7,
                    "within": {"fewest_params": {"max": 30000}},
                }
            ]
        },
    )


class SampleResponse(Described):
    """Designs drawn at random from the solutions, and how."""

    status: Status
    count: int | None
    solutions: list[Solution]
    uniform: bool
    seed: int
    drawn: int
    share_within: float | None = None
    engine: str
    elapsed_s: float
    message: str | None = None
    explanation: Explanation | None = None
    warnings: list[str] = Field(default_factory=list)
