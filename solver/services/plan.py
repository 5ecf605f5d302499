"""Planners: architectures in a designer's terms, turned into solve documents.

Each planner writes the solve document a designer would otherwise write by hand (named
layers, skips, ties, targets), solves it, and returns the designs with what matters
for that architecture: the size at every level, warnings about degenerate layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import rules as A
from ..contract import (
    ASPPPlan,
    Design,
    EncoderDecoderPlan,
    Level,
    PlanResponse,
    Range,
    SolveResponse,
    Status,
    UNetPlan,
    parse,
)
from ..engines.forward import forward
from ..errors import DocumentError
from .solve import solve

#: A searched padding in TensorFlow, which pads by mode only.
_MODES_ONLY = next(c for c in A.CONVENTION.values() if c.pads_by_mode)
_SEARCHED_MODES = {"choices": list(_MODES_ONLY.padding_modes)}


def _factors(plan: UNetPlan) -> list[list[int]]:
    """The down/up factor of every level, per axis."""
    ndim = len(plan.input_size)
    per_level = plan.level_factors or [plan.factor] * plan.depth
    if len(per_level) != plan.depth:
        raise DocumentError(f"level_factors: {len(per_level)} levels given for depth {plan.depth}",
                            loc=("level_factors",))
    out = []
    for level in per_level:
        axes = level if isinstance(level, list) else [level] * ndim
        if len(axes) != ndim:
            raise DocumentError(f"factor {axes} has {len(axes)} axes, the input {ndim}", loc=("factor",))
        out.append(axes)
    return out


def unet_document(plan: UNetPlan) -> dict[str, Any]:
    """The solve document of a U-Net plan."""
    factors = _factors(plan)
    dump = plan.model_dump(mode="json")
    conv_of, none = plan.convention, A.NO_PADDING[plan.convention]
    searched = _SEARCHED_MODES if A.CONVENTION[conv_of].pads_by_mode else dump["padding"]

    def conv(name: str, channels: int, src: str | None = None) -> dict[str, Any]:
        layer: dict[str, Any] = {"name": name, "type": "conv", "out_channels": channels,
                                 "kernel_size": dump["kernel_size"]}
        layer["padding"] = {"same": A.SAME_PADDING[conv_of], "valid": none, "search": searched}[plan.conv]
        return layer | ({"input": src} if src else {})

    layers: list[dict[str, Any]] = []
    convs: list[str] = []
    ends: list[str] = []
    channels = plan.base_channels
    for level in range(1, plan.depth + 1):
        for j in range(plan.convs_per_level):
            layers.append(conv(f"enc{level}_{j + 1}", channels))
            convs.append(layers[-1]["name"])
        ends.append(layers[-1]["name"])
        f = factors[level - 1]
        if plan.down == "strided_conv":
            layers.append({"name": f"down{level}", "type": "conv", "kernel_size": f, "stride": f,
                           "padding": none, "out_channels": channels * 2})
        else:
            layers.append({"name": f"down{level}", "type": plan.down, "kernel_size": f, "padding": none})
        channels *= 2
    for j in range(plan.convs_per_level):
        layers.append(conv(f"mid_{j + 1}", channels))
        convs.append(layers[-1]["name"])
    for level in range(plan.depth, 0, -1):
        f = factors[level - 1]
        channels //= 2
        if plan.up == "conv_transpose":
            layers.append({"name": f"up{level}", "type": "conv_transpose", "kernel_size": f, "stride": f,
                           "padding": none, "out_channels": channels})
        else:
            layers.append({"name": f"up{level}_scale", "type": "upsample", "scale_factor": f})
            layers.append(conv(f"up{level}", channels))
            convs.append(layers[-1]["name"])
        skip = ends[level - 1]
        if plan.skip == "crop":
            layers.append({"name": f"crop{level}", "type": "crop", "input": skip, "to": f"up{level}"})
            skip = f"crop{level}"
        layers.append({"name": f"skip{level}", "type": "concat", "inputs": [skip, f"up{level}"]})
        for j in range(plan.convs_per_level):
            layers.append(conv(f"dec{level}_{j + 1}", channels))
            convs.append(layers[-1]["name"])
    if plan.out_channels is not None:
        layers.append({"name": "head", "type": "conv", "kernel_size": 1, "padding": none,
                       "out_channels": plan.out_channels})
    doc: dict[str, Any] = {"convention": conv_of, "input_size": plan.input_size, "in_channels": plan.in_channels,
                           "layers": layers,
                           "limit": plan.limit, "time_limit_s": plan.time_limit_s,
                           "ties": [{"layers": convs, "params": ["kernel_size", "padding"]}]}
    if plan.output_size is not None:
        doc["target_size"] = "input" if plan.output_size == "same" else plan.output_size
    if plan.objective is not None:
        doc["objective"] = dump["objective"]
    return doc


def _designs(doc: dict[str, Any], result: SolveResponse, levels: int = 0) -> list[Design]:
    designs = []
    for sol in result.solutions:
        report = forward({"input_size": doc["input_size"], "in_channels": doc.get("in_channels"),
                          "layers": sol.layers, "convention": doc["convention"]})
        size = {layer.get("name"): out for layer, out in zip(sol.layers, sol.sizes[0], strict=True)}
        names = [layer.get("name") for layer in sol.layers]
        per_level = []
        for level in range(1, levels + 1):
            enc = [n for n in names if n and n.startswith(f"enc{level}_")][-1]
            dec = [n for n in names if n and n.startswith(f"dec{level}_")]
            per_level.append(Level(level=level, encoder=size[enc], decoder=size[dec[-1]] if dec else None))
        designs.append(Design(layers=sol.layers, input_size=list(doc["input_size"]),
                              output_size=report.output_size, params=report.params,
                              levels=per_level or None, score=sol.score))
    return designs


def _response(doc: dict[str, Any], result: SolveResponse, levels: int = 0,
              warnings: list[str] | None = None) -> PlanResponse:
    return PlanResponse(status=result.status, count=result.count, designs=_designs(doc, result, levels),
                        document=doc, warnings=warnings or [], message=result.message,
                        explanation=result.explanation)


def plan_unet(plan: UNetPlan | dict[str, Any], *, max_time_s: float | None = None,
              cancelled: Callable[[], bool] | None = None) -> PlanResponse:
    """U-Net designs with the size at every level, ranked.

    >>> r = plan_unet({"input_size": [572, 572], "conv": "valid", "skip": "crop", "output_size": None})
    >>> [level.encoder[0] for level in r.designs[0].levels], r.designs[0].output_size
    ([568, 280, 136, 64], [388, 388])
    """
    plan = parse(UNetPlan, plan)
    doc = unet_document(plan)
    return _response(doc, solve(doc, max_time_s=max_time_s, cancelled=cancelled), plan.depth)


def aspp_document(plan: ASPPPlan) -> tuple[dict[str, Any], list[int]]:
    """The solve document of an ASPP plan, and the bottleneck size."""
    if plan.bottleneck_size is not None:
        size = list(plan.bottleneck_size)
    else:
        assert plan.input_size is not None and plan.output_stride is not None
        # A backbone of stride-2 stages with "same" padding: (i - 1) // stride + 1.
        size = [(i - 1) // plan.output_stride + 1 for i in plan.input_size]
    rates: Any = plan.rates
    none = A.NO_PADDING[plan.convention]
    branches: list[dict[str, Any]] = [{"name": "b1x1", "type": "conv", "input": "input", "kernel_size": 1,
                                       "padding": none, "out_channels": plan.channels}]
    # TensorFlow's 'same' keeps the size at any rate (onnxruntime refuses SAME_* dilated).
    pad = A.SAME_PADDING[plan.convention] if A.CONVENTION[plan.convention].pads_by_mode else plan.padding.model_dump()
    if isinstance(rates, Range):
        branches.append({"name": "atrous", "type": "conv", "input": "input", "kernel_size": plan.kernel_size,
                         "dilation": rates.model_dump(), "padding": pad, "out_channels": plan.channels})
    else:
        branches += [{"name": f"rate{r}", "type": "conv", "input": "input", "kernel_size": plan.kernel_size,
                      "dilation": r, "padding": pad, "out_channels": plan.channels} for r in rates]
    if plan.image_pooling:
        branches += [{"name": "image_pool", "type": "adaptive_avg_pool", "input": "input", "output_size": 1},
                     {"name": "image_1x1", "type": "conv", "kernel_size": 1, "padding": none,
                      "out_channels": plan.channels},
                     {"name": "image", "type": "upsample", "size": size}]
    outputs = [b["name"] for b in branches if b["name"] not in ("image_pool", "image_1x1")]
    layers = [*branches, {"name": "aspp", "type": "concat", "inputs": outputs},
              {"name": "project", "type": "conv", "kernel_size": 1, "padding": none, "out_channels": plan.channels}]
    doc = {"convention": plan.convention, "input_size": size, "in_channels": plan.in_channels, "layers": layers,
           "limit": plan.limit, "time_limit_s": plan.time_limit_s,
           "target_size": "input", "objective": "least_padding",
           "targets": {b["name"]: "input" for b in branches if b["type"] == "conv" and b["name"] != "image_1x1"}}
    return doc, size


def plan_aspp(plan: ASPPPlan | dict[str, Any], *, max_time_s: float | None = None,
              cancelled: Callable[[], bool] | None = None) -> PlanResponse:
    """ASPP designs whose every branch keeps the bottleneck size, with the padding each needs.

    >>> r = plan_aspp({"input_size": [513, 513], "output_stride": 16, "rates": [6, 12, 18]})
    >>> r.designs[0].input_size, [layer["padding"][0] for layer in r.designs[0].layers[1:4]]
    ([33, 33], [6, 12, 18])
    """
    plan = parse(ASPPPlan, plan)
    doc, size = aspp_document(plan)
    result = solve(doc, max_time_s=max_time_s, cancelled=cancelled)
    warnings = []
    if isinstance(plan.rates, list):
        rates = plan.rates
    else:  # searched: the rates of the designs found
        rates = sorted({d for s in result.solutions for layer in s.layers
                        if layer.get("name") == "atrous" for d in layer["dilation"]})
    degenerate = [r for r in rates if r >= min(size)]
    if degenerate:
        warnings.append(
            f"rate{'s' if len(degenerate) > 1 else ''} {', '.join(map(str, degenerate))} on a "
            f"{' x '.join(map(str, size))} map: every tap but the centre falls in the padding, so "
            "the branch only sees the centre pixel and acts as a 1x1 conv (DeepLabv3, section 3.3)")
    return _response(doc, result, warnings=warnings)


def encoder_decoder_document(plan: EncoderDecoderPlan) -> dict[str, Any]:
    """The solve document of an autoencoder, generator or discriminator plan."""
    dump = plan.model_dump(mode="json")
    ndim = len(plan.image_size)
    latent = plan.latent_size if isinstance(plan.latent_size, list) else [plan.latent_size]
    if len(latent) == 1:  # one size for every axis, as `--latent-size 7` says
        latent = latent * ndim
    if len(latent) != ndim:
        raise DocumentError(f"latent_size: has {len(latent)} values but image_size has {ndim} axes",
                            loc=("latent_size",))
    free = {f: dump[f] for f in ("kernel_size", "stride", "padding")}
    if A.CONVENTION[plan.convention].pads_by_mode:
        free["padding"] = _SEARCHED_MODES
    down = [{"name": f"enc{i}", "type": "conv", **free} for i in range(1, plan.depth + 1)]
    up = [{"name": f"dec{i}", "type": "conv_transpose", **free, "output_padding": dump["output_padding"]}
          for i in range(1, plan.depth + 1)]
    ties = []
    if plan.tie and plan.depth > 2:  # all but the stage at the latent
        if plan.kind != "generator":
            ties.append({"layers": [f"enc{i}" for i in range(1, plan.depth)],
                         "params": ["kernel_size", "stride", "padding"]})
        if plan.kind != "discriminator":
            ties.append({"layers": [f"dec{i}" for i in range(2, plan.depth + 1)],
                         "params": ["kernel_size", "stride", "padding", "output_padding"]})
    doc: dict[str, Any] = {"convention": plan.convention, "limit": plan.limit, "time_limit_s": plan.time_limit_s,
                           "ties": ties, "in_channels": plan.in_channels}
    if plan.kind == "autoencoder":
        doc |= {"input_size": plan.image_size, "layers": down + up, "targets": {f"enc{plan.depth}": latent},
                "target_size": "input"}
    elif plan.kind == "generator":
        doc |= {"input_size": latent, "layers": up, "target_size": plan.image_size}
    else:
        doc |= {"input_size": plan.image_size, "layers": down, "target_size": latent}
    doc["objective"] = DESIGNERS_CHOICE if plan.objective is None else dump["objective"]
    return doc


#: The encoder-decoder planner's ranking when the plan names none: closest to DCGAN's
#: layers (Radford et al. 2015: kernel 4, padding 1, no output_padding; the strides follow
#: from the sizes, the smallest first), so that a kernel smaller than its stride (pixels
#: never seen) comes late.
DESIGNERS_CHOICE: dict[str, Any] = {"prefer": {"kernel_size": 4, "padding": 1, "output_padding": 0}}


def plan_encoder_decoder(plan: EncoderDecoderPlan | dict[str, Any], *, max_time_s: float | None = None,
                         cancelled: Callable[[], bool] | None = None) -> PlanResponse:
    """Autoencoder, GAN generator or discriminator designs, output_padding included.

    >>> r = plan_encoder_decoder({"kind": "generator", "image_size": [64, 64], "depth": 5,
    ...                           "kernel_size": 4, "limit": 5})
    >>> [(x["stride"][0], x["padding"][0]) for x in r.designs[0].layers[:2]]
    [(1, 0), (2, 1)]
    """
    plan = parse(EncoderDecoderPlan, plan)
    doc = encoder_decoder_document(plan)
    started = time.monotonic()
    result = solve(doc, max_time_s=max_time_s, cancelled=cancelled)
    if result.status == Status.INFEASIBLE:
        budget = plan.time_limit_s if max_time_s is None else min(plan.time_limit_s, max_time_s)
        works = _depths_that_work(plan, started + budget / 2, cancelled)
        if works:
            result.message = (f"{result.message} No design of depth {plan.depth}; "
                              f"depth {' or '.join(map(str, works))} works.")
    return _response(doc, result)


def _depths_that_work(plan: EncoderDecoderPlan, until: float, cancelled: Callable[[], bool] | None) -> list[int]:
    """The depths nearest to an infeasible plan's that have designs (the same domains),
    tried nearest first while time is left: none when none was found in time."""
    for distance in range(1, 12):
        works = []
        for depth in (plan.depth - distance, plan.depth + distance):
            left = until - time.monotonic()
            if not 1 <= depth <= 12 or left <= 0:
                continue
            trial = encoder_decoder_document(plan.model_copy(update={"depth": depth, "limit": 0}))
            if solve(trial, max_time_s=left, cancelled=cancelled).count:
                works.append(depth)
        if works or time.monotonic() >= until:
            return works
    return []
