"""Importing PyTorch modules (issue #17, first part): the imported document's forward
sizes equal torch's, layer by layer, at several input sizes, including sizes torch
refuses (then forward refuses too); what convsolve cannot state stops the import with
the module, its type and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import conformance
import pytest
import torch
from torch import nn
from torch_models import Branchy, Classifier, GlobalHead, UNetLike, fx_sizes
from typer.testing import CliRunner

import solver
from solver.cli import app
from solver.services.importers import ImportRefused

MODELS: dict[str, tuple[nn.Module, int]] = {
    "sequential": (nn.Sequential(nn.Conv1d(2, 4, 7, stride=3), nn.GELU(), nn.MaxPool1d(3, ceil_mode=True),
                                 nn.Upsample(scale_factor=2.5), nn.AdaptiveAvgPool1d(5)), 1),
    "unet-like": (UNetLike(), 2),
    "branchy": (Branchy(), 2),
    "3d": (nn.Sequential(nn.Conv3d(1, 2, (3, 1, 5), stride=(1, 2, 2)), nn.Dropout3d(),
                         nn.MaxPool3d(2, padding=1)), 3),
}


def torch_sizes(model: nn.Module, names: list[str], channels: int, size: list[int]) -> dict[str, list[int]] | None:
    """Each named module's output size when torch runs the model; None when torch refuses."""
    seen: dict[str, list[int]] = {}
    modules = dict(model.named_modules())

    def watch(name: str) -> Any:
        def hook(module: nn.Module, args: Any, out: torch.Tensor) -> None:
            seen.setdefault(name, list(out.shape[2:]))
        return hook

    hooks = [modules[n].register_forward_hook(watch(n)) for n in names if n in modules]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, channels, *size))
    except RuntimeError:
        return None
    finally:
        for hook in hooks:
            hook.remove()
    return seen


@pytest.mark.parametrize("name", MODELS)
def test_the_imported_document_gives_torchs_sizes(name: str) -> None:
    model, ndim = MODELS[name]
    imported = solver.from_torch(model, [33] * ndim)
    assert imported.traced_with == ("hooks" if name == "branchy" else "fx")
    layers = imported.document["layers"]
    names = [layer["name"] for layer in layers]
    channels = imported.document["in_channels"]
    sizes = ([33] * ndim, [64] * ndim, [5] * ndim, [2] * ndim, [17, 40, 9][:ndim], [1] * ndim)
    ran = [conformance.agrees_layer_by_layer(imported.document, size, torch_sizes(model, names, channels, size),
                                             "torch", every=False) for size in sizes]
    assert any(ran)


def test_size_keeping_modules_are_folded_and_named() -> None:
    imported = solver.from_torch(UNetLike(), [64, 64])
    assert imported.folded == ["enc1.2", "relu"]  # the norm enc1.1 is a layer: it has parameters
    assert [layer["type"] for layer in imported.document["layers"]] == \
        ["conv", "norm", "max_pool", "conv", "conv", "add", "conv_transpose", "concat", "conv"]
    add = next(layer for layer in imported.document["layers"] if layer["type"] == "add")
    assert add["inputs"] == ["enc2", "res"]  # the relu folded: the sum reads enc2's tensor


@pytest.mark.parametrize(("model", "words"), [
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(2), nn.Linear(8, 2)), "1 (Flatten): flattens dims 2 to -1"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.LayerNorm([14, 14])), "1 (LayerNorm): a LayerNorm over the last axes"),
    (nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")), "0 (Conv2d): padding_mode 'reflect'"),
    (nn.Sequential(nn.PixelShuffle(2)), "0 (PixelShuffle)"),
])
def test_what_convsolve_cannot_state_stops_the_import_and_says_where(model: nn.Module, words: str) -> None:
    with pytest.raises(ImportRefused, match=words.replace("(", r"\(").replace(")", r"\)")):
        solver.from_torch(model, [16, 16])


def test_hooks_refuse_a_function_they_cannot_see() -> None:
    class Residual(Branchy):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.a(x)
            if y.mean() > -1e9:  # always, but fx cannot know
                y = y + 1
            return self.c(self.b(y))

    with pytest.raises(ImportRefused, match="b .AvgPool2d.: fx cannot trace the model .* not seen by hooks"):
        solver.from_torch(Residual(), [32, 32])


def test_not_a_module_and_no_torch_are_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(solver.DocumentError, match="takes a torch.nn.Module, not dict"):
        solver.from_torch({}, [8])
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(solver.ConvsolveError, match="needs torch: pip install torch"):
        solver.from_torch(object(), [8])


def test_the_cli_imports_a_model_for_every_other_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mynets.py").write_text(
        "from torch import nn\n"
        "def net(width=4):\n"
        "    return nn.Sequential(nn.Conv2d(3, width, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2))\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", "mynets:net", "--input-size", "500x375", "--kwargs", '{"width": 6}',
                                      "-o", "design.json"])
    assert result.exit_code == 0, result.output
    assert "2 layers, read with fx; left out as keeping sizes: 1" in result.stderr
    document: dict[str, Any] = json.loads((tmp_path / "design.json").read_text())
    assert document["input_size"] == [500, 375] and document["layers"][0]["out_channels"] == 6
    sizes = CliRunner().invoke(app, ["input-sizes", "design.json", "--near", "500,375"])
    assert sizes.exit_code == 0 and "runs for every size from 3" in sizes.output
    # --model stands for the document: the same answers as from the imported file
    by_model = CliRunner().invoke(app, ["input-sizes", "--model", "mynets:net", "--kwargs", '{"width": 6}',
                                        "--near", "500,375"])
    assert by_model.exit_code == 0 and by_model.output == sizes.output
    table = CliRunner().invoke(app, ["forward", "--model", "mynets:net", "--input-size", "64", "--json"])
    assert json.loads(table.stdout)["output_size"] == [16, 16]
    neither = CliRunner().invoke(app, ["forward"])
    assert neither.exit_code == 2 and "give a document FILE or --model" in neither.output
    for bad, words in [("mynets", "give the model as package.module:callable"), ("nope:net", "cannot import nope"),
                       ("mynets:other", "mynets has no other")]:
        failed = CliRunner().invoke(app, ["import", bad, "--input-size", "32"])
        assert failed.exit_code == 3 and words in failed.stderr


def test_solve_frees_the_layers_named_and_keeps_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nets.py").write_text(
        "from torch import nn\n"
        "def net():\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["solve", "--model", "nets:net", "--free", "2", "--input-size", "64",
                                      "--target", "32", "--json", "--limit", "100"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["count"] == len(answer["solutions"]) > 1
    for solution in answer["solutions"]:
        first, second = solution["layers"]
        assert (first["kernel_size"], first["stride"], first["padding"]) == ([3, 3], [1, 1], [1, 1])  # kept
        assert second["stride"] == [2, 2] and solution["sizes"][0][-1] == [32, 32]
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                              nn.Conv2d(4, 4, second["kernel_size"], second["stride"], second["padding"]))
        assert list(model(torch.zeros(1, 3, 64, 64)).shape[2:]) == [32, 32]  # torch agrees
    nothing = CliRunner().invoke(app, ["solve", "--model", "nets:net", "--free", "decoder.*", "--target", "32"])
    assert nothing.exit_code == 3 and "no conv, transposed conv or pool is named so" in nothing.stderr
    alone = CliRunner().invoke(app, ["solve", "--model", "nets:net"])
    assert alone.exit_code == 2 and "--model needs --free and --target" in alone.output


def test_hooks_refuse_functions_before_the_first_module_or_after_the_last() -> None:
    from torch.nn import functional as F  # noqa: N812

    class Ends(Branchy):
        def __init__(self, where: str) -> None:
            super().__init__()
            self.where = where

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.where == "before":
                x = F.max_pool2d(x, 2)
            x = self.a(x)
            if x.mean() < -1e9:  # never, but fx cannot know
                return x
            return F.interpolate(x, scale_factor=2.0) if self.where == "after" else x

    for where, words in [("before", "this module reads a tensor the module before it .or the input. did not write"),
                         ("after", "the model's output is not what its last module wrote")]:
        model = Ends(where).train()
        with pytest.raises(ImportRefused, match=words):
            solver.from_torch(model, [32, 32])
        assert model.training  # the import leaves the model as it was


@pytest.mark.parametrize(("model", "sizes", "runs"), [
    (Classifier(), [[16, 16], [15, 16], [17, 18], [24, 24], [3, 3], [8, 9]], [True, True, False, False, False, False]),
    (GlobalHead(), [[9], [1], [2], [40]], [True] * 4),  # a global pool: any size
])
def test_heads_and_norms_import_with_their_parameters(model: nn.Module, sizes: list[list[int]],
                                                      runs: list[bool]) -> None:
    """Norms are layers with their parameters; a mean over the spatial axes, functional
    pools and a flatten by view are read; forward agrees with torch node by node,
    including the sizes where the linear's in_features no longer fits."""
    imported = solver.from_torch(model, sizes[0])
    document = imported.document
    assert solver.forward(document).params == sum(p.numel() for p in model.parameters())
    ran = [conformance.agrees_layer_by_layer(document, size, fx_sizes(model, document["in_channels"], size), "torch")
           for size in sizes]
    assert ran == runs
