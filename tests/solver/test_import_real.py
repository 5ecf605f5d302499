"""Real networks (issue #17): torchvision's and timm's models (no weights) import, and the
imported document's sizes equal torch's node by node at several input sizes, sizes torch
refuses included; the parameters are torch's, but for the few read in forward outside a
layer (ConvNeXt's layer scales); valid input sizes over a range are the sizes the real
model runs."""

from __future__ import annotations

from typing import Any

import conformance
import pytest
import torch
from torch_models import fx_sizes, torchvision

import solver

pytestmark = pytest.mark.slow

TORCHVISION = ["resnet18", "resnext50_32x4d", "vgg11_bn", "alexnet", "squeezenet1_1", "mobilenet_v2",
               "mobilenet_v3_small", "efficientnet_b0", "mnasnet0_5", "regnet_y_400mf", "googlenet", "inception_v3",
               "densenet121", "convnext_tiny"]
SEGMENTATION = ["deeplabv3_resnet50", "deeplabv3_mobilenet_v3_large", "fcn_resnet50", "lraspp_mobilenet_v3_large"]
TIMM = ["resnet50d", "efficientnet_b0", "regnetx_002", "mobilenetv3_small_100", "dla34", "hrnet_w18_small",
        "legacy_xception", "seresnext26d_32x4d", "hgnet_tiny", "densenet121", "lcnet_050", "convnext_nano"]
SIZES = ([96, 96], [97, 75], [33, 40], [1, 1])


def build(source: str, name: str) -> torch.nn.Module:
    if source == "segmentation":  # the logits resized to the image's size: a match by interpolation
        return getattr(torchvision().models.segmentation, name)(weights=None, weights_backbone=None,
                                                                aux_loss=False).eval()
    if source == "torchvision":
        extra = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
        return getattr(torchvision().models, name)(weights=None, **extra).eval()
    torchvision()  # timm imports it
    import timm

    return timm.create_model(name, pretrained=False).eval()


@pytest.mark.parametrize(("source", "name"), [("torchvision", n) for n in TORCHVISION] + [
    ("segmentation", n) for n in SEGMENTATION] + [("timm", n) for n in TIMM])
def test_a_real_network_imports_and_agrees_with_torch(source: str, name: str) -> None:
    model = build(source, name)
    imported = solver.from_torch(model, SIZES[0])
    assert imported.traced_with == "fx"
    document = imported.document
    outside = sum(p.numel() for n, p in model.named_parameters() if n.endswith(("layer_scale", "gamma")))
    assert solver.forward(document).params == sum(p.numel() for p in model.parameters()) - outside
    ran = [conformance.agrees_layer_by_layer(document, size, fx_sizes(model, document["in_channels"], size), "torch")
           for size in SIZES]
    assert ran[0]


def torch_runs(model: torch.nn.Module, size: list[int]) -> bool:
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, *size))
    except (RuntimeError, ValueError):
        return False
    return True


@pytest.mark.parametrize(("source", "name", "pattern"), [
    ("torchvision", "resnet18", "every size from 1"),
    ("timm", "dla34", "31-32, 63-64, 95-96"),  # its trees add stride-2 paths of their own
    ("segmentation", "deeplabv3_mobilenet_v3_large", "every size from 1"),
])
def test_valid_input_sizes_are_those_the_real_model_runs(source: str, name: str, pattern: Any) -> None:
    """Along one axis (the other at 64): what input-sizes says equals a run of the real model at every size."""
    model = build(source, name)
    document = solver.from_torch(model, [64, 64]).document
    answer = solver.input_sizes({**document, "range": [{"min": 1, "max": 100}, {"min": 64, "max": 64}]})
    runs = [h for h in range(1, 101) if torch_runs(model, [h, 64])]
    assert answer.axes[0].sizes == runs
    assert answer.axes[0].pattern == pattern
