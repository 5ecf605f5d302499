"""Export a forward document (a solution, a plan) as PyTorch code that runs.

The code is an nn.Module: one attribute per layer, built with PyTorch's own
arguments, and a forward() that wires the named inputs, skips (torch.cat) and
residual sums (+) as the document says.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from ._document import Add, Concat, Crop, ForwardRequest
from ._forward import forward, parse, per_axis

_CLASSES = {
    "conv": "Conv{n}d", "conv_transpose": "ConvTranspose{n}d", "max_pool": "MaxPool{n}d",
    "avg_pool": "AvgPool{n}d", "adaptive_avg_pool": "AdaptiveAvgPool{n}d",
    "adaptive_max_pool": "AdaptiveMaxPool{n}d",
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
    if base[0].isdigit() or keyword.iskeyword(base) or base in ("x", "input", "forward", "torch", "nn"):
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


def to_torch(document: ForwardRequest | dict[str, Any], class_name: str = "Net") -> str:
    """PyTorch source for the document's network (checked by the forward engine first).

    Channel counts that the document leaves out are 1 at the input and unchanged
    through a layer without out_channels; the code says so.
    """
    doc: ForwardRequest = parse(ForwardRequest, document)
    report = forward(doc)  # refuses what PyTorch would refuse, before any code is written
    ndim = len(doc.input_size)
    in_channels = doc.in_channels or 1
    taken: set[str] = set()
    names = {"input": "x"}
    channels = {"x": in_channels}
    init, body = [], []
    previous = "x"
    helpers = False  # center_crop is written out only when used
    for index, (layer, rep) in enumerate(zip(doc.layers, report.layers, strict=True)):
        var = _identifier(layer.name, index, taken)
        where = ("layers", index)
        if isinstance(layer, Crop):
            src = previous if layer.input is None else names[layer.input]
            body.append(f"{var} = center_crop({src}, {names[layer.to]})  # {' x '.join(map(str, rep.output_size))}")
            channels[var] = channels[src]
            helpers = True
        elif isinstance(layer, Concat | Add):
            ins = [names[n] for n in layer.inputs]
            if isinstance(layer, Concat):
                body.append(f"{var} = torch.cat([{', '.join(ins)}], dim=1)")
                channels[var] = sum(channels[i] for i in ins)
            else:
                body.append(f"{var} = {' + '.join(ins)}")
                channels[var] = channels[ins[0]]
        else:
            src = previous if layer.input is None else names[layer.input]
            cin = channels[src]
            cls = "Upsample" if layer.type == "upsample" else _CLASSES[layer.type].format(n=ndim)
            args: list[str] = []
            if layer.type in ("conv", "conv_transpose"):
                cout = layer.out_channels or cin
                args += [str(cin), str(cout), f"kernel_size={_arg(per_axis(layer.kernel_size, ndim, where))}",
                         f"stride={_arg(per_axis(layer.stride, ndim, where))}"]
                padding = layer.padding
                args.append(f"padding={padding!r}" if isinstance(padding, str)
                            else f"padding={_arg(per_axis(padding, ndim, where))}")
                if layer.type == "conv_transpose":
                    args.append(f"output_padding={_arg(per_axis(layer.output_padding, ndim, where))}")
                args += [f"dilation={_arg(per_axis(layer.dilation, ndim, where))}", f"groups={layer.groups}",
                         f"bias={layer.bias}"]
                channels[var] = cout
            elif layer.type in ("max_pool", "avg_pool"):
                kernel = per_axis(layer.kernel_size, ndim, where)
                stride = kernel if layer.stride is None else per_axis(layer.stride, ndim, where)
                args += [f"kernel_size={_arg(kernel)}", f"stride={_arg(stride)}",
                         f"padding={_arg(per_axis(layer.padding, ndim, where))}"]
                if layer.type == "max_pool":
                    args.append(f"dilation={_arg(per_axis(layer.dilation, ndim, where))}")
                args.append(f"ceil_mode={layer.ceil_mode}")
                channels[var] = cin
            elif layer.type == "upsample":
                if layer.size is not None:
                    args.append(f"size={_arg(per_axis(layer.size, ndim, where))}")
                else:
                    args.append(f"scale_factor={_arg(tuple(float(s) for s in per_axis(layer.scale_factor, ndim, where)))}")
                args.append(f"mode={layer.mode!r}")
                channels[var] = cin
            else:
                args.append(f"output_size={_arg(per_axis(layer.output_size, ndim, where))}")
                channels[var] = cin
            init.append(f"self.{var} = nn.{cls}({', '.join(args)})")
            body.append(f"{var} = self.{var}({src})  # {' x '.join(map(str, rep.output_size))}")
        names[layer.name or f"#{index}"] = var
        previous = var
    size = " x ".join(map(str, doc.input_size))
    out = " x ".join(map(str, report.output_size))
    lines = [
        '"""Generated by convsolve: every size below was computed by its forward engine."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        *(_CENTER_CROP if helpers else []),
        f"class {class_name}(nn.Module):",
        f'    """{size} x {in_channels} channels in, {out} x {channels[previous]} channels out."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *(f"        {line}" for line in init),
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *(f"        {line}" for line in body),
        f"        return {previous}",
        "",
        "",
        'if __name__ == "__main__":',
        f"    print({class_name}()(torch.zeros(1, {in_channels}, {', '.join(map(str, doc.input_size))})).shape)",
        "",
    ]
    if doc.in_channels is None:
        lines.insert(2, "# The document gave no channel counts: 1 at the input, kept by layers without out_channels.")
    return "\n".join(lines)
