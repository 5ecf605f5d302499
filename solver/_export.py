"""Export a forward document (a solution, a plan) as code that runs: PyTorch or Keras.

`to_torch` writes an nn.Module: one attribute per layer, built with PyTorch's own
arguments, and a forward() that wires the named inputs, skips (torch.cat) and residual
sums (+) as the document says.  A document in the tensorflow or onnx convention becomes
its PyTorch translation: every layer with padding 0 and the padding that convention
applied written out as a ZeroPad / ConstantPad module (before a conv or pool; after a
transposed conv, where a negative pad crops),
so that the sizes are the same.  `to_keras` writes the Keras functional model of a
tensorflow-convention document.  The forward engine checks the document first and its
reported sizes annotate every line.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import Any

from ._document import Add, Concat, Crop, ForwardRequest, LayerReport
from ._errors import DocumentError
from ._forward import forward, parse, per_axis

_CLASSES = {
    "conv": "Conv{n}d", "conv_transpose": "ConvTranspose{n}d", "max_pool": "MaxPool{n}d",
    "avg_pool": "AvgPool{n}d", "adaptive_avg_pool": "AdaptiveAvgPool{n}d",
    "adaptive_max_pool": "AdaptiveMaxPool{n}d",
}
_KERAS = {
    "conv": "Conv{n}D", "conv_transpose": "Conv{n}DTranspose", "max_pool": "MaxPooling{n}D",
    "avg_pool": "AveragePooling{n}D", "adaptive_avg_pool": "GlobalAveragePooling{n}D",
    "adaptive_max_pool": "GlobalMaxPooling{n}D",
}

_CENTER_CROP = [
    "def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:",
    '    """x cropped to the spatial size of `like`, keeping its centre (the U-Net paper\'s skips)."""',
    "    crops = [slice((a - b) // 2, (a - b) // 2 + b) for a, b in zip(x.shape[2:], like.shape[2:])]",
    "    return x[(slice(None), slice(None), *crops)]",
    "",
    "",
]


def _identifier(name: str | None, index: int, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name or "") or f"layer{index}"
    if base[0].isdigit() or keyword.iskeyword(base) or base in (
            "x", "input", "forward", "torch", "nn", "keras", "layers", "inputs"):
        base = f"layer_{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def _arg(value: Any) -> str:
    """A per-axis tuple, shortened to an int when every axis agrees."""
    if isinstance(value, tuple | list):
        return repr(value[0]) if len(set(value)) == 1 else repr(tuple(value))
    return repr(value)


def _sizes(sizes: list[int]) -> str:
    return " x ".join(map(str, sizes))


class _Walk:
    """The graph walk both exporters share: tensor names, sources and channel counts."""

    def __init__(self, doc: ForwardRequest) -> None:
        self.doc = doc
        self.report = forward(doc)  # refuses what the convention refuses, before any code
        self.ndim = len(doc.input_size)
        self.in_channels = doc.in_channels or 1
        self.taken: set[str] = set()
        self.names = {"input": "x"}
        self.channels = {"x": self.in_channels}
        self.sizes = {"x": list(doc.input_size)}

    def run(self, emit: Callable[[str, Any, LayerReport, list[str]], int]) -> str:
        """Calls emit(var, layer, report, sources) per layer, which returns the channels
        of var; returns the last tensor's name."""
        previous = "x"
        for index, (layer, rep) in enumerate(zip(self.doc.layers, self.report.layers, strict=True)):
            var = _identifier(layer.name, index, self.taken)
            if isinstance(layer, Concat | Add):
                sources = [self.names[n] for n in layer.inputs]
            else:
                sources = [previous if layer.input is None else self.names[layer.input]]
                if isinstance(layer, Crop):
                    sources.append(self.names[layer.to])
            self.channels[var] = emit(var, layer, rep, sources)
            self.sizes[var] = rep.output_size
            self.names[layer.name or f"#{index}"] = var
            previous = var
        return previous

    def axes(self, layer: Any, field: str, index: int) -> tuple[Any, ...]:
        return per_axis(getattr(layer, field), self.ndim, ("layers", index, field))

    def stride(self, layer: Any, index: int) -> tuple[int, ...]:
        """A pool's stride defaults to its kernel."""
        return self.axes(layer, "kernel_size" if layer.stride is None else "stride", index)


def _torch_pads(pads: list[tuple[int, int]]) -> str:
    """A Pad module's argument: the last axis first, (begin, end) each."""
    return repr(tuple(x for pair in reversed(pads) for x in pair))


def to_torch(document: ForwardRequest | dict[str, Any], class_name: str = "Net") -> str:
    """PyTorch source for the document's network (checked by the forward engine first).

    Channel counts that the document leaves out are 1 at the input and unchanged
    through a layer without out_channels; the code says so.
    """
    doc: ForwardRequest = parse(ForwardRequest, document)
    walk = _Walk(doc)
    ndim, native = walk.ndim, doc.convention == "pytorch"
    init: list[str] = []
    body: list[str] = []
    notes: set[str] = set()
    helpers = False  # center_crop is written out only when used

    def emit(var: str, layer: Any, rep: LayerReport, sources: list[str]) -> int:
        nonlocal helpers
        index, src = rep.index, sources[0]
        cin = walk.channels[src]
        note = f"  # {_sizes(rep.output_size)}"
        if isinstance(layer, Crop):
            body.append(f"{var} = center_crop({src}, {sources[1]}){note}")
            helpers = True
            return cin
        if isinstance(layer, Concat):
            body.append(f"{var} = torch.cat([{', '.join(sources)}], dim=1)")
            return sum(walk.channels[s] for s in sources)
        if isinstance(layer, Add):
            body.append(f"{var} = {' + '.join(sources)}")
            return cin
        cls = "Upsample" if layer.type == "upsample" else _CLASSES[layer.type].format(n=ndim)
        args: list[str] = []
        cout = cin
        before: list[tuple[int, int]] | None = None  # a pad before the layer
        after: list[tuple[int, int]] | None = None  # a pad after it (negative: a crop)
        if layer.type in ("conv", "conv_transpose"):
            cout = layer.out_channels or cin
            k, s, d = (walk.axes(layer, f, index) for f in ("kernel_size", "stride", "dilation"))
            args += [str(cin), str(cout), f"kernel_size={_arg(k)}", f"stride={_arg(s)}"]
            if native:
                padding = layer.padding
                args.append(f"padding={padding!r}" if isinstance(padding, str)
                            else f"padding={_arg(walk.axes(layer, 'padding', index))}")
                if layer.type == "conv_transpose":
                    op = (0,) * ndim if layer.output_padding is None else walk.axes(layer, "output_padding", index)
                    args.append(f"output_padding={_arg(op)}")
            elif layer.type == "conv":
                before = [(b, e) for b, e in rep.padding or []]
            else:  # cut (b, c - op) from the full output; a negative end is output_padding (or zeros)
                op = (0,) * ndim if layer.output_padding is None else walk.axes(layer, "output_padding", index)
                cuts = [(b, c - o) for (b, c), o in zip(rep.padding or [], op, strict=True)]
                extra = [max(0, -c) if max(0, -c) < max(sa, da) else 0 for (_, c), sa, da in zip(cuts, s, d, strict=True)]
                after = [(-b, -(c + x)) for (b, c), x in zip(cuts, extra, strict=True)]
                if any(extra):
                    args.append(f"output_padding={_arg(extra)}")
            args += [f"dilation={_arg(d)}", f"groups={layer.groups}", f"bias={layer.bias}"]
        elif layer.type in ("max_pool", "avg_pool"):
            k, s = walk.axes(layer, "kernel_size", index), walk.stride(layer, index)
            d = walk.axes(layer, "dilation", index) if layer.type == "max_pool" else (1,) * ndim
            args += [f"kernel_size={_arg(k)}", f"stride={_arg(s)}"]
            if native:
                args.append(f"padding={_arg(walk.axes(layer, 'padding', index))}")
            else:
                # The pad that gives exactly the reported windows: the convention's own in
                # floor mode; in ceil mode the end's pad to the last window's end.
                before = [(b, (o - 1) * sa + da * (ka - 1) + 1 - i - b if layer.ceil_mode else c)
                          for (b, c), o, i, sa, ka, da in zip(
                              rep.padding or [], rep.output_size, rep.input_size, s, k, d, strict=True)]
                if layer.type == "avg_pool" and any(p != (0, 0) for p in before):
                    notes.add("avg")
            if layer.type == "max_pool":
                args.append(f"dilation={_arg(d)}")
            if native:
                args.append(f"ceil_mode={layer.ceil_mode}")
        elif layer.type == "upsample":
            mode = layer.mode
            if not native:  # the size itself (ONNX rounds scales in float32), and Resize's
                # one "linear" as PyTorch names it by the number of axes
                args.append(f"size={_arg(rep.output_size)}")
                mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim] if mode == "linear" else mode
            elif layer.size is not None:
                args.append(f"size={_arg(walk.axes(layer, 'size', index))}")
            else:
                args.append(f"scale_factor={_arg(tuple(float(x) for x in walk.axes(layer, 'scale_factor', index)))}")
            args.append(f"mode={mode!r}")
        else:
            args.append(f"output_size={_arg(walk.axes(layer, 'output_size', index))}")
        module = f"nn.{cls}({', '.join(args)})"
        pad_before = before is not None and any(p != (0, 0) for p in before)
        pad_after = after is not None and any(p != (0, 0) for p in after)
        if pad_before or pad_after:  # one module all the same: the pad is part of the layer
            fill = 'float("-inf")' if layer.type == "max_pool" else None
            pad = (f"nn.ConstantPad{ndim}d({_torch_pads(before or after or [])}, {fill})" if fill
                   else f"nn.ZeroPad{ndim}d({_torch_pads(before or after or [])})")
            module = f"nn.Sequential({pad}, {module})" if pad_before else f"nn.Sequential({module}, {pad})"
        init.append(f"self.{var} = {module}")
        body.append(f"{var} = self.{var}({src}){note}")
        return cout

    last = walk.run(emit)
    header = ['"""Generated by convsolve: every size below was computed by its forward engine."""', ""]
    if doc.in_channels is None:
        header.append("# The document gave no channel counts: 1 at the input, kept by layers without out_channels.")
    if not native:
        header.append(f"# The {doc.convention} convention, translated: each layer pads nothing itself; a Pad "
                      "module applies the padding that convention applies (a negative pad crops).")
    if "avg" in notes:
        header.append("# Average pools here count the padded zeros; TensorFlow's and ONNX's "
                      "(count_include_pad=0) do not: same sizes, border values differ.")
    lines = [
        *header,
        "import torch",
        "from torch import nn",
        "",
        "",
        *(_CENTER_CROP if helpers else []),
        f"class {class_name}(nn.Module):",
        f'    """{_sizes(doc.input_size)} x {walk.in_channels} channels in, '
        f'{_sizes(walk.report.output_size)} x {walk.channels[last]} channels out."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(f"        {line}" for line in init),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *(f"        {line}" for line in body),
        f"        return {last}",
        "",
        "",
        'if __name__ == "__main__":',
        f"    print({class_name}()(torch.zeros(1, {walk.in_channels}, {', '.join(map(str, doc.input_size))})).shape)",
        "",
    ]
    return "\n".join(lines)


def to_keras(document: ForwardRequest | dict[str, Any], name: str = "Net") -> str:
    """Keras 3 source (the functional API, channels last) for a document in the
    tensorflow convention: `build_<name>()` (lower case) returns the keras.Model."""
    doc: ForwardRequest = parse(ForwardRequest, document)
    if doc.convention != "tensorflow":
        raise DocumentError(f"Keras code is written for the tensorflow convention, not {doc.convention!r}: "
                            'set "convention": "tensorflow" (its sizes differ)', loc=("convention",))
    walk = _Walk(doc)
    ndim = walk.ndim
    body: list[str] = []
    builder = "build_" + re.sub(r"\W", "_", name).lower()

    def emit(var: str, layer: Any, rep: LayerReport, sources: list[str]) -> int:
        index, src = rep.index, sources[0]
        cin = walk.channels[src]
        label = f", name={layer.name!r}" if layer.name else ""
        note = f"  # {_sizes(rep.output_size)}"
        if isinstance(layer, Crop):
            crops = [((a - b) // 2, a - b - (a - b) // 2) for a, b in zip(walk.sizes[src], rep.output_size, strict=True)]
            body.append(f"{var} = layers.Cropping{ndim}D({crops[0] if ndim == 1 else tuple(crops)}{label})({src}){note}")
            return cin
        if isinstance(layer, Concat | Add):
            cls = "Concatenate" if isinstance(layer, Concat) else "Add"
            args = ", ".join(["axis=-1"] * isinstance(layer, Concat) + [label.removeprefix(", ")] * bool(label))
            body.append(f"{var} = layers.{cls}({args})([{', '.join(sources)}]){note}")
            return sum(walk.channels[s] for s in sources) if isinstance(layer, Concat) else cin
        cout = cin
        if layer.type in ("conv", "conv_transpose"):
            cout = layer.out_channels or cin
            args = [str(cout), f"kernel_size={_arg(walk.axes(layer, 'kernel_size', index))}",
                    f"strides={_arg(walk.axes(layer, 'stride', index))}", f"padding={layer.padding!r}"]
            if layer.type == "conv_transpose" and layer.output_padding is not None:
                args.append(f"output_padding={_arg(walk.axes(layer, 'output_padding', index))}")
            args.append(f"dilation_rate={_arg(walk.axes(layer, 'dilation', index))}")
            if layer.groups != 1:
                if layer.type == "conv_transpose":
                    raise DocumentError(f"layers.{index}.groups: Keras' Conv{ndim}DTranspose has no groups",
                                        loc=("layers", index, "groups"))
                args.append(f"groups={layer.groups}")
            args.append(f"use_bias={layer.bias}")
            cls = _KERAS[layer.type].format(n=ndim)
        elif layer.type in ("max_pool", "avg_pool"):
            args = [f"pool_size={_arg(walk.axes(layer, 'kernel_size', index))}",
                    f"strides={_arg(walk.stride(layer, index))}", f"padding={layer.padding!r}"]
            cls = _KERAS[layer.type].format(n=ndim)
        elif layer.type == "upsample":
            if layer.size is not None:
                cls, args = "Resizing", [*map(str, walk.axes(layer, "size", index)), f"interpolation={layer.mode!r}"]
            else:
                cls = f"UpSampling{ndim}D"
                scale = tuple(int(x) for x in walk.axes(layer, "scale_factor", index))
                args = [f"size={_arg(scale) if ndim > 1 else scale[0]}"]
                if ndim == 2:
                    args.append(f"interpolation={layer.mode!r}")
        else:  # an adaptive pool to 1: a global pool keeping its axes
            cls, args = _KERAS[layer.type].format(n=ndim), ["keepdims=True"]
        body.append(f"{var} = layers.{cls}({', '.join(args)}{label})({src}){note}")
        return cout

    last = walk.run(emit)
    shape = ", ".join(map(str, [*doc.input_size, walk.in_channels]))
    lines = [
        '"""Generated by convsolve: every size below was computed by its forward engine."""',
        "",
        *(["# The document gave no channel counts: 1 at the input, kept by layers without out_channels."]
          if doc.in_channels is None else []),
        "import keras",
        "from keras import layers",
        "",
        "",
        f"def {builder}() -> keras.Model:",
        f'    """{_sizes(doc.input_size)} x {walk.in_channels} channels in, '
        f'{_sizes(walk.report.output_size)} x {walk.channels[last]} channels out (channels last)."""',
        f"    x = keras.Input(shape=({shape}))",
        *(f"    {line}" for line in body),
        f"    return keras.Model(x, {last}, name={name!r})",
        "",
        "",
        'if __name__ == "__main__":',
        f"    print({builder}().output_shape)",
        "",
    ]
    return "\n".join(lines)
