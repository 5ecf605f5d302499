"""The real Keras 3 layer (TensorFlow backend) for one convsolve layer, run on zeros.

`run_layer(layer, size)` builds the layer a Keras user would write (Conv2D,
Conv1DTranspose, MaxPooling3D, UpSampling2D, Resizing, ...), calls it eagerly on
`zeros((1, *size, channels))` (channels_last) and returns the output's spatial shape,
or raises `TFRejected` with the line of the framework's error that says what is wrong.
`run_values(layer, x)` runs it on x with every weight 1 (to see where it pads).
`run_model(code, builder, shape)` runs exported Keras code and returns the output size
of every layer.

TensorFlow runs in a worker process of its own (this file, run as a script), never in
the test process: loaded beside ortools and torch it crashes CP-SAT (a segmentation
fault in the CP-SAT tests, seen with tensorflow-cpu 2.21 and ortools 9.15).

>>> run_layer({"type": "conv", "kernel_size": [3], "stride": [2], "dilation": [1],
...            "padding": "same"}, (7,))
(4,)
>>> try:
...     run_layer({"type": "conv", "kernel_size": [3, 3], "stride": [2, 1],
...                "dilation": [1, 2], "padding": "valid"}, (9, 9))
... except TFRejected as exc:
...     print(exc.message)
`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=(2, 1) and dilation_rate=(1, 2)

What Keras/TF does (per axis; i input, k kernel, s stride, d dilation, e = d*(k-1)+1,
op output_padding; run with Keras 3.15.1 on tensorflow-cpu 2.21, oneDNN on as by default):
------------------------------------------------------------------------------------
- Conv*D.  'valid': floor((i - e)/s) + 1; below 1 Keras refuses ("Computed output size
  would be zero or negative").  'same': ceil(i/s), TF pads max(0, (ceil(i/s)-1)*s + e - i)
  in all, the odd pixel at the end (k 3, s 2 on 8: [0, 1]; on 7: [1, 1]).  At
  construction: kernel, strides, dilation_rate > 0, and not strides > 1 with
  dilation_rate > 1, on any axes; padding a mode ('causal' in 1d too); an int fails
  ("'int' object has no attribute 'lower'").
- Conv*DTranspose.  op None: i*s ('same'), i*s + max(e - s, 0) ('valid').  op given:
  (i-1)*s + e - 2*(e//2 if 'same' else 0) + op, with 0 <= op < s ("strictly less than
  `strides`": a dilation does not allow more, as it does in PyTorch); TF runs it as the
  gradient of a conv from that output and refuses it when the conv does not give i back
  (oneDNN: "could not create a primitive descriptor"; TF's kernels: "Size of out_backprop
  doesn't match computed"); only 'same' can fail.  An output of 0 (even kernel, 'same',
  i 1, op 0) comes back as an empty tensor.  The output is the full (i-1)*s + e cut by
  total//2 at the beginning, total = full - output (zeros appended when negative).
  Strides with dilation are refused as in Conv*D; a dilated one runs on oneDNN only
  (TF_ENABLE_ONEDNN_OPTS=0: "Current CPU implementations do not yet support dilation rates
  larger than 1").
- MaxPooling*D, AveragePooling*D.  Conv*D's sizes with e = k; strides default to the
  pool size; the 'same' average counts the inputs only, not the pads.  No dilation, no
  ceil mode.  Stride 0 passes construction: Keras' shape inference divides by it (inf or
  NaN errors), TF's op says "Stride must be > 0".  An empty output: Keras' shape
  inference refuses it, eager TF returns an empty tensor, or, MaxPooling on oneDNN,
  dies of SIGFPE (MaxPooling1D(2, 1) on 1): so the worker runs the shape inference first.
- UpSampling1D/2D/3D: i * size, integer sizes only (1.5 is a TypeError); interpolation in
  2d only: nearest, bilinear, bicubic (lanczos3, lanczos5, area), not linear/trilinear.
  Resizing(h, w): 2d only, the given size, the same interpolations.
- Global{Average,Max}Pooling{1,2,3}D(keepdims=True): 1 on every axis, any input.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Mapping
from typing import Any


class TFRejected(Exception):  # noqa: N818 - a verdict, as torch_ref.TorchRejected
    """Keras or TF refused the layer; `message` is the first line of its error."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


_worker: subprocess.Popen[str] | None = None


def _call(request: dict[str, Any]) -> Any:
    """One request to the Keras worker (started on first use); its answer or TFRejected."""
    global _worker
    if _worker is None or _worker.poll() is not None:
        # oneDNN pinned on (TensorFlow's default on these CPUs): without it TF refuses
        # dilated transposed convs, which the tensorflow convention accepts.
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": "", "TF_ENABLE_ONEDNN_OPTS": "1"}
        _worker = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, env=env)
        atexit.register(_stop, _worker)
    assert _worker.stdin is not None and _worker.stdout is not None
    _worker.stdin.write(json.dumps(request) + "\n")
    _worker.stdin.flush()
    line = _worker.stdout.readline()
    if not line:  # reap it, so the next call starts a new one
        _worker.wait()
        _worker = None
        raise RuntimeError("the Keras worker died")
    answer = json.loads(line)
    if "error" in answer:
        raise TFRejected(answer["error"])
    return answer["result"]


def _stop(worker: subprocess.Popen[str]) -> None:
    """End of input ends the worker; its pipes are closed here."""
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.close()
    try:
        worker.wait(10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    worker.stdout.close()


def run_layer(layer: Mapping[str, Any], size: tuple[int, ...], channels: int = 2) -> tuple[int, ...]:
    """The output spatial shape of one layer on zeros((1, *size, channels)), run eagerly.

    Raises TFRejected for anything Keras or TF raises, at construction, in Keras' shape
    inference (`compute_output_shape`, run first) or at call.  An output with a 0 on some
    axis is returned as is: the caller decides what it means.
    """
    return tuple(_call({"layer": dict(layer), "size": list(size), "channels": channels}))


def run_values(layer: Mapping[str, Any], x: Any) -> Any:
    """The layer's output on the array x (1, *size, channels), every kernel weight 1 and
    every bias 0: each output is the sum (max, mean) of the inputs its window reads."""
    import numpy  # here: `np` is the worker's

    return numpy.asarray(_call({"layer": dict(layer), "values": numpy.asarray(x).tolist()}), dtype="float32")


def run_model(code: str, builder: str, shape: tuple[int, ...]) -> list[list[int]]:
    """Exec Keras source, call `builder()` for the model and run it on zeros((1, *shape)):
    the spatial output size of every layer after the input, in order."""
    return list(_call({"code": code, "builder": builder, "shape": list(shape)}))


# --- the worker: Keras is imported here only ------------------------------------------

keras: Any = None
np: Any = None


def _layers() -> dict[str, tuple[Any, ...]]:
    return {
        "conv": (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D),
        "conv_transpose": (
            keras.layers.Conv1DTranspose,
            keras.layers.Conv2DTranspose,
            keras.layers.Conv3DTranspose,
        ),
        "max_pool": (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D),
        "avg_pool": (
            keras.layers.AveragePooling1D,
            keras.layers.AveragePooling2D,
            keras.layers.AveragePooling3D,
        ),
    }


class NotInKeras(ValueError):
    """No Keras layer takes this setting: a convsolve field Keras has no argument for."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no Keras layer has {what}")


def build(layer: Mapping[str, Any], ndim: int) -> keras.layers.Layer:
    """The Keras layer for one layer document (every value explicit, per-axis lists).

    Raises NotInKeras for what a Keras user cannot write: an adaptive pool to anything
    but 1, a dilated or ceil-mode pool, 1d/3d interpolation or resizing, onnx fields.
    """
    kind = layer["type"]
    for field in ("padding_end", "output_shape"):
        if layer.get(field) is not None:
            raise NotInKeras(field)
    if kind == "identity":
        return keras.layers.Identity()
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        if layer["output_size"] != [1] * ndim:
            raise NotInKeras(f"an adaptive pool to {layer['output_size']} (global pools give 1)")
        name = "GlobalAveragePooling" if kind == "adaptive_avg_pool" else "GlobalMaxPooling"
        return getattr(keras.layers, f"{name}{ndim}D")(keepdims=True)
    if kind == "upsample":
        mode = layer.get("mode", "nearest")
        if layer.get("size") is not None:  # 2d only: a fixed output size
            if ndim != 2:
                raise NotInKeras(f"a resize to a size in {ndim}d (Resizing is 2d)")
            return keras.layers.Resizing(*layer["size"], interpolation=mode)
        scale = tuple(layer["scale_factor"])
        if ndim != 2 and mode != "nearest":
            raise NotInKeras(f"interpolation '{mode}' in {ndim}d (UpSampling1D/3D repeat)")
        if ndim == 1:
            return keras.layers.UpSampling1D(size=scale[0])
        if ndim == 2:
            return keras.layers.UpSampling2D(size=scale, interpolation=mode)
        return keras.layers.UpSampling3D(size=scale)
    cls = _layers()[kind][ndim - 1]
    kernel = tuple(layer["kernel_size"])
    stride = None if layer.get("stride") is None else tuple(layer["stride"])
    if kind.endswith("pool"):
        if layer.get("ceil_mode"):
            raise NotInKeras("ceil_mode")
        if any(d != 1 for d in layer.get("dilation", [1])):
            raise NotInKeras("a dilated pool")
        return cls(pool_size=kernel, strides=stride, padding=layer.get("padding", "valid"))
    kwargs: dict[str, Any] = {}
    if kind == "conv_transpose":
        padding = layer.get("output_padding")
        kwargs["output_padding"] = None if padding is None else tuple(padding)
    return cls(
        filters=layer.get("out_channels") or 2,
        kernel_size=kernel,
        strides=stride or (1,) * ndim,
        padding=layer["padding"],
        dilation_rate=tuple(layer.get("dilation", [1] * ndim)),
        **kwargs,
    )


def model_json(code: str, builder: str, shapes: list[tuple[int, ...]]) -> tuple[str, list[dict[str, Any] | None]]:
    """Exec Keras source, call `builder()` for the model: its JSON (model.to_json()), and
    for each shape (spatial + channels) every layer's spatial output size by name, or
    None where Keras refuses it."""
    found = _call({"json_of": code, "builder": builder, "shapes": [list(shape) for shape in shapes]})
    return found[0], found[1]


def _answer(request: dict[str, Any]) -> Any:
    if "json_of" in request:
        namespace = {}
        exec(compile(request["json_of"], "<test model>", "exec"), namespace)  # noqa: S102 - the tests' own
        model = namespace[request["builder"]]()
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]  # a Sequential has none
        probe = keras.Model(model.inputs, [layer.output for layer in layers])
        sizes = []
        for shape in request["shapes"]:
            try:
                outs = probe(np.zeros((1, *shape), dtype="float32"))
            except Exception:  # noqa: BLE001 - Keras' refusals come as many exception types
                sizes.append(None)
                continue
            outs = outs if isinstance(outs, list) else [outs]
            # A flat (batch, features) tensor is 1 on every axis in convsolve.
            sizes.append({layer.name: [int(n) for n in y.shape[1:-1]] if len(y.shape) > 2 else [1] * (len(shape) - 1)
                          for layer, y in zip(layers, outs, strict=True)})
        return [model.to_json(), sizes]
    if "code" in request:
        namespace: dict[str, Any] = {}
        exec(compile(request["code"], "<exported>", "exec"), namespace)  # noqa: S102 - our own export
        model = namespace[request["builder"]]()
        probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:]])
        outs = probe(np.zeros((1, *request["shape"]), dtype="float32"))
        return [[int(n) for n in y.shape[1:-1]] for y in (outs if isinstance(outs, list) else [outs])]
    if "values" in request:
        x = np.asarray(request["values"], dtype="float32")
        layer = build(request["layer"], x.ndim - 2)
        layer.build(x.shape)
        layer.set_weights([np.ones_like(w) if w.ndim > 1 else np.zeros_like(w) for w in layer.get_weights()])
        return np.asarray(layer(x)).tolist()
    size = tuple(request["size"])
    layer = build(request["layer"], len(size))
    # Keras' shape inference first, as a functional model runs it: it refuses an empty
    # output, where eager MaxPooling under oneDNN dies of SIGFPE (MaxPooling1D(2, 1) on 1).
    layer.compute_output_shape((1, *size, request["channels"]))
    y = layer(np.zeros((1, *size, request["channels"]), dtype="float32"))
    return [int(n) for n in y.shape[1:-1]]


def _first_line(exc: BaseException) -> str:
    """The line of an error that says what is wrong: Keras wraps an op's error in
    "Exception encountered when calling X.call()." and ANSI bold; TF prefixes the op."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith("Exception encountered when calling")]
    return re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", said[0]) if said else repr(exc)


def _serve() -> None:
    """Answer one JSON request per line of stdin, on the real stdout: TF's own prints
    go to stderr."""
    global keras, np
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    warnings.simplefilter("ignore")
    import keras
    import numpy as np

    for line in sys.stdin:
        try:
            reply = {"result": _answer(json.loads(line))}
        except Exception as exc:  # ValueError, tf.errors.InvalidArgumentError, ...: a verdict
            reply = {"error": _first_line(exc)}
        answers.write(json.dumps(reply) + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve()
