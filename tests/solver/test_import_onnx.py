"""Importing ONNX graphs (issue #17): models exported by torch.onnx.export and imported
back agree with onnxruntime, layer by layer, at several input sizes (sizes onnxruntime
refuses included); what convsolve cannot state stops the import, naming the node."""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path
from typing import Any

import conformance
import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torch import nn
from torch_models import GlobalHead, UNetLike

import solver
from solver.services.importers import ImportRefused, from_onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from resnet_unet import resnet_unet  # noqa: E402 - the example's model

MODELS: dict[str, tuple[Any, list[int]]] = {
    "unet-like": (UNetLike(), [40, 36]),
    "resnet-unet": (resnet_unet(), [96, 64]),
    "pools 1d": (nn.Sequential(nn.Conv1d(2, 3, 5, stride=2, padding=2), nn.MaxPool1d(3, 2, 1, ceil_mode=True),
                               nn.AvgPool1d(2), nn.Upsample(scale_factor=3.0)), [50]),
    "3d": (nn.Sequential(nn.Conv3d(1, 2, 3, stride=(1, 2, 2)), nn.ReLU(), nn.ConvTranspose3d(2, 1, 2, stride=2,
                                                                                          output_padding=1)),
           [9, 12, 10]),
    "classifier": (nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU(),
                                 nn.InstanceNorm2d(4, affine=True), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 8),
                                 nn.BatchNorm1d(8), nn.Linear(8, 3, bias=False)), [14, 15]),
    "global head": (GlobalHead(), [9]),
}


def exported(model: nn.Module, size: list[int], channels: int, dynamic: bool = True) -> bytes:
    """The model as torch.onnx.export writes it (the TorchScript exporter: the new one
    needs onnxscript), its spatial axes dynamic unless asked otherwise."""
    spatial = {i + 2: f"d{i}" for i in range(len(size))}
    with torch.no_grad():
        flat = model.eval()(torch.zeros(1, channels, *size)).dim() == 2  # (batch, features) out
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "legacy TorchScript-based ONNX export", tracer warnings
        torch.onnx.export(model.eval(), torch.zeros(1, channels, *size), buffer, dynamo=False, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": spatial, "y": {} if flat else spatial} if dynamic else None)
    return buffer.getvalue()


def onnxruntime_sizes(data: bytes, names: dict[str, str], channels: int, size: list[int]) -> dict[str, list[int]] | None:
    """Each named node's output size in onnxruntime; None when it refuses the input."""
    model = onnx.load_from_string(data)
    for output in names.values():
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(output))
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        results = session.run(list(names.values()), {"x": np.zeros((1, channels, *size), dtype=np.float32)})
    except Exception:  # noqa: BLE001 - onnxruntime's refusals come as several exception types
        return None
    # A flat (batch, features) tensor is 1 on every axis in convsolve.
    return {name: list(result.shape[2:]) if result.ndim > 2 else [1] * len(size)
            for name, result in zip(names, results, strict=True)}


@pytest.mark.parametrize("name", MODELS)
def test_an_exported_model_imports_and_agrees_with_onnxruntime(name: str) -> None:
    model, size = MODELS[name]
    channels = next(m.in_channels for m in model.modules() if hasattr(m, "in_channels"))
    data = exported(model, size, channels)
    imported = from_onnx(data, size)
    assert imported.traced_with == "onnx" and imported.document["convention"] == "onnx"
    outputs = {node.name: node.output[0] for node in onnx.load_from_string(data).graph.node}
    names = {layer["name"]: outputs[layer["name"]] for layer in imported.document["layers"]
             if layer["name"] in outputs}
    # A reduction without keepdims is a pool to 1 and a flatten: the pool is the importer's own.
    pools = {layer["name"]: [1] * len(size) for layer in imported.document["layers"] if layer["name"] not in outputs}

    def sizes_at(trial: list[int]) -> dict[str, list[int]] | None:
        found = onnxruntime_sizes(data, names, channels, trial)
        return None if found is None else found | pools

    trials = (size, [s + 1 for s in size], [s * 2 for s in size], [3] * len(size), [1] * len(size))
    ran = [conformance.agrees_layer_by_layer(imported.document, trial, sizes_at(trial), "onnxruntime") for trial in trials]
    assert any(ran)


def test_the_graph_inputs_size_is_the_default_and_weights_give_channels() -> None:
    imported = from_onnx(exported(nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU()), [20, 24], 3, dynamic=False))
    assert imported.document["input_size"] == [20, 24] and imported.document["in_channels"] == 3
    [conv] = imported.document["layers"]
    assert (conv["in_channels"], conv["out_channels"], conv["kernel_size"]) == (3, 5, [3, 3])
    assert len(imported.folded) == 1


def test_what_convsolve_cannot_state_stops_the_import_naming_the_node(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.PixelShuffle(2))
    path = tmp_path / "net.onnx"
    path.write_bytes(exported(model, [8, 8], 1, dynamic=False))
    with pytest.raises(ImportRefused, match=r"DepthToSpace.*\(DepthToSpace\): convsolve does not state its sizes"):
        from_onnx(str(path))
    with pytest.raises(solver.DocumentError, match="not an ONNX model"):
        from_onnx(b"not a model")


def test_the_rest_route_and_the_cli_import_the_same_graph(tmp_path: Path) -> None:
    import base64
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from api.main import app as api_app
    from solver.cli import app

    data = exported(MODELS["unet-like"][0], [40, 36], 3, dynamic=False)
    expected = from_onnx(data).model_dump(mode="json")
    client = TestClient(api_app)
    served = client.post("/v1/import/onnx", json={"model": base64.b64encode(data).decode()})
    assert served.status_code == 200 and served.json() == expected
    refused = client.post("/v1/import/onnx", json={"model": base64.b64encode(b"junk").decode()})
    assert refused.status_code == 422 and "not an ONNX model" in refused.text
    for text in ("abc!", "\u0080"):  # not base64: a character outside its alphabet, or outside ASCII (the fuzz's)
        refused = client.post("/v1/import/onnx", json={"model": text})
        assert refused.status_code == 422 and "not base64 text" in refused.text
    path = tmp_path / "net.onnx"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["import", str(path), "-o", str(tmp_path / "net.json")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "net.json").read_text()) == expected["document"]
    sizes = CliRunner().invoke(app, ["input-sizes", "--model", str(path), "--near", "40,36"])
    assert sizes.exit_code == 0 and "multiples of 2" in sizes.output
