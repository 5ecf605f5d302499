"""The real onnxruntime op for one "onnx" convention layer, run on zeros: the ground truth.

`run_layer(layer, size)` builds a one-node ONNX model (opset 26, the highest
onnxruntime 1.31.1 loads: Conv, ConvTranspose, MaxPool, AveragePool at version 22,
Resize at 19), runs it on the CPU on `zeros(1, C, *size)` and returns the output's
spatial shape, or raises `OnnxRejected` with the first line of onnxruntime's error.

>>> run_layer({"type": "conv", "kernel_size": [3, 3], "stride": [2, 2], "dilation": [1, 1],
...            "padding": "same_upper"}, (7, 8))
(4, 4)
>>> try:
...     run_layer({"type": "max_pool", "kernel_size": [2], "stride": [1], "dilation": [1],
...                "padding": [2], "padding_end": [0], "ceil_mode": False}, (5,))
... except OnnxRejected as exc:
...     print(exc.message[-34:])
Pad should be smaller than kernel.

What onnxruntime does (per axis; i input, k kernel, s stride, d dilation, e = (k-1)*d + 1,
pb/pe the begin/end pads, op output_padding; all checked by running ORT 1.31.1):

- Conv: floor((i + pb + pe - e)/s) + 1; "Invalid input shape" when i + pb + pe < e.
  Kernel, stride or dilation < 1 and negative pads fail ONNX shape inference at load.
- SAME_UPPER / SAME_LOWER: output ceil(i/s), total pad (ceil(i/s)-1)*s + e - i, its odd
  pixel at the end (UPPER) or the beginning (LOWER); VALID pads nothing.  Conv refuses
  any dilation ("Dilation not supported for AutoPadType::SAME_UPPER ...").  MaxPool
  sizes the pad for the undilated kernel, so a dilated window gives less than ceil(i/s),
  0, or "Calculated output dimension is negative".  A negative total (stride longer than
  the window): MaxPool refuses ("padding values must be non-negative") unless dilated on
  some axis; Conv and AveragePool crop, each its own way, to the same ceil(i/s).
- MaxPool / AveragePool: (i + pb + pe - e)/s in integers, truncated toward zero, plus 1
  (a window past the padded input gives 1 output for s > 1, an empty tensor for s = 1);
  ceil_mode: rounded up, minus 1 when the last window would start at or past i + pb.
  Each pad must be below the undilated kernel ("Pad should be smaller than kernel").
- ConvTranspose: full = (i-1)*s + e + op, explicit pads cut pb and pe from it ("Computed
  output dimension is <= 0" when nothing is left).  op < max(s, d), and then a conv of
  the output must give back i, which wants op < s.  SAME_*: output min(i*s, full), the
  cut's odd pixel at the end for SAME_UPPER, at the beginning for SAME_LOWER (seen on
  values).  output_shape o: the pads are ignored, the cut max(0, full - o) has its odd
  pixel at the beginning (at the end for SAME_UPPER); o up to full - op + s - 1 extends
  the output at the end; longer: "Explicit output_shape is inconsistent".
- Resize: sizes as given; by scales, floor(float32(scale) * i) in float32 (0.29 on 100
  gives 29); an output of 0 is an empty tensor.  "linear" runs at every rank, "cubic"
  on 2 spatial axes only.
- GlobalAveragePool / GlobalMaxPool: 1 on every axis; ONNX has no other adaptive pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, shape_inference

#: The model opset: the highest onnxruntime 1.31.1 loads (27 fails "opset ... is under
#: development"); every op here resolves to its newest version under it.
OPSET = 26

_OPS = {"conv": "Conv", "conv_transpose": "ConvTranspose", "max_pool": "MaxPool",
        "avg_pool": "AveragePool", "upsample": "Resize", "identity": "Identity"}
#: torch's Upsample modes as Resize modes; the size rule does not depend on the mode.
_RESIZE_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear",
                 "trilinear": "linear", "bicubic": "cubic"}

# One call builds one session: share the options.  One thread: the tensors are tiny and a
# thread pool would cost more than the op; no optimizer passes: nothing to fuse in one node.
_OPTIONS = ort.SessionOptions()
_OPTIONS.log_severity_level = 4  # 3 still prints init failures
_OPTIONS.intra_op_num_threads = 1
_OPTIONS.inter_op_num_threads = 1
_OPTIONS.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL


class OnnxRejected(Exception):  # noqa: N818 - a verdict, as torch_ref.TorchRejected
    """onnxruntime refused the layer; `message` is the first line of its error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        text = str(error).strip()
        self.message = text.splitlines()[0] if text else repr(error)
        super().__init__(self.message)


def _pads(layer: Mapping[str, Any]) -> dict[str, Any]:
    """auto_pad and pads: a list pads begins then ends (ONNX order), a string is a mode."""
    padding = layer["padding"]
    if isinstance(padding, str):
        return {"auto_pad": padding.upper()}
    return {"auto_pad": "NOTSET", "pads": list(padding) + list(layer.get("padding_end", padding))}


def _tensor(name: str, dtype: int, values: list[Any]) -> TensorProto:
    return helper.make_tensor(name, dtype, [len(values)], values)


def build(layer: Mapping[str, Any], size: tuple[int, ...], channels: int) -> bytes:
    """The serialized one-node model for a layer document on input (1, channels, *size)."""
    kind = layer["type"]
    inputs, inits = ["X"], []
    attrs: dict[str, Any] = {}
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):  # ONNX has the global pools only
        if list(layer["output_size"]) != [1] * len(size):
            raise ValueError(f"ONNX has no adaptive pool to {layer['output_size']}, only Global*Pool")
        op = "GlobalAveragePool" if kind == "adaptive_avg_pool" else "GlobalMaxPool"
    else:
        op = _OPS[kind]
    if kind.startswith("adaptive") or kind == "identity":
        pass
    elif kind == "upsample":
        attrs["mode"] = _RESIZE_MODES.get(layer.get("mode", "nearest"), layer.get("mode"))
        if layer.get("size") is not None:
            inits.append(_tensor("sizes", TensorProto.INT64, [1, channels, *layer["size"]]))
            inputs += ["", "", "sizes"]
        else:
            scales = [1.0, 1.0, *map(float, layer["scale_factor"])]
            inits.append(_tensor("scales", TensorProto.FLOAT, scales))
            inputs += ["", "scales"]
    else:
        kernel = list(layer["kernel_size"])
        attrs.update(kernel_shape=kernel, strides=list(layer["stride"]), **_pads(layer))
        if "dilation" in layer and (kind != "avg_pool" or any(d != 1 for d in layer["dilation"])):
            attrs["dilations"] = list(layer["dilation"])  # AveragePool has them since opset 19
        if kind in ("max_pool", "avg_pool"):
            attrs["ceil_mode"] = int(bool(layer.get("ceil_mode", False)))
        else:
            out = int(layer.get("out_channels", channels))
            shape = [out, channels] if kind == "conv" else [channels, out]
            shape += kernel
            inits.append(numpy_helper.from_array(np.zeros(shape, np.float32), "W"))
            inputs.append("W")
        if kind == "conv_transpose":
            attrs["output_padding"] = list(layer.get("output_padding", [0] * len(size)))
            if layer.get("output_shape") is not None:
                attrs["output_shape"] = list(layer["output_shape"])
    node = helper.make_node(op, inputs, ["Y"], **attrs)
    graph = helper.make_graph(
        [node], kind,
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, channels, *size])],
        # The rank only (onnx.checker wants a shape): the kernel decides the sizes.
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None] * (2 + len(size)))],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10)
    return model.SerializeToString()


def run_layer(layer: Mapping[str, Any], size: tuple[int, ...], channels: int = 2) -> tuple[int, ...]:
    """The output spatial shape onnxruntime gives the layer on zeros(1, channels, *size);
    raises OnnxRejected for any error, from building the model to running it."""
    try:
        session = ort.InferenceSession(build(layer, tuple(size), channels), _OPTIONS,
                                       providers=["CPUExecutionProvider"])
        (y,) = session.run(None, {"X": np.zeros((1, channels, *size), np.float32)})
    except Exception as exc:  # onnx, onnxruntime and our own KeyError alike: a verdict
        raise OnnxRejected(exc) from exc
    return tuple(int(n) for n in y.shape[2:])


def spec_shape(layer: Mapping[str, Any], size: tuple[int, ...], channels: int = 2) -> tuple[int, ...]:
    """The output spatial shape ONNX's own shape inference gives the layer (the spec's
    reading, which onnxruntime does not always follow)."""
    model = onnx.load_from_string(build(layer, tuple(size), channels))
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    return tuple(d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim[2:])
