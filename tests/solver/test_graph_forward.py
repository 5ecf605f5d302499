"""Graphs in the forward engine (named inputs, concat, add), against real torch."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch_ref
from torch import nn

import solver

# A two-level U-Net: padding-1 convs, 2x2 pools, 2x2 up-convs, skips by concatenation.
UNET = {
    "input_size": [64, 48], "in_channels": 3,
    "layers": [
        {"name": "e1", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 8},
        {"name": "p1", "type": "max_pool", "kernel_size": 2},
        {"name": "e2", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 16},
        {"name": "p2", "type": "max_pool", "kernel_size": 2},
        {"name": "mid", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 32},
        {"name": "u2", "type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 16},
        {"name": "c2", "type": "concat", "inputs": ["e2", "u2"]},
        {"name": "d2", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 16},
        {"name": "u1", "type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 8},
        {"name": "c1", "type": "concat", "inputs": ["e1", "u1"]},
        {"name": "d1", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 8},
        {"name": "res", "type": "add", "inputs": ["d1", "e1"]},
    ],
}


def _unet_in_torch(x: torch.Tensor) -> list[torch.Tensor]:
    """The same network written by hand in torch; every layer's output."""
    torch.manual_seed(0)
    e1 = nn.Conv2d(3, 8, 3, padding=1)(x)
    p1 = nn.MaxPool2d(2)(e1)
    e2 = nn.Conv2d(8, 16, 3, padding=1)(p1)
    p2 = nn.MaxPool2d(2)(e2)
    mid = nn.Conv2d(16, 32, 3, padding=1)(p2)
    u2 = nn.ConvTranspose2d(32, 16, 2, stride=2)(mid)
    c2 = torch.cat([e2, u2], dim=1)
    d2 = nn.Conv2d(32, 16, 3, padding=1)(c2)
    u1 = nn.ConvTranspose2d(16, 8, 2, stride=2)(d2)
    c1 = torch.cat([e1, u1], dim=1)
    d1 = nn.Conv2d(16, 8, 3, padding=1)(c1)
    return [e1, p1, e2, p2, mid, u2, c2, d2, u1, c1, d1, d1 + e1]


def test_unet_graph_matches_torch_at_every_layer() -> None:
    report = solver.forward(UNET)
    with torch.no_grad():
        outs = _unet_in_torch(torch.zeros(1, 3, 64, 48))
    assert [r.output_size for r in report.layers] == [list(t.shape[2:]) for t in outs]
    assert [r.out_channels for r in report.layers] == [t.shape[1] for t in outs]
    assert report.output_size == [64, 48] and report.out_channels == 8
    assert report.layers[6].in_channels == 32  # the concat's inputs: 16 + 16


@pytest.mark.parametrize(("join", "rule"), [("concat", "join_sizes_match"), ("add", "add_sizes_broadcast")])
def test_mismatched_join_is_refused_like_torch(join: str, rule: str) -> None:
    doc: dict[str, Any] = {"input_size": [9, 8], "in_channels": 2, "layers": [
        {"name": "a", "type": "conv", "kernel_size": 3, "out_channels": 2},
        {"name": "j", "type": join, "inputs": ["input", "a"]}]}
    with pytest.raises(solver.LayerRejected) as refused:
        solver.forward(doc)
    assert (refused.value.layer, refused.value.name, refused.value.axis, refused.value.rule) == (
        1, "j", 0, rule)
    assert ("added" in refused.value.message) == (join == "add")  # an add speaks of addition
    x = torch.zeros(1, 2, 9, 8)
    a = nn.Conv2d(2, 2, 3)(x)
    with pytest.raises(RuntimeError, match="must match"):
        torch.cat([x, a], dim=1) if join == "concat" else x + a


def test_add_refuses_different_channels() -> None:
    doc = {"input_size": [8], "in_channels": 2, "layers": [
        {"name": "a", "type": "conv", "kernel_size": 1, "out_channels": 3},
        {"type": "add", "inputs": ["input", "a"]}]}
    with pytest.raises(solver.LayerRejected, match="channels 2, 3 cannot be added"):
        solver.forward(doc)
    with pytest.raises(RuntimeError, match="must match"):
        torch.zeros(1, 2, 8) + torch.zeros(1, 3, 8)


@pytest.mark.parametrize(("a_kernel", "a_channels"), [([9, 1], 2), ([1, 8], 2), ([9, 8], 1), ([9, 8], 2),
                                                      ([1, 1], 1)])
def test_add_broadcasts_size_1_like_torch(a_kernel: list[int], a_channels: int) -> None:
    """timm's DLA adds a 1-wide shortcut (`out += shortcut`): torch broadcasts axes of size 1."""
    doc: dict[str, Any] = {"input_size": [9, 8], "in_channels": 2, "layers": [
        {"name": "a", "type": "conv", "kernel_size": a_kernel, "out_channels": a_channels},
        {"name": "sum", "type": "add", "inputs": ["input", "a"]}]}
    report = solver.forward(doc)
    x = torch.zeros(1, 2, 9, 8)
    total = x + nn.Conv2d(2, a_channels, a_kernel)(x)
    assert report.output_size == list(total.shape[2:]) and report.out_channels == total.shape[1]


def test_solve_broadcasts_an_add_as_forward_does() -> None:
    doc: dict[str, Any] = {"input_size": [7, 7], "in_channels": 2, "target_size": [7, 7], "layers": [
        {"name": "a", "type": "conv", "kernel_size": {"min": 1, "max": 7}, "out_channels": 1},
        {"type": "add", "inputs": ["a", "input"]}]}
    kernels = {s.layers[0]["kernel_size"][0] for s in solver.solve(doc).solutions}
    assert kernels == {1, 7}  # 7 x 7 or 1 x 1, each added to the input
    for kernel in kernels:
        x = torch.zeros(1, 2, 7, 7)
        assert (x + nn.Conv2d(2, 1, kernel)(x)).shape[2:] == (7, 7)


def test_unknown_tensor_name_is_a_document_error() -> None:
    with pytest.raises(solver.DocumentError, match="no tensor named 'nope'"):
        solver.forward({"input_size": [8], "layers": [{"type": "conv", "kernel_size": 1, "input": "nope"}]})


def test_solved_graph_solutions_are_forward_documents() -> None:
    """Each solution of a U-Net solve replays through forward() with the same sizes."""
    doc = {"input_size": [96, 96], "target_size": "input", "limit": 50,
           "ties": [{"layers": ["e1", "e2", "d1"], "params": ["kernel_size", "padding"]}],
           "layers": [
               {"name": "e1", "type": "conv", "kernel_size": {"min": 1, "max": 5}, "padding": {"min": 0, "max": 3}},
               {"name": "p1", "type": "max_pool", "kernel_size": 2},
               {"name": "e2", "type": "conv", "kernel_size": {"min": 1, "max": 5}, "padding": {"min": 0, "max": 3}},
               {"name": "u1", "type": "conv_transpose", "kernel_size": {"min": 1, "max": 4}, "stride": 2,
                "padding": {"min": 0, "max": 2}},
               {"name": "c1", "type": "concat", "inputs": ["e1", "u1"]},
               {"name": "d1", "type": "conv", "kernel_size": {"min": 1, "max": 5},
                "padding": {"min": 0, "max": 3}}]}
    result = solver.solve(doc)
    assert result.status == "complete" and result.count == len(result.solutions) > 1
    for s in result.solutions:
        replay = solver.forward({"input_size": doc["input_size"], "layers": s.layers})
        assert [r.output_size for r in replay.layers] == s.sizes[0]
        assert s.layers[0]["kernel_size"][0] == 2 * s.layers[0]["padding"][0] + 1  # "same" convs


def test_crop_keeps_the_centre_like_the_paper() -> None:
    doc = {"input_size": [64, 63], "layers": [
        {"name": "small", "type": "conv", "kernel_size": [9, 4], "out_channels": 1, "in_channels": 1},
        {"name": "c", "type": "crop", "input": "input", "to": "small"}]}
    report = solver.forward(doc)
    assert report.output_size == [56, 60] == report.layers[0].output_size
    with pytest.raises(solver.LayerRejected) as refused:
        solver.forward({**doc, "layers": [doc["layers"][0], {"type": "crop", "input": "small", "to": "input"}]})
    assert (refused.value.rule, refused.value.axis) == ("crop_fits_input", 0)


def test_original_unet_with_cropped_skips_runs_in_torch() -> None:
    """The paper's U-Net, solved, exported and run: 572 -> 388 with every size as planned."""
    from pathlib import Path

    import yaml

    from solver.services.export import to_torch

    doc = yaml.safe_load((Path(__file__).parents[2] / "examples" / "unet_original.yaml").read_text())
    result = solver.solve(doc)
    best = next(s for s in result.solutions if s.layers[0]["kernel_size"] == [3, 3])
    assert best.layers[0]["padding"] == [0, 0]
    net = torch_ref.exported(to_torch({"input_size": [572, 572], "layers": best.layers}))
    seen: list[list[int]] = []
    for module in net.children():
        module.register_forward_hook(lambda _m, _i, out: seen.append(list(out.shape[2:])))
    with torch.no_grad():
        out = net(torch.zeros(1, 1, 572, 572))
    modules = [s for s, layer in zip(best.sizes[0], best.layers, strict=True)
               if layer["type"] not in ("concat", "add", "crop")]
    assert seen == modules and list(out.shape[2:]) == [388, 388]
    crops = [s for s, layer in zip(best.sizes[0], best.layers, strict=True) if layer["type"] == "crop"]
    assert crops == [[56, 56], [104, 104], [200, 200], [392, 392]]  # the paper's Figure 1


def test_cpsat_agrees_on_graphs_with_crops_and_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    import yaml

    import solver.engines.exact

    doc = yaml.safe_load((Path(__file__).parents[2] / "examples" / "unet_original.yaml").read_text())
    doc = {**doc, "layers": doc["layers"], "objective": None, "limit": 100}
    exact = solver.solve(doc)
    monkeypatch.setattr(solver.engines.exact, "MAX_STATES", 1)  # force the CP-SAT model
    cpsat = solver.solve(doc)
    assert (exact.engine, cpsat.engine) == ("exact", "cpsat")
    key = lambda r: sorted(str(s.layers) for s in r.solutions)  # noqa: E731
    assert exact.count == cpsat.count == 2 and key(exact) == key(cpsat)
