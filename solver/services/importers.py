"""Importers: a model as it lives in code or in a file, read into a forward document.

`from_torch` reads a torch.nn.Module's spatial path: torch.fx traces its graph (every
conv, pool, upsample, concat and sum, with their wiring); when fx cannot trace it (control
flow that depends on the data), forward hooks watch one run on a zero input instead, which
sees the modules but not the functions between them, so it takes chains only.
`from_onnx` reads an ONNX graph's nodes (onnx convention), `from_keras` a Keras model's
config (tensorflow convention).  Whatever keeps sizes (activations, norms, dropout) is
folded away, and named in the answer; anything else that may change a size stops the
import with the module, node or layer, its type and why: nothing is silently dropped.

torch is not a dependency of convsolve (the model's own torch is used), nor is Keras (its
config is plain JSON); onnx is the `onnx` extra.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from ..contract import ForwardRequest, ImportedModel, KerasImport, OnnxImport, parse
from ..errors import ConvsolveError, DocumentError
from ..rules import PAD_MODES, UPSAMPLE_MODES


class ImportRefused(ConvsolveError):
    """Part of a model that convsolve cannot state yet: where, what and why."""

    kind = "import_refused"


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ConvsolveError("importing a PyTorch model needs torch: pip install torch") from None
    return torch


def from_torch(module: Any, input_size: list[int], in_channels: int | None = None) -> ImportedModel:
    """The forward document of a torch.nn.Module's spatial path, for input_size (the
    spatial size, 1 to 3 axes; in_channels defaults to the first conv's).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
    ...                           torch.nn.MaxPool2d(2))
    >>> imported = from_torch(net, [64, 64])
    >>> imported.traced_with, [layer["name"] for layer in imported.document["layers"]], imported.folded
    ('fx', ['0', '2'], ['1'])
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise DocumentError(f"from_torch takes a torch.nn.Module, not {type(module).__name__}")
    return _read("a PyTorch module", _from_torch, torch, module, input_size, in_channels)


def _from_torch(torch: Any, module: Any, input_size: list[int], in_channels: int | None) -> ImportedModel:
    class Tracer(torch.fx.Tracer):  # type: ignore[misc,name-defined]
        """fx's tracer, which keeps torch.nn's modules whole, keeping the channel LayerNorms whole too."""

        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return type(m).__name__ in CHANNEL_LAYER_NORMS or bool(super().is_leaf_module(m, qualname))

    try:
        traced = torch.fx.GraphModule(module, Tracer().trace(module))
    except Exception as exc:  # noqa: BLE001 - fx raises many kinds; hooks are the way left
        (layers, folded), how = _by_hooks(torch, module, input_size, in_channels, exc), "hooks"
    else:
        (layers, folded), how = _by_fx(torch, traced, len(input_size)), "fx"
    if in_channels is None:
        in_channels = next((layer["in_channels"] for layer in layers if "in_channels" in layer), None)
    document = {"input_size": list(input_size), "in_channels": in_channels, "layers": layers}
    parse(ForwardRequest, document)  # what the importer wrote is a valid document
    return ImportedModel(document=document, traced_with=how, folded=folded)


def spatial_ndim(module: Any) -> int | None:
    """How many spatial axes a module's first conv or pool has (None: no such module)."""
    torch = _torch()
    kinds = (torch.nn.modules.conv._ConvNd, torch.nn.modules.pooling._MaxPoolNd, torch.nn.modules.pooling._AvgPoolNd)
    for mod in module.modules():
        if isinstance(mod, kinds) and isinstance(mod.kernel_size, tuple):
            return len(mod.kernel_size)
        if isinstance(mod, kinds):  # an int kernel: the class says (MaxPool2d), when named so
            named = re.search(r"([123])d$", type(mod).__name__)
            return int(named.group(1)) if named else None
    return None


def import_model(spec: str, input_size: list[int] | None = None, in_channels: int | None = None,
                 kwargs: dict[str, Any] | None = None) -> ImportedModel:
    """A model named as the CLI names it: an ONNX file (.onnx), a Keras model (.keras, or
    its JSON in a .json file), or 'package.module:callable' called with kwargs;
    input_size one int for every axis, or one per axis; without it, the model's own, or
    224 on every axis for PyTorch (the design does not depend on it)."""
    if spec.endswith((".json", ".keras")):  # a Keras model's JSON, or its saved archive (config.json inside)
        import zipfile

        try:
            if spec.endswith(".keras"):
                with zipfile.ZipFile(spec) as archive:
                    text = archive.read("config.json").decode()
            else:
                with open(spec) as stream:
                    text = stream.read()
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise DocumentError(f"{spec}: cannot read a Keras model from it ({_first_line(exc)})") from None
        return from_keras(text, input_size)
    if spec.endswith(".onnx"):
        return from_onnx(spec, input_size)
    module = load_callable(spec)(**(kwargs or {}))
    ndim = spatial_ndim(module) or len(input_size or [0, 0])
    if input_size is None or len(input_size) == 1:
        input_size = (input_size or [224]) * ndim
    return from_torch(module, input_size, in_channels)


#: What a freed layer may take, per field: from the least value to this, or to the
#: imported value when that is larger.
FREED: dict[str, dict[str, tuple[int, int]]] = {
    "conv": {"kernel_size": (1, 7), "stride": (1, 4), "padding": (0, 3)},
    "conv_transpose": {"kernel_size": (1, 7), "stride": (1, 4), "padding": (0, 3), "output_padding": (0, 3)},
    "max_pool": {"kernel_size": (1, 4), "stride": (1, 4), "padding": (0, 2)},
    "avg_pool": {"kernel_size": (1, 4), "stride": (1, 4), "padding": (0, 2)},
}


def freed(document: dict[str, Any], patterns: list[str], target_size: Any) -> dict[str, Any]:
    """A solve document from a forward document: the layers whose names match one of the
    patterns (fnmatch: 'decoder.*') have their kernel, stride and padding (and a
    transposed conv's output_padding) searched (FREED), every other layer kept as it is,
    and the last layer's output must be target_size."""
    import fnmatch

    layers, matched = [], 0
    for layer in document["layers"]:
        domains = FREED.get(layer.get("type", ""))
        name = layer.get("name") or ""
        if domains and any(fnmatch.fnmatchcase(name, p) for p in patterns):
            matched += 1
            layer = {**layer, **{f: {"min": low, "max": max(high, *_ints_of(layer.get(f)))}
                                 for f, (low, high) in domains.items()}}
            layer.pop("padding_end", None)  # the padding searched alike on both sides
            if layer["type"] == "conv_transpose":  # output_padding must stay below stride: searched together
                layer["output_padding"] = {"min": 0, "max": layer["stride"]["max"] - 1}
        layers.append(layer)
    if not matched:
        names = [str(x.get("name")) for x in document["layers"]]
        raise DocumentError(f"--free {' '.join(patterns)}: no conv, transposed conv or pool is named so "
                            f"(the names: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})")
    return {**document, "layers": layers, "target_size": target_size}


def _ints_of(value: Any) -> list[int]:
    """The ints of a field's value (an int, a per-axis list), for a domain to hold them."""
    values = value if isinstance(value, list) else [value]
    return [x for x in values if isinstance(x, int) and not isinstance(x, bool)] or [0]


# --- what each module and function is ----------------------------------------------------

#: Modules that keep every size, folded away (norms are layers, with their parameters; a
#: PReLU's one or C parameters are not counted).
_KEEPS_SIZE = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Sigmoid",
    "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "Tanhshrink", "Threshold", "Softmax",
    "LogSoftmax", "Softmax2d", "LogSigmoid", "Hardshrink", "Softshrink",
    "LocalResponseNorm", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "AlphaDropout", "FeatureAlphaDropout", "Identity",
)
#: Classes of a LayerNorm over the channels of a (N, C, *spatial) tensor (timm's, ConvNeXt's).
CHANNEL_LAYER_NORMS = ("LayerNorm2d", "LayerNorm3d", "LayerNormChannelsFirst")
#: Functions and tensor methods that keep every size, applied to one tensor.
_KEEPS_SIZE_FUNCTIONS = {
    "relu", "relu_", "relu6", "leaky_relu", "gelu", "silu", "mish", "elu", "selu", "celu", "sigmoid", "tanh",
    "hardswish", "hardsigmoid", "hardtanh", "softplus", "softmax", "log_softmax", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "contiguous", "clone", "float",
    "half", "detach", "abs", "neg", "exp", "sqrt", "clamp", "clip", "stochastic_depth", "drop_path",
}
_SUMS = {operator.add, operator.iadd, operator.mul, operator.imul, operator.sub}


def _tuple(value: Any) -> Any:
    """A per-axis value as a list (torch's tuples, Keras' lists); an int stays an int (every axis)."""
    return list(value) if isinstance(value, tuple | list) else value


def _module_layer(torch: Any, name: str, mod: Any) -> dict[str, Any] | None:
    """A module as a layer; None when it keeps every size."""
    nn, kind = torch.nn, type(mod).__name__
    base = next(c for c in type(mod).__mro__ if c.__module__.startswith("torch.nn") or c is object)
    sizing = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
              nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd, nn.Upsample, nn.Flatten,
              nn.Linear)
    if isinstance(mod, sizing) and type(mod).forward is not base.forward:
        # (timm's Conv2dSame pads in its forward as TensorFlow's 'same' does: its padding field is not what runs)
        raise ImportRefused(f"{name} ({kind}): a {base.__name__} with a forward of its own, whose sizes its fields "
                            "do not tell", loc=(name,))
    if isinstance(mod, nn.modules.conv._ConvNd):
        if mod.padding_mode != "zeros":
            raise ImportRefused(f"{name} ({kind}): padding_mode '{mod.padding_mode}' is not stated by convsolve "
                                "yet (only zeros)", loc=(name,))
        transposed = isinstance(mod, nn.modules.conv._ConvTransposeNd)
        layer = {"type": "conv_transpose" if transposed else "conv", "kernel_size": list(mod.kernel_size),
                 "stride": list(mod.stride), "padding": _tuple(mod.padding), "dilation": list(mod.dilation),
                 "in_channels": mod.in_channels, "out_channels": mod.out_channels, "groups": mod.groups,
                 "bias": mod.bias is not None}
        if transposed:
            layer["output_padding"] = list(mod.output_padding)
        return layer
    if isinstance(mod, nn.modules.pooling._MaxPoolNd | nn.modules.pooling._AvgPoolNd):
        is_max = isinstance(mod, nn.modules.pooling._MaxPoolNd)
        if getattr(mod, "return_indices", False):
            raise ImportRefused(f"{name} ({kind}): return_indices gives two tensors", loc=(name,))
        layer = {"type": "max_pool" if is_max else "avg_pool", "kernel_size": _tuple(mod.kernel_size),
                 "stride": _tuple(mod.stride), "padding": _tuple(mod.padding), "ceil_mode": bool(mod.ceil_mode)}
        if is_max:
            layer["dilation"] = _tuple(mod.dilation)
        return layer
    if isinstance(mod, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd):
        if getattr(mod, "return_indices", False):
            raise ImportRefused(f"{name} ({kind}): return_indices gives two tensors", loc=(name,))
        avg = isinstance(mod, nn.modules.pooling._AdaptiveAvgPoolNd)
        return {"type": "adaptive_avg_pool" if avg else "adaptive_max_pool", "output_size": _tuple(mod.output_size)}
    if isinstance(mod, nn.Upsample):
        return _upsample(name, kind, mod.size, mod.scale_factor, mod.mode)
    pad = re.fullmatch(r"(Zero|Constant|Reflection|Replication|Circular)Pad([123])d", kind)
    if pad is not None and hasattr(mod, "padding"):  # (a ConstantPad's value changes values, not sizes)
        mode = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect", "Replication": "replicate",
                "Circular": "circular"}[pad[1]]
        return _explicit_pad(list(mod.padding), int(pad[2]), mode)
    if isinstance(mod, nn.Flatten):
        if (mod.start_dim, mod.end_dim) != (1, -1):
            raise ImportRefused(f"{name} ({kind}): flattens dims {mod.start_dim} to {mod.end_dim}; convsolve "
                                "flattens the channels and every spatial axis (dims 1 to -1)", loc=(name,))
        return {"type": "flatten"}
    if isinstance(mod, nn.Linear):
        return {"type": "linear", "in_features": mod.in_features, "out_features": mod.out_features,
                "bias": mod.bias is not None}
    norm = _torch_norm(nn, name, kind, mod)
    if norm is not None:
        return norm
    if kind in _KEEPS_SIZE:
        return None
    raise ImportRefused(f"{name} ({kind}): convsolve does not state this module's sizes yet", loc=(name,))


def _explicit_pad(amounts: list[int], ndim: int, mode: str) -> dict[str, Any]:
    """A pad as F.pad lists it (the last axis first, begin and end each) as a layer."""
    pairs = [(amounts[2 * j], amounts[2 * j + 1]) for j in range(len(amounts) // 2)][::-1]
    pairs = [(0, 0)] * (ndim - len(pairs)) + pairs  # axes F.pad's list leaves out: not padded
    begin, end = [b for b, _ in pairs], [e for _, e in pairs]
    return {"type": "pad", "padding": begin, **({"padding_end": end} if end != begin else {}), "mode": mode}


def _torch_norm(nn: Any, name: str, kind: str, mod: Any) -> dict[str, Any] | None:
    """A norm module as a layer (None: not a norm); with its parameters, which count."""
    if isinstance(mod, nn.modules.batchnorm._BatchNorm | nn.modules.instancenorm._InstanceNorm):
        return {"type": "norm", "norm": "instance" if "Instance" in kind else "batch",
                "num_features": mod.num_features, "affine": bool(mod.affine),
                "track_running_stats": bool(mod.track_running_stats)}
    if isinstance(mod, nn.GroupNorm):
        return {"type": "norm", "norm": "group", "num_groups": mod.num_groups, "num_features": mod.num_channels,
                "affine": bool(mod.affine)}
    if isinstance(mod, nn.LayerNorm):
        shape = tuple(mod.normalized_shape)
        if kind not in CHANNEL_LAYER_NORMS or len(shape) != 1:
            raise ImportRefused(f"{name} ({kind}): a LayerNorm over the last axes {list(shape)} of a (batch, "
                                "channels, *spatial) tensor; convsolve states a LayerNorm over the channels "
                                f"({', '.join(CHANNEL_LAYER_NORMS)})", loc=(name,))
        return {"type": "norm", "norm": "layer", "num_features": shape[0],
                "affine": bool(mod.elementwise_affine)}
    return None


def _upsample(name: str, kind: str, size: Any, scale_factor: Any, mode: str) -> dict[str, Any]:
    """torch's Upsample and interpolate, and Keras' UpSampling and Resizing, as a layer."""
    if mode not in UPSAMPLE_MODES:
        raise ImportRefused(f"{name} ({kind}): mode '{mode}' is not stated by convsolve yet", loc=(name,))
    if size is not None and not isinstance(size, int | tuple | list):
        raise ImportRefused(f"{name} ({kind}): a size taken from another tensor is not stated by convsolve yet",
                            loc=(name,))
    layer: dict[str, Any] = {"type": "upsample", "mode": mode}
    if size is not None:
        layer["size"] = _tuple(size)
    else:
        layer["scale_factor"] = [float(x) for x in scale_factor] if isinstance(scale_factor, tuple | list) \
            else float(scale_factor)
    return layer


# --- torch.fx ----------------------------------------------------------------------------

def _by_fx(torch: Any, traced: Any, ndim: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The layers of a traced graph, in its order, and the size-keeping nodes folded."""
    layers: list[dict[str, Any]] = []
    folded: list[str] = []
    tensor: dict[Any, str] = {}  # fx node -> the name of the tensor it stands for
    sizes: dict[Any, Size] = {}  # fx node -> the size it stands for (x.shape, x.size(0), ...)
    last: set[Any] = set()  # nodes of tensors permuted to channels last (ConvNeXt's blocks)
    Node = torch.fx.Node  # noqa: N806 - what an argument is when it is a tensor (not a slice, a number)
    F = torch.nn.functional  # noqa: N806 - torch's own name
    inputs = [node for node in traced.graph.nodes if node.op == "placeholder"]
    if len(inputs) != 1:
        raise ImportRefused(f"the model takes {len(inputs)} inputs; convsolve reads models of one input")

    def source(node: Any, arg: Any) -> str:
        if arg not in tensor:
            raise ImportRefused(f"{node.name} ({_what(node)}): it reads {arg}, which is not a tensor convsolve "
                                "follows", loc=(node.name,))
        return tensor[arg]

    def add(node: Any, name: str, layer: dict[str, Any] | None, arg: Any) -> None:
        if layer is None:  # keeps sizes: the same tensor
            tensor[node] = source(node, arg)
            folded.append(name)
            return
        layers.append({"name": name, **layer, "input": source(node, arg)})
        tensor[node] = name

    for node in traced.graph.nodes:
        if node.op == "placeholder":
            tensor[node] = "input"
        elif node.op == "output":
            continue
        elif node.op == "call_module":
            # A module called twice is two layers: the second named as fx names its node (conv_1).
            name = node.name if any(layer["name"] == node.target for layer in layers) else node.target
            mod = traced.get_submodule(node.target)
            if node.args[0] in last:  # on channels last: per pixel, over the channels
                add(node, name, _channels_last_layer(torch, name, mod), node.args[0])
            else:
                add(node, name, _module_layer(torch, node.target, mod), node.args[0])
        elif node.op in ("call_function", "call_method"):
            target = node.target
            fname = target if isinstance(target, str) else getattr(target, "__name__", str(target))
            tensors = [a for a in node.args if isinstance(a, Node) and a in tensor]
            size = _size_value(node, fname, tensor, sizes, ndim)
            reads = [x for arg in (*node.args, *node.kwargs.values())
                     for x in (arg if isinstance(arg, list | tuple) else [arg])]
            if size is not None:  # a size read off a tensor (x.shape, x.size(0)), or arithmetic on sizes
                sizes[node] = size
            elif not any(isinstance(a, Node) and a in tensor for a in reads):  # on numbers and sizes alone (x.ndim == 4, an assert)
                sizes[node] = ("value",)
            elif fname in ("permute", "movedim") and _permutation(node, ndim) is not None:
                to_last = _permutation(node, ndim)
                if (node.args[0] in last) == to_last:
                    raise ImportRefused(f"{node.name} ({fname}): a permutation convsolve does not follow",
                                        loc=(node.name,))
                add(node, node.name, None, node.args[0])
                if to_last:
                    last.add(node)
            elif any(a in last for a in tensors) and not (fname in _KEEPS_SIZE_FUNCTIONS or target in _SUMS):
                raise ImportRefused(f"{node.name} ({_what(node)}): reads a channels-last tensor (after a permute), "
                                    "where convsolve follows norms, linears, activations and sums only",
                                    loc=(node.name,))
            elif target in (torch.cat, torch.concat) or fname in ("cat", "concat"):
                dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
                if dim not in (1, -1 - ndim):  # the channels: dim 1 of (batch, channels, *spatial)
                    raise ImportRefused(f"{node.name} (torch.cat): along dim {dim}; convsolve joins along the "
                                        "channels (dim 1)", loc=(node.name,))
                if len(node.args[0]) == 1:  # a concat of one tensor: the tensor
                    add(node, node.name, None, node.args[0][0])
                    continue
                layers.append({"name": node.name, "type": "concat",
                               "inputs": [source(node, a) for a in node.args[0]]})
                tensor[node] = node.name
            elif target in _SUMS or fname in ("add", "add_", "mul", "mul_", "sub"):
                if len(tensors) >= 2:  # two tensors: sizes equal, or 1 on an axis (broadcast)
                    layers.append({"name": node.name, "type": "add", "inputs": [source(node, a) for a in tensors]})
                    tensor[node] = node.name
                else:  # a tensor and a number, or a parameter of one value per channel (a layer scale)
                    for a in node.args:
                        shape = list(sizes.get(a, ("",))[2]) if hasattr(a, "op") and sizes.get(a, ("",))[0] == "param" \
                            else []
                        if len(shape) > 1 and shape[1:] != [1] * (len(shape) - 1):
                            raise ImportRefused(f"{node.name} ({fname}): with {sizes[a][1]}, of shape {shape}, which "
                                                "has sizes of its own; convsolve follows one value per channel",
                                                loc=(node.name,))
                    add(node, node.name, None, tensors[0] if tensors else node.args[0])
            elif target is F.interpolate or fname in ("interpolate", "upsample"):
                size, scale = node.kwargs.get("size", node.args[1] if len(node.args) > 1 else None), \
                    node.kwargs.get("scale_factor", node.args[2] if len(node.args) > 2 else None)
                mode = node.kwargs.get("mode", "nearest")
                to = _size_of(size, sizes, ndim)
                if to is not None:  # the size of another tensor: a match by interpolation
                    if mode not in UPSAMPLE_MODES:
                        raise ImportRefused(f"{node.name} (interpolate): mode '{mode}' is not stated by convsolve yet",
                                            loc=(node.name,))
                    add(node, node.name, {"type": "match", "to": to, "by": "interpolate", "mode": mode},
                        node.args[0])
                else:
                    add(node, node.name, _upsample(node.name, "interpolate", size, scale, mode), node.args[0])
            elif fname == "pad":
                add(node, node.name, _padded_to(node, source(node, node.args[0]), sizes, ndim), node.args[0])
            elif fname in _KEEPS_SIZE_FUNCTIONS:
                add(node, node.name, None, node.args[0])
            else:
                found = _function_layers(node, fname, sizes, ndim)
                if found is None:
                    raise ImportRefused(f"{node.name} ({_what(node)}): convsolve does not state its sizes yet",
                                        loc=(node.name,))
                for i, layer in enumerate(found):  # a mean without keepdim: a pool, then a flatten
                    name = node.name if i == len(found) - 1 else f"{node.name}_{layer['type']}"
                    layers.append({"name": name, **layer, "input": source(node, node.args[0]) if i == 0
                                   else layers[-1]["name"]})
                tensor[node] = node.name
        else:  # get_attr: a parameter or buffer read in forward (a layer scale, a functional layer's weight)
            value = traced
            for part in node.target.split("."):
                value = getattr(value, part)
            sizes[node] = ("param", node.target, tuple(getattr(value, "shape", ())))
        if node in tensor and not _permutes(node) and any(isinstance(a, Node) and a in last for a in node.args):
            last.add(node)  # what reads channels last (per pixel: a norm, a linear, a fold, a sum) writes it
    return layers, folded


#: A size read off a tensor, as the importer follows it: ("shape", tensor) for x.shape,
#: ("dim", tensor, d) for x.size(d), ("dims", tensor, (d, ...)) for x.shape[2:].
Size = tuple[Any, ...]


def _size_value(node: Any, fname: str, tensor: dict[Any, str], sizes: dict[Any, Size], ndim: int) -> Size | None:
    """What a node that reads sizes stands for (None: it is no such node)."""
    args = node.args
    first = args[0] if args and hasattr(args[0], "op") else None  # an fx node (a slice is not hashable)
    if fname == "getattr" and len(args) == 2 and first in tensor and args[1] == "shape" \
            or fname == "size" and first in tensor and len(args) == 1 and not node.kwargs:
        return ("shape", tensor[first])
    if fname == "getattr" and len(args) == 2 and first in tensor and args[1] == "ndim":
        return ("value",)
    if fname == "size" and first in tensor:
        d = args[1] if len(args) > 1 else node.kwargs.get("dim")
        return ("dim", tensor[first], d % (ndim + 2)) if isinstance(d, int) else None
    if fname in _SIZE_ARITHMETIC and len(args) == 2 and any(hasattr(a, "op") and a in sizes for a in args) \
            and all(isinstance(a, int) or hasattr(a, "op") and sizes.get(a, ("",))[0] in ("dim", "op") for a in args):
        return ("op", fname, *(sizes[a] if hasattr(a, "op") else a for a in args))  # diff // 2, a - b, ...
    if fname == "getitem" and len(args) == 2 and sizes.get(first, ("",))[0] == "shape":
        dims = tuple(range(ndim + 2))[args[1]]
        kind = "dims" if isinstance(args[1], slice) else "dim"
        return (kind, sizes[args[0]][1], dims)
    return None


def _permutes(node: Any) -> bool:
    return node.op != "call_module" and getattr(node.target, "__name__", node.target) in ("permute", "movedim")


def _permutation(node: Any, ndim: int) -> bool | None:
    """Whether a permute moves the channels last (True) or back (False); None: neither."""
    dims = list(node.args[1:]) if len(node.args) > 2 else node.args[1] if len(node.args) > 1 else node.kwargs.get("dims")
    if node.target == "movedim" or getattr(node.target, "__name__", "") == "movedim":
        dims = {(1, -1): [0, *range(2, ndim + 2), 1], (-1, 1): [0, ndim + 1, *range(1, ndim + 1)]}.get(
            tuple(node.args[1:3]))
    if not isinstance(dims, list | tuple):
        return None
    dims = [d % (ndim + 2) for d in dims if isinstance(d, int)]
    return True if dims == [0, *range(2, ndim + 2), 1] else False if dims == [0, ndim + 1, *range(1, ndim + 1)] \
        else None


def _channels_last_layer(torch: Any, name: str, mod: Any) -> dict[str, Any] | None:
    """A module on a channels-last tensor (ConvNeXt's block), where it acts per pixel over
    the channels: a LayerNorm is a norm over the channels, a Linear a 1x1 conv."""
    nn, kind = torch.nn, type(mod).__name__
    if isinstance(mod, nn.LayerNorm) and len(mod.normalized_shape) == 1:
        return {"type": "norm", "norm": "layer", "num_features": mod.normalized_shape[0],
                "affine": bool(mod.elementwise_affine)}
    if isinstance(mod, nn.Linear):
        return {"type": "conv", "kernel_size": 1, "in_channels": mod.in_features, "out_channels": mod.out_features,
                "bias": mod.bias is not None}
    if kind in _KEEPS_SIZE:
        return None
    raise ImportRefused(f"{name} ({kind}): reads a channels-last tensor (after a permute), where convsolve follows "
                        "norms, linears and activations only", loc=(name,))


def _functional_layer(node: Any, fname: str, sizes: dict[Any, Size]) -> dict[str, Any] | None:
    """F.linear and the functional norms, their parameters read off the weights fx reads
    (timm's layers call them in their own forward); None: no such function."""
    args, kwargs = node.args, node.kwargs
    where = {"linear": ("weight", 1, "bias", 2), "batch_norm": ("weight", 3, "bias", 4),
             "instance_norm": ("weight", 3, "bias", 4), "group_norm": ("weight", 2, "bias", 3),
             "layer_norm": ("weight", 2, "bias", 3)}.get(fname)
    if where is None:
        return None

    def shape(key: str, i: int) -> tuple[int, ...] | None:
        value = kwargs.get(key, args[i] if len(args) > i else None)
        found = sizes.get(value, ("",)) if hasattr(value, "op") else ("",)
        return found[2] if found[0] == "param" else None

    weight, bias = shape(where[0], where[1]), shape(where[2], where[3])
    if fname == "linear":
        if weight is None or len(weight) != 2:
            raise ImportRefused(f"{node.name} (linear): its weight is not a parameter convsolve reads", loc=(node.name,))
        return {"type": "linear", "in_features": weight[1], "out_features": weight[0], "bias": bias is not None}
    if fname == "layer_norm":
        raise ImportRefused(f"{node.name} (layer_norm): over the last axes of a (batch, channels, *spatial) "
                            "tensor; convsolve states a LayerNorm over the channels", loc=(node.name,))
    layer: dict[str, Any] = {"type": "norm", "norm": fname.removesuffix("_norm"), "affine": weight is not None}
    if weight is not None:
        layer["num_features"] = weight[0]
    if fname == "group_norm":
        layer["num_groups"] = kwargs.get("num_groups", args[1] if len(args) > 1 else None)
    elif fname == "batch_norm":
        training = kwargs.get("training", args[5] if len(args) > 5 else False)
        layer["track_running_stats"] = not training  # (traced in eval mode: training is a constant)
    else:
        stats = kwargs.get("use_input_stats", args[5] if len(args) > 5 else True)
        layer["track_running_stats"] = not stats
    return layer


_SIZE_ARITHMETIC = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "floordiv": operator.floordiv}


def _evaluate(size: Any, env: dict[tuple[str, int], int]) -> int:
    """A size expression's value where each (tensor, dim) has the size env gives it."""
    if isinstance(size, int):
        return size
    if size[0] == "dim":
        return env[size[1], size[2]]
    return _SIZE_ARITHMETIC[size[1]](_evaluate(size[2], env), _evaluate(size[3], env))


def _tensors_in(size: Any) -> set[str]:
    if isinstance(size, int):
        return set()
    if size[0] == "dim":
        return {size[1]}
    return _tensors_in(size[2]) | _tensors_in(size[3]) if size[0] == "op" else {"?"}


def _size_of(size: Any, sizes: dict[Any, Size], ndim: int) -> str | None:
    """The tensor whose spatial size `size` is (x.shape[-2:], x.size()[2:], (x.size(2),
    x.size(3))); None: it is no such size."""
    spatial = tuple(range(2, ndim + 2))
    if hasattr(size, "op") and sizes.get(size, ("",))[0] == "dims" and tuple(sizes[size][2]) == spatial:
        return str(sizes[size][1])
    if isinstance(size, list | tuple) and len(size) == ndim and all(hasattr(s, "op") for s in size):
        found = [sizes.get(s, ("",)) for s in size]
        if all(f[0] == "dim" for f in found) and tuple(f[2] for f in found) == spatial and len({f[1] for f in found}) == 1:
            return str(found[0][1])
    return None


def _padded_to(node: Any, source: str, sizes: dict[Any, Size], ndim: int) -> dict[str, Any]:
    """F.pad(x, [...]) whose amounts are worked out from another tensor's size, so that x
    comes out the size of that tensor (a U-Net's pad of the upsampled tensor to its
    skip's): a match by pad.  Anything else is refused."""
    amounts = node.kwargs.get("pad", node.args[1] if len(node.args) > 1 else None)
    mode = node.kwargs.get("mode", node.args[2] if len(node.args) > 2 else "constant")
    where = (node.name,)
    if isinstance(amounts, list | tuple) and all(isinstance(x, int) for x in amounts) and len(amounts) <= 2 * ndim \
            and not len(amounts) % 2 and min(amounts, default=0) >= 0 and mode in PAD_MODES \
            and (mode == "constant" or len(amounts) == 2 * ndim):  # (torch pads other modes on every axis)
        return _explicit_pad(list(amounts), ndim, mode)
    if not isinstance(amounts, list | tuple) or len(amounts) != 2 * ndim:
        raise ImportRefused(f"{node.name} (pad): convsolve follows a pad of every spatial axis to another tensor's "
                            "size", loc=where)
    exprs = [sizes[a] if hasattr(a, "op") and a in sizes else a for a in amounts]
    if all(isinstance(x, int) for x in exprs) and min(exprs) >= 0 and mode in PAD_MODES:
        return _explicit_pad(list(exprs), ndim, mode)
    if any(not isinstance(x, int | tuple) for x in exprs) or mode != "constant":
        raise ImportRefused(f"{node.name} (pad): amounts or mode '{mode}' convsolve does not follow", loc=where)
    others = set().union(*map(_tensors_in, exprs)) - {source}
    if len(others) == 1 and "?" not in others:
        [to] = others
        # The amounts of each axis add up to the difference of sizes, whatever the sizes (F.pad lists the
        # last axis first): tried on five sets of sizes.
        envs = [{(name, d): 1 + (trial * 7919 + d * 104729 + len(name)) % 1000 for name in (source, to)
                 for d in range(ndim + 2)} for trial in range(5)]
        if all(_evaluate(exprs[2 * (ndim - 1 - a)], env) + _evaluate(exprs[2 * (ndim - 1 - a) + 1], env)
               == env[to, a + 2] - env[source, a + 2] for env in envs for a in range(ndim)):
            return {"type": "match", "to": to, "by": "pad"}
    raise ImportRefused(f"{node.name} (pad): its amounts are not the difference of two tensors' sizes, which is "
                        "what convsolve follows", loc=where)


def _reduced(node: Any, fname: str, ndim: int) -> tuple[str, bool] | None:
    """A mean or max over every spatial axis (x.mean((2, 3)), torch.amax(x, dim=[-2, -1],
    keepdim=True)): its pool, and whether it keeps the axes."""
    if fname not in ("mean", "amax") or len(node.args) < 1:
        return None
    dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
    dims = [dims] if isinstance(dims, int) else dims
    if not isinstance(dims, list | tuple) or sorted(d % (ndim + 2) for d in dims) != list(range(2, ndim + 2)):
        return None
    keep = node.kwargs.get("keepdim", node.args[2] if len(node.args) > 2 else False)
    return ("adaptive_avg_pool" if fname == "mean" else "adaptive_max_pool"), bool(keep)


def _function_layers(node: Any, fname: str, sizes: dict[Any, Size], ndim: int) -> list[dict[str, Any]] | None:
    """A function or tensor method as the layers it is (a pool, a flatten); None: not one
    convsolve states."""
    args, kwargs = node.args, node.kwargs

    def arg(i: int, key: str, default: Any = None) -> Any:
        return kwargs.get(key, args[i] if len(args) > i else default)

    if fname == "flatten":
        if (arg(1, "start_dim", 0), arg(2, "end_dim", -1)) != (1, -1):
            raise ImportRefused(f"{node.name} (flatten): dims {arg(1, 'start_dim', 0)} to {arg(2, 'end_dim', -1)}; "
                                "convsolve flattens the channels and every spatial axis (dims 1 to -1)",
                                loc=(node.name,))
        return [{"type": "flatten"}]
    if fname in ("view", "reshape") and len(args) == 3 and args[2] == -1 and hasattr(args[1], "op") \
            and sizes.get(args[1], ("",))[0] == "dim" and sizes[args[1]][2] == 0:
        return [{"type": "flatten"}]  # x.view(x.size(0), -1)
    functional = _functional_layer(node, fname, sizes)
    if functional is not None:
        return [functional]
    reduced = _reduced(node, fname, ndim)
    if reduced is not None:
        pool = {"type": reduced[0], "output_size": 1}
        return [pool] if reduced[1] else [pool, {"type": "flatten"}]
    pooled = re.fullmatch(r"(adaptive_)?(max|avg)_pool([123])d", fname)
    if pooled is None or int(pooled[3]) != ndim:
        return None
    kind = f"{pooled[2]}_pool"
    if pooled[1]:
        if kind == "max_pool" and arg(2, "return_indices", False):
            raise ImportRefused(f"{node.name} ({fname}): return_indices gives two tensors", loc=(node.name,))
        return [{"type": f"adaptive_{kind}", "output_size": _tuple(arg(1, "output_size"))}]
    kernel = arg(1, "kernel_size")
    stride = arg(2, "stride") or kernel  # None or []: the kernel size
    layer = {"type": kind, "kernel_size": _tuple(kernel), "stride": _tuple(stride), "padding": _tuple(arg(3, "padding", 0))}
    if kind == "max_pool":
        if arg(6, "return_indices", False):
            raise ImportRefused(f"{node.name} ({fname}): return_indices gives two tensors", loc=(node.name,))
        layer |= {"dilation": _tuple(arg(4, "dilation", 1)), "ceil_mode": bool(arg(5, "ceil_mode", False))}
    else:  # (count_include_pad and divisor_override change values, not sizes)
        layer["ceil_mode"] = bool(arg(4, "ceil_mode", False))
    return [layer]


def _what(node: Any) -> str:
    target = node.target
    return target if isinstance(target, str) else f"{getattr(target, '__module__', '')}.{target.__name__}".lstrip(".")


# --- forward hooks -----------------------------------------------------------------------

def _by_hooks(torch: Any, module: Any, input_size: list[int], in_channels: int | None,
              why: Exception) -> tuple[list[dict[str, Any]], list[str]]:
    """The modules one run calls, in order, as a chain, and the size-keeping ones folded.
    Each module must read the tensor the one before it wrote: a function between them
    (a sum, a concat) is invisible to hooks, and stops the import."""
    if in_channels is None:
        first = next((m for m in module.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)), None)
        if first is None:
            raise ImportRefused(f"fx cannot trace the model ({_first_line(why)}), and without in_channels there is "
                                "no input to run it on")
        in_channels = first.in_channels
    calls: list[tuple[str, Any, Any, Any]] = []
    names = {mod: name for name, mod in module.named_modules()}
    leaves = [mod for mod in module.modules() if not list(mod.children())]
    hooks = [mod.register_forward_hook(lambda mod, args, out: calls.append((names[mod], mod, args[0], out)))
             for mod in leaves]
    training = module.training
    given = torch.zeros(1, in_channels, *input_size)
    try:
        with torch.no_grad():
            module.eval()
            result = module(given)
    except Exception as exc:  # noqa: BLE001 - the model's own error, reported as such
        raise ImportRefused(f"fx cannot trace the model ({_first_line(why)}), and it does not run on a "
                            f"{'x'.join(map(str, input_size))} input ({_first_line(exc)})") from None
    finally:
        for hook in hooks:
            hook.remove()
        module.train(training)  # the model as the caller had it
    layers: list[dict[str, Any]] = []
    folded: list[str] = []
    current: tuple[Any, str] = (given, "input")  # the last tensor written, and its name
    unseen = ("fx cannot trace the model ({}), and {}: a function (a pool, a sum, a concat, a reshape) is not "
              "seen by hooks")
    for name, mod, read, out in calls:
        if read is not current[0]:
            raise ImportRefused(f"{name} ({type(mod).__name__}): " + unseen.format(
                _first_line(why), "this module reads a tensor the module before it (or the input) did not write"),
                loc=(name,))
        layer = _module_layer(torch, name, mod)
        if layer is None:
            folded.append(name)
            current = (out, current[1])
            continue
        layers.append({"name": name, **layer, "input": current[1]})
        current = (out, name)
    if result is not current[0]:
        raise ImportRefused(unseen.format(_first_line(why), "the model's output is not what its last module wrote"))
    return layers, folded


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- ONNX --------------------------------------------------------------------------------

#: ONNX operators that keep every size (their one data input to their output).
_ONNX_KEEPS_SIZE = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Mish", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Clip", "Erf", "Exp", "Sqrt", "Neg", "Abs", "Cast",
    "LpNormalization", "Dropout", "Identity",
}
_ONNX_SUMS = {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min"}
_ONNX_MODES = {"nearest": "nearest", "linear": "linear", "cubic": "bicubic"}


def import_onnx(request: OnnxImport | dict[str, Any]) -> ImportedModel:
    """The REST route's: an ONNX graph sent as base64 text."""
    import base64
    import binascii

    request = parse(OnnxImport, request)
    try:
        data = base64.b64decode(request.model, validate=True)
    except (binascii.Error, ValueError):  # ValueError: a character outside ASCII
        raise DocumentError("model: not base64 text (send the .onnx file's bytes as base64)", loc=("model",)) from None
    return from_onnx(data, request.input_size)


def from_onnx(model: Any, input_size: list[int] | None = None) -> ImportedModel:
    """The forward document (onnx convention) of an ONNX graph: a ModelProto, its bytes
    or a file's path.  input_size: the spatial size; by default the graph input's, when
    fixed.  Weights are not needed (a graph saved without them imports alike; the
    channels then come from the weights' shapes when present)."""
    return _read("an ONNX graph", _from_onnx, model, input_size)


def _from_onnx(model: Any, input_size: list[int] | None) -> ImportedModel:
    onnx = _onnx()
    if isinstance(model, str | bytes):
        try:
            model = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(model, load_external_data=False)
        except Exception as exc:  # noqa: BLE001 - protobuf's many errors: not an ONNX model
            raise DocumentError(f"not an ONNX model ({_first_line(exc)})") from None
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute:
            constants[node.output[0]] = node.attribute[0].t
    inputs = [value for value in graph.input if value.name not in constants]
    if len(inputs) != 1:
        raise ImportRefused(f"the graph takes {len(inputs)} inputs; convsolve reads graphs of one input")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) < 3 or len(dims) > 5:
        raise ImportRefused(f"input {inputs[0].name}: {len(dims)} dimensions; convsolve reads (batch, channels, "
                            "1 to 3 spatial axes)")
    if input_size is None:
        if None in dims[2:] or 0 in dims[2:]:
            raise DocumentError(f"input {inputs[0].name} has no fixed spatial size: give input_size")
        input_size = dims[2:]
    elif len(input_size) == 1:  # one size for every axis
        input_size = list(input_size) * (len(dims) - 2)
    tensor = {inputs[0].name: "input"}
    layers: list[dict[str, Any]] = []
    folded: list[str] = []

    def array(name: str) -> Any:
        found = constants.get(name)
        return None if found is None else onnx.numpy_helper.to_array(found)

    def shape(name: str) -> list[int] | None:
        found = constants.get(name)
        return None if found is None else list(found.dims)

    for index, node in enumerate(graph.node):
        name = node.name or node.output[0] or f"{node.op_type}_{index}"
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        data = [i for i in node.input if i in tensor]

        def source() -> str:
            if not data:
                raise ImportRefused(f"{name} ({node.op_type}): reads no tensor convsolve follows", loc=(name,))
            return tensor[data[0]]

        if node.op_type == "Constant":
            continue
        if not data:  # computed from constants only (an Identity of weights, a shape): a constant too
            for out in node.output:
                constants[out] = constants.get(node.input[0]) if node.op_type == "Identity" and node.input else None
            continue
        if node.op_type in _ONNX_KEEPS_SIZE or node.op_type in _ONNX_SUMS and len(data) == 1:
            tensor[node.output[0]] = source()
            folded.append(name)
            continue
        layer = _onnx_layer(node, name, attrs, array, shape, len(input_size))
        if layer is None:  # a sum of tensors, a concat: the tensors joined
            joined = {"type": "concat" if node.op_type == "Concat" else "add", "inputs": [tensor[i] for i in data]}
            layers.append({"name": name, **joined})
        else:
            read = source()
            if layer.pop("flat", False):  # a reduction without keepdims: the pool, then a flatten
                layers.append({"name": f"{name}_pool", **layer, "input": read})
                layer, read = {"type": "flatten"}, f"{name}_pool"
            layers.append({"name": name, **layer, "input": read})
        tensor[node.output[0]] = name
    document = {"convention": "onnx", "input_size": list(input_size),
                "in_channels": dims[1] or next((x["in_channels"] for x in layers if "in_channels" in x), None),
                "layers": layers}
    parse(ForwardRequest, document)
    return ImportedModel(document=document, traced_with="onnx", folded=folded)


def _onnx() -> Any:
    try:
        import onnx
        import onnx.numpy_helper
    except ImportError:
        raise ConvsolveError("importing an ONNX graph needs onnx: pip install 'convsolve[onnx]'") from None
    return onnx


def _onnx_layer(node: Any, name: str, attrs: dict[str, Any], array: Callable[[str], Any],
                shape: Callable[[str], list[int] | None], ndim: int) -> dict[str, Any] | None:
    """One ONNX node as a layer; None for a join (Concat, a sum of tensors)."""
    op, where = node.op_type, (name,)
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto

    def pads() -> dict[str, Any]:
        if auto in ("SAME_UPPER", "SAME_LOWER", "VALID"):
            return {"padding": auto.lower()}
        p = list(attrs.get("pads", [0] * 2 * ndim))
        begin, end = p[:ndim], p[ndim:]
        return {"padding": begin, **({"padding_end": end} if end != begin else {})}

    if op in ("Conv", "ConvTranspose"):
        weight = shape(node.input[1]) if len(node.input) > 1 else None  # its dims: its data may be elsewhere
        kernel = list(attrs.get("kernel_shape", [] if weight is None else weight[2:]))
        if not kernel:
            raise ImportRefused(f"{name} ({op}): no kernel_shape and no weights to read it from", loc=where)
        layer = {"type": "conv" if op == "Conv" else "conv_transpose", "kernel_size": kernel,
                 "stride": list(attrs.get("strides", [1] * ndim)), "dilation": list(attrs.get("dilations", [1] * ndim)),
                 "groups": int(attrs.get("group", 1)), **pads()}
        if weight is not None:  # (out, in/groups, ...) for Conv; (in, out/groups, ...) for ConvTranspose
            groups = layer["groups"]
            cout, cin = (weight[0], weight[1] * groups) if op == "Conv" else (weight[1] * groups, weight[0])
            layer.update(in_channels=int(cin), out_channels=int(cout), bias=len(node.input) > 2)
        if op == "ConvTranspose":
            if "output_padding" in attrs:
                layer["output_padding"] = list(attrs["output_padding"])
            if "output_shape" in attrs:
                layer["output_shape"] = list(attrs["output_shape"])[-ndim:]
        return layer
    if op in ("MaxPool", "AveragePool"):
        if op == "AveragePool" and any(d != 1 for d in attrs.get("dilations", [])):
            raise ImportRefused(f"{name} (AveragePool): dilations are not stated by convsolve yet", loc=where)
        if len(node.output) > 1 and node.output[1]:
            raise ImportRefused(f"{name} (MaxPool): its indices output is not followed", loc=where)
        layer = {"type": "max_pool" if op == "MaxPool" else "avg_pool", "kernel_size": list(attrs["kernel_shape"]),
                 "stride": list(attrs.get("strides", [1] * ndim)), "ceil_mode": bool(attrs.get("ceil_mode", 0)),
                 **pads()}
        if op == "MaxPool" and "dilations" in attrs:
            layer["dilation"] = list(attrs["dilations"])
        return layer
    if op in ("GlobalAveragePool", "GlobalMaxPool"):
        return {"type": "adaptive_avg_pool" if op == "GlobalAveragePool" else "adaptive_max_pool", "output_size": 1}
    if op in ("Resize", "Upsample"):
        mode = attrs.get("mode", b"nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        policy = attrs.get("keep_aspect_ratio_policy", b"stretch")
        if (policy.decode() if isinstance(policy, bytes) else policy) != "stretch":
            raise ImportRefused(f"{name} ({op}): keep_aspect_ratio_policy is not stated by convsolve yet", loc=where)
        if mode not in _ONNX_MODES:
            raise ImportRefused(f"{name} ({op}): mode '{mode}' is not stated by convsolve", loc=where)
        scales = array(node.input[2]) if op == "Resize" and len(node.input) > 2 and node.input[2] else \
            array(node.input[1]) if op == "Upsample" else None
        sizes = array(node.input[3]) if op == "Resize" and len(node.input) > 3 and node.input[3] else None
        if sizes is not None and sizes.size:
            return {"type": "upsample", "mode": _ONNX_MODES[mode], "size": [int(x) for x in sizes[2:]]}
        if scales is not None and scales.size:
            return {"type": "upsample", "mode": _ONNX_MODES[mode], "scale_factor": [float(x) for x in scales[2:]]}
        raise ImportRefused(f"{name} ({op}): its scales or sizes are computed in the graph, not constants",
                            loc=where)
    if op == "Flatten":
        if attrs.get("axis", 1) != 1:
            raise ImportRefused(f"{name} (Flatten): at axis {attrs.get('axis')}; convsolve flattens from axis 1 (the "
                                "channels and every spatial axis)", loc=where)
        return {"type": "flatten"}
    if op == "Reshape" and (target := array(node.input[1])) is not None and [int(x) for x in target][1:] == [-1] \
            and int(target[0]) in (0, 1):
        return {"type": "flatten"}  # to (batch, -1)
    if op in ("Gemm", "MatMul"):
        weight = shape(node.input[1])
        if weight is None or len(weight) != 2 or attrs.get("transA", 0):
            raise ImportRefused(f"{name} ({op}): convsolve states a product with a constant weight matrix (a "
                                "linear layer)", loc=where)
        cin, cout = weight[::-1] if attrs.get("transB", 0) else weight
        return {"type": "linear", "in_features": int(cin), "out_features": int(cout),
                "bias": op == "Gemm" and len(node.input) > 2 and bool(node.input[2])}
    if op in ("BatchNormalization", "InstanceNormalization", "GroupNormalization"):
        channels = shape(node.input[1])  # the scale's: one per channel
        layer = {"type": "norm", "norm": {"BatchNormalization": "batch", "InstanceNormalization": "instance",
                                          "GroupNormalization": "group"}[op]}
        if op == "GroupNormalization":
            layer["num_groups"] = int(attrs["num_groups"])
        if channels is not None and op != "GroupNormalization":  # (opset 18's group scale is per group)
            layer["num_features"] = int(channels[0])
        return layer
    if op in ("ReduceMean", "ReduceMax"):
        axes = attrs.get("axes", None if len(node.input) < 2 else array(node.input[1]))
        if axes is None or sorted(int(a) % (ndim + 2) for a in axes) != list(range(2, ndim + 2)):
            raise ImportRefused(f"{name} ({op}): over axes {None if axes is None else list(axes)}; convsolve "
                                "states a reduction over every spatial axis", loc=where)
        pool = {"type": "adaptive_avg_pool" if op == "ReduceMean" else "adaptive_max_pool", "output_size": 1}
        return pool if attrs.get("keepdims", 1) else {**pool, "flat": True}  # keepdims 0: then flat
    if op == "Concat":
        if attrs.get("axis") not in (1, -2 - ndim + 1):
            raise ImportRefused(f"{name} (Concat): along axis {attrs.get('axis')}; convsolve joins along the "
                                "channels (axis 1)", loc=where)
        return None
    if op in _ONNX_SUMS:
        return None
    raise ImportRefused(f"{name} ({op}): convsolve does not state its sizes yet", loc=where)


# --- Keras -------------------------------------------------------------------------------

_KERAS_KEEPS_SIZE = {
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "UnitNormalization", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity", "Rescaling", "Normalization",
}
_KERAS_SUMS = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}


def import_keras(request: KerasImport | dict[str, Any]) -> ImportedModel:
    """The REST route's: a Keras model's config."""
    request = parse(KerasImport, request)
    return from_keras(request.model, request.input_size)


def from_keras(model: Any, input_size: list[int] | None = None) -> ImportedModel:
    """The forward document (tensorflow convention) of a Keras model: the model itself,
    its config (model.get_config(), or the JSON of model.to_json()), Sequential or
    functional, channels last.  input_size: the spatial size; by default the Input's,
    when fixed."""
    return _read("a Keras model's config", _from_keras, model, input_size)


def _read(what: str, reader: Callable[..., ImportedModel], *args: Any) -> ImportedModel:
    """A reader's answer; a config or graph malformed in a way it did not foresee (a
    field of another type, a list too short) is said to be malformed, not a crash."""
    try:
        return reader(*args)
    except ConvsolveError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise DocumentError(f"not {what} convsolve can read ({_first_line(exc)})") from None


def _from_keras(model: Any, input_size: list[int] | None) -> ImportedModel:
    import json

    if isinstance(model, str | bytes):
        try:
            model = json.loads(model)
        except json.JSONDecodeError as exc:
            raise DocumentError(f"not a Keras model's JSON ({exc.msg})") from None
    elif hasattr(model, "to_json"):  # a Keras model: its config
        model = json.loads(model.to_json())
    if not isinstance(model, dict):
        raise DocumentError("from_keras takes a Keras model, its config or its JSON")
    config = model.get("config", model)
    entries = config.get("layers") if isinstance(config, dict) else None
    if not isinstance(entries, list) or not entries:
        raise DocumentError("not a Keras model's config: it has no layers")
    sequential = model.get("class_name") == "Sequential" or all("inbound_nodes" not in e for e in entries)
    layers: list[dict[str, Any]] = []
    folded: list[str] = []
    tensor: dict[str, str] = {}  # Keras layer name -> the tensor convsolve names for it
    shape: list[Any] | None = None
    previous: str | None = None
    for index, entry in enumerate(entries):
        kind, cfg = entry.get("class_name"), entry.get("config", {})
        name = cfg.get("name") or entry.get("name") or f"{kind}_{index}"
        if kind == "InputLayer":
            if shape is not None:
                raise ImportRefused("the model takes more than one input; convsolve reads models of one input")
            shape = list(cfg.get("batch_shape") or [None, *cfg.get("batch_input_shape", [None])[1:]])
            tensor[name], previous = "input", "input"
            continue
        sources = [previous] if sequential else _keras_sources(entry, name, tensor)
        if sequential and previous is None:  # a Sequential given its input on the first layer
            shape = list(cfg.get("batch_shape") or cfg.get("batch_input_shape") or [None])
            tensor["input"] = previous = sources[0] = "input"
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise ImportRefused(f"{name} ({kind}): channels_first; convsolve reads channels_last models",
                                loc=(name,))
        if kind in _KERAS_KEEPS_SIZE or kind in _KERAS_SUMS and len(set(sources)) == 1:
            tensor[name] = previous = sources[0]
            folded.append(name)
            continue
        if kind == "Concatenate" and cfg.get("axis", -1) not in (-1, len(shape or []) - 1):
            raise ImportRefused(f"{name} (Concatenate): along axis {cfg.get('axis')}; convsolve joins along the "
                                "channels (the last axis)", loc=(name,))
        if kind == "Concatenate" or kind in _KERAS_SUMS:
            layers.append({"name": name, "type": "concat" if kind == "Concatenate" else "add", "inputs": sources})
        else:
            layer = _keras_layer(kind, name, cfg)
            if layer.pop("flat", False):  # a global pool without keepdims: the pool, then a flatten
                layers.append({"name": f"{name}_pool", **layer, "input": sources[0]})
                layer, sources = {"type": "flatten"}, [f"{name}_pool"]
            layers.append({"name": name, **layer, "input": sources[0]})
            if cfg.get("activation") not in (None, "linear"):
                folded.append(f"{name}.activation")
        tensor[name] = previous = name
    if shape is None or len(shape) < 3:
        raise ImportRefused("the model has no Input with a shape (batch, spatial axes..., channels)")
    if input_size is None:
        if None in shape[1:-1]:
            raise DocumentError("the model's Input has no fixed spatial size: give input_size")
        input_size = [int(x) for x in shape[1:-1]]
    elif len(input_size) == 1:  # one size for every axis
        input_size = list(input_size) * (len(shape) - 2)
    document = {"convention": "tensorflow", "input_size": list(input_size), "in_channels": shape[-1],
                "layers": layers}
    parse(ForwardRequest, document)
    if None not in shape[1:] and any(layer["type"] == "linear" for layer in layers):
        # Keras builds a Dense layer's kernel for the features its Input's size gives: in_features.
        from ..engines.forward import forward

        report = forward({**document, "input_size": [int(x) for x in shape[1:-1]]})
        for layer, reported in zip(layers, report.layers, strict=True):
            if layer["type"] == "linear":
                layer["in_features"] = reported.in_channels
    return ImportedModel(document=document, traced_with="keras", folded=folded)


def _keras_sources(entry: dict[str, Any], name: str, tensor: dict[str, str]) -> list[str]:
    """The tensors a functional model's layer reads (its first call), by convsolve's names."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise ImportRefused(f"{name} ({entry.get('class_name')}): called {len(nodes)} times; convsolve reads "
                            "layers called once", loc=(name,))
    if isinstance(nodes[0], dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {}}
        first = nodes[0]["args"][0]
        histories = [arg["config"]["keras_history"] for arg in (first if isinstance(first, list) else [first])]
    else:  # Keras 2 / tf.keras: [[layer name, node index, tensor index, kwargs], ...]
        histories = nodes[0]
    found = []
    for history in histories:
        if history[0] not in tensor:
            raise ImportRefused(f"{name} ({entry.get('class_name')}): reads {history[0]}, which convsolve does "
                                "not follow", loc=(name,))
        found.append(tensor[history[0]])
    return found


def _keras_layer(kind: str, name: str, cfg: dict[str, Any]) -> dict[str, Any]:
    where = (name,)
    if kind in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):
        padding = cfg.get("padding", "valid")
        if padding not in ("same", "valid"):
            raise ImportRefused(f"{name} ({kind}): padding '{padding}' is not stated by convsolve yet", loc=where)
        layer = {"type": "conv_transpose" if kind.endswith("Transpose") else "conv",
                 "kernel_size": _tuple(cfg["kernel_size"]), "stride": _tuple(cfg.get("strides", 1)),
                 "dilation": _tuple(cfg.get("dilation_rate", 1)), "padding": padding,
                 "out_channels": cfg["filters"], "groups": cfg.get("groups", 1), "bias": cfg.get("use_bias", True)}
        if kind.endswith("Transpose") and cfg.get("output_padding") is not None:
            layer["output_padding"] = list(cfg["output_padding"])
        return layer
    if kind in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                "AveragePooling3D"):
        size = cfg.get("pool_size")
        return {"type": "max_pool" if kind.startswith("Max") else "avg_pool", "kernel_size": _tuple(size),
                "stride": _tuple(cfg.get("strides") or size), "padding": cfg.get("padding", "valid")}
    if kind in ("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
                "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"):
        return {"type": "adaptive_avg_pool" if "Average" in kind else "adaptive_max_pool", "output_size": 1,
                **({} if cfg.get("keepdims", False) else {"flat": True})}  # without keepdims: then flat
    if kind in ("UpSampling1D", "UpSampling2D", "UpSampling3D"):
        return _upsample(name, kind, None, cfg.get("size", 2), cfg.get("interpolation", "nearest"))
    if kind == "Flatten":
        return {"type": "flatten"}
    if kind == "Dense":
        return {"type": "linear", "out_features": cfg["units"], "bias": cfg.get("use_bias", True)}
    if kind in ("BatchNormalization", "LayerNormalization", "GroupNormalization"):
        axis = cfg.get("axis", -1)
        if axis not in (-1, [-1]) or cfg.get("center", True) != cfg.get("scale", True):
            raise ImportRefused(f"{name} ({kind}): convsolve states a norm over the channels (axis -1) that learns "
                                "both a scale and a shift, or neither", loc=where)
        norm = {"BatchNormalization": "batch", "LayerNormalization": "layer", "GroupNormalization": "group"}[kind]
        layer = {"type": "norm", "norm": norm, "affine": bool(cfg.get("center", True))}
        if kind == "GroupNormalization":
            groups = cfg.get("groups", 32)
            layer |= {"norm": "instance"} if groups == -1 else {"num_groups": groups}
        return layer
    if kind == "Resizing":
        return _upsample(name, kind, [cfg["height"], cfg["width"]], None, cfg.get("interpolation", "bilinear"))
    raise ImportRefused(f"{name} ({kind}): convsolve does not state its sizes yet", loc=where)


def load_callable(spec: str) -> Callable[..., Any]:
    """'package.module:callable' -> the callable (the CLI's MODEL); modules in the
    working directory are found, as `python -m` and uvicorn find them."""
    import importlib
    import os
    import sys

    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise DocumentError(f"{spec}: give the model as package.module:callable")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DocumentError(f"{spec}: cannot import {module_name} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(found, part):
            raise DocumentError(f"{spec}: {module_name} has no {attr}")
        found = getattr(found, part)
    if not callable(found):
        raise DocumentError(f"{spec}: {attr} is not callable")
    return found

