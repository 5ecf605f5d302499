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

Channel counts are forward's; those it leaves open (no in_channels, a conv without
out_channels) are picked to fit every groups, declared in_channels and add, and the code
says which.  Layer names become identifiers that Python, nn.Module and Keras take as
the document's own: normalized as Python reads them, unique, never a name the code uses.
"""

from __future__ import annotations

from typing import Any

from ..contract import Add, Concat, Crop, ForwardRequest, parse
from ..errors import DocumentError
from ..rules import CONVENTION
from .codegen import Walk, arg, class_identifier, keras_name, python_chars, show_sizes

_CLASSES = {
    "conv": "Conv{n}d", "conv_transpose": "ConvTranspose{n}d", "max_pool": "MaxPool{n}d",
    "avg_pool": "AvgPool{n}d", "adaptive_avg_pool": "AdaptiveAvgPool{n}d",
    "adaptive_max_pool": "AdaptiveMaxPool{n}d", "identity": "Identity",
}
_KERAS = {
    "conv": "Conv{n}D", "conv_transpose": "Conv{n}DTranspose", "max_pool": "MaxPooling{n}D",
    "avg_pool": "AveragePooling{n}D", "adaptive_avg_pool": "GlobalAveragePooling{n}D",
    "adaptive_max_pool": "GlobalMaxPooling{n}D", "identity": "Identity",
}

_NORMS = {"batch": "BatchNorm{n}d", "instance": "InstanceNorm{n}d"}
_KERAS_NORMS = {"batch": "BatchNormalization", "layer": "LayerNormalization", "group": "GroupNormalization",
                "instance": "GroupNormalization"}

_LAYER_NORM = [
    "class LayerNorm2d(nn.LayerNorm):",
    '    """A LayerNorm over the channels of a (N, C, *spatial) tensor, as timm\'s LayerNorm2d."""',
    "",
    "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
    "        return super().forward(x.movedim(1, -1)).movedim(-1, 1)",
    "",
    "",
]

_PAD_TO = [
    "def pad_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:",
    '    """x padded (or cropped, where larger) around its centre to the spatial size of `like`."""',
    "    diffs = [b - a for a, b in zip(x.shape[2:], like.shape[2:])]",
    "    return nn.functional.pad(x, [p for d in reversed(diffs) for p in (d // 2, d - d // 2)])",
    "",
    "",
]

_CENTER_CROP = [
    "def center_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:",
    '    """x cropped to the spatial size of `like`, keeping its centre (the U-Net paper\'s skips)."""',
    "    crops = [slice((a - b) // 2, (a - b) // 2 + b) for a, b in zip(x.shape[2:], like.shape[2:])]",
    "    return x[(slice(None), slice(None), *crops)]",
    "",
    "",
]


# Names the generated code uses itself, which a layer's variable (a local of forward() or
# of the Keras builder, and an attribute of the nn.Module) must not take: `self.training =
# nn.Conv2d(...)` would replace the flag, `self.to = ...` the method.  The public
# attributes of torch.nn.Module are listed here (a test checks the list against torch).
def _torch_pads(pads: list[tuple[int, int]]) -> str:
    """A Pad module's argument: the last axis first, (begin, end) each."""
    return repr(tuple(x for pair in reversed(pads) for x in pair))


def to_torch(document: ForwardRequest | dict[str, Any], class_name: str = "Net") -> str:
    """PyTorch source for the document's network (checked by the forward engine first).

    Channel counts are forward's; those the document leaves open are picked to fit (see
    `_pick_channels`), and the code says so.
    """
    doc: ForwardRequest = parse(ForwardRequest, document)
    class_name = class_identifier(class_name)
    walk = Walk(doc)
    ndim, native = walk.ndim, CONVENTION[doc.convention].native_code == "torch"
    init: list[str] = []
    body: list[str] = []
    notes: set[str] = set()
    helpers: set[str] = set()  # center_crop and LayerNorm2d are written out only when used
    # The tensors that are (N, features) in torch: a flatten's and a linear's; any other
    # layer reads them as convsolve does, (N, features, 1, ...).
    flat = set()
    unflat = ", 1" * ndim

    for index, (layer, rep) in enumerate(zip(doc.layers, walk.report.layers, strict=True)):
        var = walk.vars[index + 1]
        if layer.type in ("linear", "flatten"):
            flat.add(index + 1)
            sources = [walk.vars[t] if t in flat or layer.type == "flatten" else f"torch.flatten({walk.vars[t]}, 1)"
                       for t in walk.sources[index]]
        else:
            sources = [f"{walk.vars[t]}.view(-1, {walk.channels[t]}{unflat})" if t in flat else walk.vars[t]
                       for t in walk.sources[index]]
        src, cin, cout = sources[0], walk.channels[walk.sources[index][0]], walk.channels[index + 1]
        note = f"  # {cout} features" if index + 1 in flat else f"  # {show_sizes(rep.output_size)}"
        if isinstance(layer, Crop):
            body.append(f"{var} = center_crop({src}, {sources[1]}){note}")
            helpers.add("crop")
            continue
        if layer.type == "match":
            if layer.by == "pad":
                body.append(f"{var} = pad_to({src}, {sources[1]}){note}")
                helpers.add("pad_to")
            else:
                mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim] if layer.mode == "linear" else layer.mode
                body.append(f"{var} = nn.functional.interpolate({src}, size={sources[1]}.shape[2:], mode={mode!r})"
                            f"{note}")
            continue
        if isinstance(layer, Concat):
            body.append(f"{var} = torch.cat([{', '.join(sources)}], dim=1)")
            continue
        if isinstance(layer, Add):
            body.append(f"{var} = {' + '.join(sources)}")
            continue
        if layer.type == "pad":
            begin, end = walk.axes(layer, "padding", index), walk.axes(
                layer, "padding" if layer.padding_end is None else "padding_end", index)
            cls = {"constant": "ZeroPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
                   "circular": "CircularPad"}[layer.mode] + f"{ndim}d"
            args = [_torch_pads(list(zip(begin, end, strict=True)))]
        elif layer.type == "flatten":
            cls, args = "Flatten", []
        elif layer.type == "linear":
            cls, args = "Linear", [str(cin), str(cout), f"bias={layer.bias}"]
        elif layer.type == "norm":
            affine = f"affine={layer.affine}" if layer.norm != "layer" else f"elementwise_affine={layer.affine}"
            if layer.norm == "group":
                cls, args = "GroupNorm", [str(layer.num_groups), str(cin), affine]
            elif layer.norm == "layer":
                cls, args = "LayerNorm2d", [str(cin), affine]
                helpers.add("layer_norm")
            else:
                cls, args = _NORMS[layer.norm].format(n=ndim), [str(cin), affine]
                if layer.track_running_stats is not None:
                    args.append(f"track_running_stats={layer.track_running_stats}")
        else:
            cls = "Upsample" if layer.type == "upsample" else _CLASSES[layer.type].format(n=ndim)
            args = []
        before: list[tuple[int, int]] | None = None  # a pad before the layer
        after: list[tuple[int, int]] | None = None  # a pad after it (negative: a crop)
        if layer.type in ("conv", "conv_transpose"):
            k, s, d = (walk.axes(layer, f, index) for f in ("kernel_size", "stride", "dilation"))
            args += [str(cin), str(cout), f"kernel_size={arg(k)}", f"stride={arg(s)}"]
            if native:
                padding = layer.padding
                args.append(f"padding={padding!r}" if isinstance(padding, str)
                            else f"padding={arg(walk.axes(layer, 'padding', index))}")
                if layer.type == "conv_transpose":
                    op = (0,) * ndim if layer.output_padding is None else walk.axes(layer, "output_padding", index)
                    args.append(f"output_padding={arg(op)}")
            elif layer.type == "conv":
                before = [(b, e) for b, e in rep.padding or []]
            else:  # cut (b, c - op) from the full output; a negative end is output_padding (or zeros)
                op = (0,) * ndim if layer.output_padding is None else walk.axes(layer, "output_padding", index)
                cuts = [(b, c - o) for (b, c), o in zip(rep.padding or [], op, strict=True)]
                extra = [max(0, -c) if max(0, -c) < max(sa, da) else 0 for (_, c), sa, da in zip(cuts, s, d, strict=True)]
                after = [(-b, -(c + x)) for (b, c), x in zip(cuts, extra, strict=True)]
                if any(extra):
                    args.append(f"output_padding={arg(extra)}")
            args += [f"dilation={arg(d)}", f"groups={layer.groups}", f"bias={layer.bias}"]
        elif layer.type in ("max_pool", "avg_pool"):
            k, s = walk.axes(layer, "kernel_size", index), walk.stride(layer, index)
            d = walk.axes(layer, "dilation", index) if layer.type == "max_pool" else (1,) * ndim
            args += [f"kernel_size={arg(k)}", f"stride={arg(s)}"]
            if native:
                args.append(f"padding={arg(walk.axes(layer, 'padding', index))}")
            else:
                # The pad that gives exactly the reported windows: in ceil mode the end's pad
                # to the last window's end; in floor mode the convention's own, or that when
                # the window is longer than the padded input (ONNX: a span rounded toward 0).
                ends = [(o - 1) * sa + da * (ka - 1) + 1 - i - b for (b, _), o, i, sa, ka, da in zip(
                    rep.padding or [], rep.output_size, rep.input_size, s, k, d, strict=True)]
                before = [(b, end if layer.ceil_mode else max(c, end))
                          for (b, c), end in zip(rep.padding or [], ends, strict=True)]
                if layer.type == "avg_pool" and any(p != (0, 0) for p in before):
                    notes.add("avg")
            if layer.type == "max_pool":
                args.append(f"dilation={arg(d)}")
            if native:
                args.append(f"ceil_mode={layer.ceil_mode}")
        elif layer.type == "upsample":
            mode: str = layer.mode
            if not native:  # the size itself (ONNX rounds scales in float32), and Resize's
                # one "linear" as PyTorch names it by the number of axes
                args.append(f"size={arg(rep.output_size)}")
                mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim] if mode == "linear" else mode
            elif layer.size is not None:
                args.append(f"size={arg(walk.axes(layer, 'size', index))}")
            else:
                args.append(f"scale_factor={arg(tuple(float(x) for x in walk.axes(layer, 'scale_factor', index)))}")
            args.append(f"mode={mode!r}")
        elif "output_size" in type(layer).model_fields:
            args.append(f"output_size={arg(walk.axes(layer, 'output_size', index))}")
        module = f"{'' if cls == 'LayerNorm2d' else 'nn.'}{cls}({', '.join(args)})"
        pad_before = before is not None and any(p != (0, 0) for p in before)
        pad_after = after is not None and any(p != (0, 0) for p in after)
        if pad_before or pad_after:  # one module all the same: the pad is part of the layer
            fill = 'float("-inf")' if layer.type == "max_pool" else None
            pad = (f"nn.ConstantPad{ndim}d({_torch_pads(before or after or [])}, {fill})" if fill
                   else f"nn.ZeroPad{ndim}d({_torch_pads(before or after or [])})")
            module = f"nn.Sequential({pad}, {module})" if pad_before else f"nn.Sequential({module}, {pad})"
        init.append(f"self.{var} = {module}")
        body.append(f"{var} = self.{var}({src}){note}")

    last = walk.vars[-1]
    header = ['"""Generated by convsolve: every size below was computed by its forward engine."""', ""]
    header += walk.channel_note()
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
        *(_CENTER_CROP if "crop" in helpers else []),
        *(_PAD_TO if "pad_to" in helpers else []),
        *(_LAYER_NORM if "layer_norm" in helpers else []),
        f"class {class_name}(nn.Module):",
        (f'    """{show_sizes(doc.input_size)} x {walk.channels[0]} channels in, '
         f'{show_sizes(walk.report.output_size)} x {walk.channels[-1]} channels out."""'),
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
        f"    print({class_name}()(torch.zeros(1, {walk.channels[0]}, {', '.join(map(str, doc.input_size))})).shape)",
        "",
    ]
    return "\n".join(lines)


def to_keras(document: ForwardRequest | dict[str, Any], name: str = "Net") -> str:
    """Keras 3 source (the functional API, channels last) for a document in the
    tensorflow convention: `build_<name>()` (lower case) returns the keras.Model."""
    doc: ForwardRequest = parse(ForwardRequest, document)
    if CONVENTION[doc.convention].native_code != "keras":
        keras = next(c.name for c in CONVENTION.values() if c.native_code == "keras")
        raise DocumentError(f"Keras code is written for the {keras} convention, not {doc.convention!r}: "
                            f'set "convention": "{keras}" (its sizes differ)', loc=("convention",))
    builder = "build_" + python_chars(name.lower())
    walk = Walk(doc)
    ndim = walk.ndim
    body: list[str] = []
    # Every layer named: the document's names (as TensorFlow takes them) first, then the
    # variables' for the others, so that none is named twice, with Keras' defaults either.
    taken = {"input"}  # the Input's
    named = {t: keras_name(layer.name, taken) for t, layer in enumerate(doc.layers) if layer.name}
    labels = [named.get(t) or keras_name(walk.vars[t + 1], taken) for t in range(len(doc.layers))]

    flat = set()  # the tensors that are (N, features) in Keras: a Flatten's, and Dense layers' on them
    for index, (layer, rep) in enumerate(zip(doc.layers, walk.report.layers, strict=True)):
        var = walk.vars[index + 1]
        if layer.type == "flatten" or layer.type == "linear" and walk.sources[index][0] in flat:
            flat.add(index + 1)
        sources = [f"layers.Reshape({(1,) * ndim + (walk.channels[t],)})({walk.vars[t]})"
                   if t in flat and index + 1 not in flat else walk.vars[t] for t in walk.sources[index]]
        src, cout = sources[0], walk.channels[index + 1]
        label = f"name={labels[index]!r}"
        note = f"  # {show_sizes(rep.output_size)}"
        if isinstance(layer, Crop):
            crops = [((a - b) // 2, a - b - (a - b) // 2)
                     for a, b in zip(walk.sizes[walk.sources[index][0]], rep.output_size, strict=True)]
            body.append(f"{var} = layers.Cropping{ndim}D({crops[0] if ndim == 1 else tuple(crops)}, {label})({src}){note}")
            continue
        if layer.type == "match" and layer.by == "pad":  # as F.pad: padded where smaller, cropped where larger
            diffs = [b - a for a, b in zip(walk.sizes[walk.sources[index][0]], rep.output_size, strict=True)]
            steps = [(cls, sides) for cls, sides in (
                ("ZeroPadding", [(d // 2, d - d // 2) if d > 0 else (0, 0) for d in diffs]),
                ("Cropping", [(-(d // 2), -(d - d // 2)) if d < 0 else (0, 0) for d in diffs]))
                if any(p != (0, 0) for p in sides)]
            out = src
            for i, (cls, sides) in enumerate(steps):
                named = f", {label}" if i == len(steps) - 1 else ""
                out = f"layers.{cls}{ndim}D({sides[0] if ndim == 1 else tuple(sides)}{named})({out})"
            body.append(f"{var} = {out if steps else f'layers.Identity({label})({src})'}{note}")
            continue
        if layer.type == "match":  # interpolated to the reference's size, which forward knows
            if ndim != 2:
                raise DocumentError(f"layers.{index}: Keras resizes images (2 axes), not {ndim}", loc=("layers", index))
            body.append(f"{var} = layers.Resizing({rep.output_size[0]}, {rep.output_size[1]}, "
                        f"interpolation={layer.mode!r}, {label})({src}){note}")
            continue
        if isinstance(layer, Concat | Add):
            cls, axis = ("Concatenate", "axis=-1, ") if isinstance(layer, Concat) else ("Add", "")
            body.append(f"{var} = layers.{cls}({axis}{label})([{', '.join(sources)}]){note}")
            continue
        if layer.type in ("conv", "conv_transpose"):
            args = [str(cout), f"kernel_size={arg(walk.axes(layer, 'kernel_size', index))}",
                    f"strides={arg(walk.axes(layer, 'stride', index))}", f"padding={layer.padding!r}"]
            if layer.type == "conv_transpose" and layer.output_padding is not None:
                args.append(f"output_padding={arg(walk.axes(layer, 'output_padding', index))}")
            args.append(f"dilation_rate={arg(walk.axes(layer, 'dilation', index))}")
            if layer.groups != 1:
                if layer.type == "conv_transpose":
                    raise DocumentError(f"layers.{index}.groups: Keras' Conv{ndim}DTranspose has no groups",
                                        loc=("layers", index, "groups"))
                args.append(f"groups={layer.groups}")
            args.append(f"use_bias={layer.bias}")
            cls = _KERAS[layer.type].format(n=ndim)
        elif layer.type in ("max_pool", "avg_pool"):
            args = [f"pool_size={arg(walk.axes(layer, 'kernel_size', index))}",
                    f"strides={arg(walk.stride(layer, index))}", f"padding={layer.padding!r}"]
            cls = _KERAS[layer.type].format(n=ndim)
        elif layer.type == "upsample":
            if layer.size is not None:
                cls, args = "Resizing", [*map(str, walk.axes(layer, "size", index)), f"interpolation={layer.mode!r}"]
            else:
                cls = f"UpSampling{ndim}D"
                scale = tuple(int(x) for x in walk.axes(layer, "scale_factor", index))
                args = [f"size={arg(scale) if ndim > 1 else scale[0]}"]
                if ndim == 2:
                    args.append(f"interpolation={layer.mode!r}")
        elif "output_size" in type(layer).model_fields:  # an adaptive pool to 1: a global pool
            cls, args = _KERAS[layer.type].format(n=ndim), ["keepdims=True"]
        elif layer.type == "pad":
            if layer.mode != "constant":
                raise DocumentError(f"layers.{index}.mode: Keras pads with zeros only (ZeroPadding{ndim}D), not "
                                    f"{layer.mode!r}", loc=("layers", index, "mode"))
            sides = list(zip(walk.axes(layer, "padding", index), walk.axes(
                layer, "padding" if layer.padding_end is None else "padding_end", index), strict=True))
            cls, args = f"ZeroPadding{ndim}D", [repr(sides[0] if ndim == 1 else tuple(sides))]
        elif layer.type == "flatten":
            cls, args = "Flatten", []
        elif layer.type == "linear":  # Dense acts on the last axis: the channels
            cls, args = "Dense", [str(cout), f"use_bias={layer.bias}"]
        elif layer.type == "norm":
            cls = _KERAS_NORMS[layer.norm]
            args = ([f"groups={-1 if layer.norm == 'instance' else layer.num_groups}"] if cls == "GroupNormalization"
                    else []) + [f"center={layer.affine}", f"scale={layer.affine}"]
        else:  # a layer without settings
            cls, args = _KERAS[layer.type].format(n=ndim), []
        body.append(f"{var} = layers.{cls}({', '.join([*args, label])})({src}){note}")

    shape = ", ".join(map(str, [*doc.input_size, walk.channels[0]]))
    lines = [
        '"""Generated by convsolve: every size below was computed by its forward engine."""',
        "",
        *walk.channel_note(),
        "import keras",
        "from keras import layers",
        "",
        "",
        f"def {builder}() -> keras.Model:",
        (f'    """{show_sizes(doc.input_size)} x {walk.channels[0]} channels in, '
         f'{show_sizes(walk.report.output_size)} x {walk.channels[-1]} channels out (channels last)."""'),
        f"    x = keras.Input(shape=({shape},), name='input')",
        *(f"    {line}" for line in body),
        f"    return keras.Model(x, {walk.vars[-1]}, name={keras_name(name, set())!r})",
        "",
        "",
        'if __name__ == "__main__":',
        f"    print({builder}().output_shape)",
        "",
    ]
    return "\n".join(lines)
