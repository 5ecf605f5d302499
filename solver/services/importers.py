"""Importers: a model as it lives in code, read into a forward document.

`from_torch` reads a torch.nn.Module's spatial path: torch.fx traces its graph (every
conv, pool, upsample, concat and sum, with their wiring); when fx cannot trace it (control
flow that depends on the data), forward hooks watch one run on a zero input instead, which
sees the modules but not the functions between them, so it takes chains only.  Modules
and functions that keep sizes (activations, norms, dropout) are folded away, and named in
the answer; anything else that may change a size stops the import with the module (or
node), its type and why: nothing is silently dropped.

torch is not a dependency of convsolve: the model's own torch is used.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ..contract import ForwardRequest, ImportedModel, parse
from ..errors import ConvsolveError, DocumentError


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
    try:
        traced = torch.fx.symbolic_trace(module)
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
        if isinstance(mod, kinds):  # an int kernel: the class says (MaxPool2d)
            return int(type(mod).__name__[-2])
    return None


def import_model(spec: str, input_size: list[int] | None = None, in_channels: int | None = None,
                 kwargs: dict[str, Any] | None = None) -> ImportedModel:
    """'package.module:callable' called with kwargs, imported; input_size one int for
    every axis, or one per axis; without it, 224 on every axis (the design does not
    depend on it)."""
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
            if layer["type"] == "conv_transpose":  # output_padding must stay below stride: searched together
                layer["output_padding"] = {"min": 0, "max": layer["stride"]["max"] - 1}
        layers.append(layer)
    if not matched:
        raise DocumentError(f"--free {' '.join(patterns)}: no conv, transposed conv or pool is named so "
                            f"(the names: {', '.join(str(x.get('name')) for x in document['layers'][:12])}...)")
    return {**document, "layers": layers, "target_size": target_size}


def _ints_of(value: Any) -> list[int]:
    """The ints of a field's value (an int, a per-axis list), for a domain to hold them."""
    values = value if isinstance(value, list) else [value]
    return [x for x in values if isinstance(x, int) and not isinstance(x, bool)] or [0]


# --- what each module and function is ----------------------------------------------------

#: Modules that keep every size (their parameters are not counted yet).
_KEEPS_SIZE = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Sigmoid",
    "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "Tanhshrink", "Threshold", "Softmax",
    "LogSoftmax", "Softmax2d", "LogSigmoid", "Hardshrink", "Softshrink",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d", "GroupNorm", "LocalResponseNorm", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "AlphaDropout", "FeatureAlphaDropout", "Identity",
)
#: Functions and tensor methods that keep every size, applied to one tensor.
_KEEPS_SIZE_FUNCTIONS = {
    "relu", "relu_", "relu6", "leaky_relu", "gelu", "silu", "mish", "elu", "selu", "celu", "sigmoid", "tanh",
    "hardswish", "hardsigmoid", "hardtanh", "softplus", "softmax", "log_softmax", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "batch_norm", "instance_norm", "group_norm", "contiguous", "clone", "float",
    "half", "detach", "abs", "neg", "exp", "sqrt", "clamp", "clip",
}
_SUMS = {operator.add, operator.iadd, operator.mul, operator.imul, operator.sub}


def _tuple(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _module_layer(torch: Any, name: str, mod: Any) -> dict[str, Any] | None:
    """A module as a layer; None when it keeps every size."""
    nn, kind = torch.nn, type(mod).__name__
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
    if kind in _KEEPS_SIZE:
        return None
    raise ImportRefused(f"{name} ({kind}): convsolve does not state this module's sizes yet", loc=(name,))


def _upsample(name: str, kind: str, size: Any, scale_factor: Any, mode: str) -> dict[str, Any]:
    from ..rules import UPSAMPLE_MODES

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
            add(node, node.target, _module_layer(torch, node.target, traced.get_submodule(node.target)), node.args[0])
        elif node.op in ("call_function", "call_method"):
            target = node.target
            fname = target if isinstance(target, str) else getattr(target, "__name__", str(target))
            tensors = [a for a in node.args if a in tensor]
            if target in (torch.cat, torch.concat) or fname in ("cat", "concat"):
                dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
                if dim not in (1, -1 - ndim):  # the channels: dim 1 of (batch, channels, *spatial)
                    raise ImportRefused(f"{node.name} (torch.cat): along dim {dim}; convsolve joins along the "
                                        "channels (dim 1)", loc=(node.name,))
                layers.append({"name": node.name, "type": "concat",
                               "inputs": [source(node, a) for a in node.args[0]]})
                tensor[node] = node.name
            elif target in _SUMS or fname in ("add", "add_", "mul", "mul_", "sub"):
                if len(tensors) >= 2:  # two tensors: sizes equal, or 1 on an axis (broadcast)
                    layers.append({"name": node.name, "type": "add", "inputs": [source(node, a) for a in tensors]})
                    tensor[node] = node.name
                else:  # a tensor and a number
                    add(node, node.name, None, tensors[0] if tensors else node.args[0])
            elif target is F.interpolate or fname in ("interpolate", "upsample"):
                size, scale = node.kwargs.get("size", node.args[1] if len(node.args) > 1 else None), \
                    node.kwargs.get("scale_factor", node.args[2] if len(node.args) > 2 else None)
                add(node, node.name, _upsample(node.name, "interpolate", size, scale,
                                               node.kwargs.get("mode", "nearest")), node.args[0])
            elif fname in _KEEPS_SIZE_FUNCTIONS:
                add(node, node.name, None, node.args[0])
            else:
                raise ImportRefused(f"{node.name} ({_what(node)}): convsolve does not state its sizes yet",
                                    loc=(node.name,))
        else:  # get_attr: a parameter or buffer read in forward
            raise ImportRefused(f"{node.name} ({node.op} {node.target}): convsolve does not follow it",
                                loc=(node.name,))
    return layers, folded


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
    try:
        with torch.no_grad():
            module.eval()
            module(torch.zeros(1, in_channels, *input_size))
    except Exception as exc:  # noqa: BLE001 - the model's own error, reported as such
        raise ImportRefused(f"fx cannot trace the model ({_first_line(why)}), and it does not run on a "
                            f"{'x'.join(map(str, input_size))} input ({_first_line(exc)})") from None
    finally:
        for hook in hooks:
            hook.remove()
    layers: list[dict[str, Any]] = []
    folded: list[str] = []
    current: tuple[Any, str] | None = None  # the last tensor written, and its name
    for name, mod, given, out in calls:
        if current is not None and given is not current[0]:
            raise ImportRefused(f"{name} ({type(mod).__name__}): fx cannot trace the model ({_first_line(why)}), "
                                "and this module reads a tensor the module before it did not write: a function "
                                "between them (a sum, a concat, a reshape) is not seen by hooks", loc=(name,))
        layer = _module_layer(torch, name, mod)
        if layer is None:
            folded.append(name)
            current = (out, current[1] if current else "input")
            continue
        layers.append({"name": name, **layer, "input": current[1] if current else "input"})
        current = (out, name)
    return layers, folded


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


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

