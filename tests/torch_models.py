"""PyTorch models the importer tests share (tests/solver/test_import_*.py), torchvision's
as this machine can load them, and torch's sizes node by node."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import torch
from torch import nn

from solver.services.importers import CHANNEL_LAYER_NORMS


class UNetLike(nn.Module):
    """Two levels, a skip by concat, a residual sum, norms and activations in between."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.enc2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.res = nn.Conv2d(2 * width, 2 * width, 3, padding=1)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.head = nn.Conv2d(2 * width, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = torch.relu(self.enc2(self.pool(e1)))
        e2 = e2 + self.res(e2)
        return self.head(torch.cat([e1, self.up(e2)], dim=1))


class Branchy(nn.Module):
    """Control flow on the data: fx cannot trace it; hooks read the chain."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 5, stride=2, padding=1, dilation=2)
        self.b = nn.AvgPool2d(3, stride=2, ceil_mode=True)
        self.c = nn.ConvTranspose2d(4, 1, 3, stride=2, output_padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(x)
        if x.mean() < -1e9:  # never, but fx cannot know
            return x
        return self.c(self.b(x))


class LayerNorm2d(nn.LayerNorm):
    """timm's LayerNorm2d: a LayerNorm over the channels of a (N, C, H, W) tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Classifier(nn.Module):
    """A classifier's usual parts: norms of every kind, a squeeze-and-excitation gate (a
    mean kept as 1x1, multiplied back), functional pools, a flatten by reshape, linears and a
    norm on the flat features."""

    def __init__(self, classes: int = 10, features: int = 8 * 3 * 3) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU())
        self.gate = nn.Conv2d(8, 8, 1)
        self.norms = nn.Sequential(nn.GroupNorm(4, 8), nn.InstanceNorm2d(8, affine=True), LayerNorm2d(8))
        self.fc1 = nn.Linear(features, 32)
        self.bn = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x * torch.sigmoid(self.gate(x.mean((2, 3), keepdim=True)))
        x = nn.functional.max_pool2d(self.norms(x), 3, stride=2, ceil_mode=True)
        x = x.reshape(x.size(0), -1)  # (view would refuse the permuted, non-contiguous tensor)
        return self.fc2(self.bn(self.fc1(x)))


class GlobalHead(nn.Module):
    """A global mean without keepdim (a pool and a flatten), then a linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 6, 5, stride=2, padding=2)
        self.fc = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool1d(y, 1), 1) + y.mean(-1))


def fx_sizes(model: nn.Module, channels: int, size: list[int]) -> dict[str, list[int]] | None:
    """Every traced node's output size when torch runs the model, by the name the importer
    gives it (a module's path, or the node's name for a function and for a module's second
    call), a flat (batch, features) tensor as 1 on every axis and a channels-last one
    (after a permute) read as such; None when torch refuses the input."""
    ndim = len(size)

    class Tracer(torch.fx.Tracer):  # as the importer's: a channel LayerNorm whole
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            return type(m).__name__ in CHANNEL_LAYER_NORMS or super().is_leaf_module(m, qualname)

    traced = torch.fx.GraphModule(model, Tracer().trace(model.eval()))
    seen: dict[str, list[int]] = {}
    last: set[torch.fx.Node] = set()
    to_last, back = [0, *range(2, ndim + 2), 1], [0, ndim + 1, *range(1, ndim + 1)]

    class Watch(torch.fx.Interpreter):
        def run_node(self, node: torch.fx.Node) -> Any:
            out = super().run_node(node)
            if not isinstance(out, torch.Tensor) or node.op not in ("call_module", "call_function", "call_method"):
                return out
            fname = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
            given = node.args[1] if len(node.args) == 2 and isinstance(node.args[1], list | tuple) else node.args[1:]
            dims = [d % (ndim + 2) for d in given] if fname == "permute" else None
            if dims == to_last or dims != back and any(a in last for a in node.args if isinstance(a, torch.fx.Node)):
                last.add(node)
            name = node.target if node.op == "call_module" and node.target not in seen else node.name
            shape = list(out.shape)
            seen[name] = shape[1:-1] if node in last else shape[2:] if out.dim() > 2 else [1] * ndim
            if out.dim() == 2 and node.target in ("mean", "amax"):  # the pool the importer writes before the flatten
                seen[f"{name}_adaptive_{'avg' if node.target == 'mean' else 'max'}_pool"] = [1] * ndim
            return out

    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Watch(traced).run(torch.zeros(1, channels, *size))
    except (RuntimeError, ValueError):
        return None
    return seen


def torchvision() -> Any:
    """torchvision, whose models are plain Python: its wheel from this registry is built
    against CUDA and its C extension does not load on the CPU torch, which leaves two
    operators its import registers against undefined; they are defined first when so."""
    try:
        import torchvision as tv
    except RuntimeError:
        for name in [n for n in sys.modules if n.startswith("torchvision")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        torchvision.library = library  # type: ignore[attr-defined]  # kept alive: it owns the definitions
        import torchvision as tv
    return tv


class PaddedUNet(nn.Module):
    """A U-Net as milesial's Pytorch-UNet writes it: the upsampled tensor padded to its
    skip's size with F.pad (whatever the sizes: odd ones too), and the logits resized to
    the image's size as DeepLab does (F.interpolate(size=x.shape[-2:]))."""

    def __init__(self) -> None:
        super().__init__()
        self.inc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.conv = nn.Conv2d(8, 4, 3, stride=2, padding=1)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape[-2:]
        a = self.inc(x)
        b = self.up(self.down(a))
        dy, dx = a.size()[2] - b.size()[2], a.size()[3] - b.size()[3]
        b = nn.functional.pad(b, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        y = self.head(self.conv(torch.cat([a, b], dim=1)))
        return nn.functional.interpolate(y, size=shape, mode="bilinear", align_corners=False)
