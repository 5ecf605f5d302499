"""Valid input sizes of a design: every listed size runs (in torch too), every other
size in the range is refused, and the description says what they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch_ref
import yaml

import solver
from solver.services.input_sizes import describe

UNET = yaml.safe_load((Path(__file__).parent.parent.parent / "examples" / "unet_same.yaml").read_text())


def _runs(doc: dict[str, Any], size: list[int], round_trip: bool = False) -> bool:
    try:
        out = solver.forward({**doc, "input_size": size}).output_size
    except solver.LayerRejected:
        return False
    return not round_trip or out == size


def test_depth_4_unet_takes_multiples_of_16_and_says_how_to_fix_500() -> None:
    r = solver.input_sizes({"layers": UNET["layers"], "in_channels": 1, "input_size": [500, 500],
                            "range": {"min": 32, "max": 1024}})
    assert [ax.pattern for ax in r.axes] == ["multiples of 16 from 32"] * 2
    near = r.axes[0].nearest
    assert (near.below, near.crop, near.above, near.pad) == (496, 4, 512, 12)
    assert "crop 500 to 496 (-4)" in r.message and "pad it to 512 (+12)" in r.message
    # The answer is the truth, size by size, by the forward engine (on a square input).
    assert r.axes[0].sizes == [s for s in range(32, 1025) if _runs(UNET, [s, s])]


def test_the_listed_sizes_run_in_torch() -> None:
    from solver.services.export import to_torch

    net = torch_ref.exported(to_torch({**UNET, "input_size": [32, 32]}))
    with torch.no_grad():
        assert list(net(torch.zeros(1, 1, 48, 64)).shape[2:]) == [48, 64]
        with pytest.raises(RuntimeError, match="must match"):
            net(torch.zeros(1, 1, 40, 40))  # 40 is not a multiple of 16: a skip does not match


@pytest.mark.parametrize("round_trip", [False, True])
def test_per_axis_design_sizes_are_exactly_the_ones_that_work(round_trip: bool) -> None:
    design = {"layers": [{"type": "conv", "kernel_size": [3, 1], "stride": [2, 1], "padding": [1, 0]},
                         {"type": "max_pool", "kernel_size": [2, 3], "ceil_mode": True},
                         {"type": "conv_transpose", "kernel_size": [4, 3], "stride": [4, 3]}]}
    r = solver.input_sizes({**design, "range": [{"min": 1, "max": 60}, {"min": 1, "max": 60}],
                            "round_trip": round_trip})
    for ax in r.axes:
        other = 12  # a size the other axis accepts
        truth = [s for s in range(1, 61) if _runs(
            design, [s, other] if ax.axis == 0 else [other, s], round_trip=False)]
        if round_trip:
            truth = [s for s in truth if solver.forward(
                {**design, "input_size": [s, other] if ax.axis == 0 else [other, s]}).output_size[ax.axis] == s]
        assert ax.sizes == truth, ax.axis


@pytest.mark.parametrize(("sizes", "lo", "hi", "said"), [
    ([64, 80, 96, 112], 64, 127, "multiples of 16 from 64"),
    ([3, 4, 5, 6, 7, 8], 1, 8, "every size from 3"),
    ([3, 4, 5], 1, 8, "every size from 3 to 5"),
    ([7, 23, 39], 1, 50, "7 and every 16th size after it (7, 23, ...)"),
    ([1, 2, 3, 5, 8, 9, 10], 1, 20, "1-3, 5, 8-10"),
    ([16, 32], 1, 40, "multiples of 16 from 16"),
    ([16, 32], 1, 60, "16, 32"),
    ([9], 1, 20, "only 9"),
    ([], 1, 20, "none"),
])
def test_describe(sizes: list[int], lo: int, hi: int, said: str) -> None:
    assert describe(sizes, lo, hi) == said


def test_a_range_past_the_limit_is_refused() -> None:
    with pytest.raises(solver.LimitExceeded):
        solver.input_sizes({"layers": UNET["layers"], "range": {"min": 1, "max": 20_000}})
