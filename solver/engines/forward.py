"""The forward engine: sizes, channels, parameters, MACs and receptive field of a stack."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .. import rules as A
from ..contract import (
    Add,
    Concat,
    Conv,
    ConvTranspose,
    Crop,
    ForwardRequest,
    ForwardResponse,
    Layer,
    LayerReport,
    LayerType,
    parse,
    per_axis,
    resize_settings,
)
from ..errors import DocumentError, LayerContext, LayerRejected


def _channels(ctx: LayerContext, layer: Conv | ConvTranspose, incoming: int | None,
              convention: str) -> tuple[int | None, int | None]:
    try:
        return A.conv_channels(layer.type, convention, incoming, layer.in_channels, layer.out_channels,
                               layer.groups)
    except A.Rejected as r:
        raise ctx.reject(r.rule, r.message, None, r.field or "in_channels") from None


# Receptive field and jump are exact rationals, kept as ints while they are integers
# (nearly always): Fraction arithmetic costs microseconds per operation.
Exact = int | Fraction


def _exact(x: Exact) -> Exact:
    """x as an int when it is an integer."""
    return x if type(x) is int or x.denominator != 1 else x.numerator


def forward_layer(
    index: int, layer: Layer, size: tuple[int, ...], channels: int | None,
    rf: tuple[Exact, ...] | None, jump: tuple[Exact, ...] | None, convention: str = A.DEFAULT_CONVENTION,
) -> tuple[LayerReport, tuple[Exact, ...] | None, tuple[Exact, ...] | None]:
    """Apply one layer; returns its report and the receptive field and jump after it."""
    ctx = LayerContext(index, layer)
    kind = A.KINDS[layer.type]
    ndim = len(size)
    where = ("layers", index)
    out: list[int] = []
    pads: list[list[int]] | None = []
    windows: list[tuple[Exact, Exact]] | None = []  # (span, stride) per axis, for the RF
    params = macs = None
    cin, cout = channels, channels

    def axis(a: int, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except A.Rejected as r:
            field = r.field or A.RULE_FIELD.get(r.rule, kind.blamed(layer))
            raise ctx.reject(r.rule, r.message, a, field) from None

    if kind.family == "window":
        weighted = kind.weighted
        k = per_axis(layer.kernel_size, ndim, (*where, "kernel_size"))
        s = k if layer.stride is None else per_axis(layer.stride, ndim, (*where, "stride"))
        d = (1,) * ndim if "dilation" not in kind.searchable else per_axis(layer.dilation, ndim, (*where, "dilation"))
        if isinstance(layer.padding, str):
            try:
                A.same_rule(layer.type, convention, layer.padding, s)
            except A.Rejected as r:
                raise ctx.reject(r.rule, r.message, r.axis, "stride") from None
            p: tuple[Any, ...] = (layer.padding,) * ndim
        else:
            p = per_axis(layer.padding, ndim, (*where, "padding"))
        extra: dict[str, tuple[Any, ...]] = {}
        present = type(layer).model_fields  # (a missing attribute is pydantic's slow path)
        for field, key in (("padding_end", "padding_end"), ("output_padding", "op"),
                           ("output_shape", "output_shape"), ("ceil_mode", "ceil_mode")):
            value = getattr(layer, field) if field in present else None
            if value is not None:
                if field == "ceil_mode" and not isinstance(value, bool):
                    raise DocumentError(f"layers.{index}.ceil_mode: forward needs true or false",
                                        loc=(*where, "ceil_mode"))
                extra[key] = per_axis(value, ndim, (*where, field))
        if weighted:
            cin, cout = _channels(ctx, layer, channels, convention)
            try:
                A.layer_rule(layer.type, convention, s, d)
            except A.Rejected as r:
                raise ctx.reject(r.rule, r.message, None, "dilation") from None
        pads = []
        for a in range(ndim):
            o, sides = axis(a, A.axis_layer, layer.type, size[a], k=k[a], s=s[a], padding=p[a], d=d[a],
                            ndim=ndim, convention=convention, **{key: v[a] for key, v in extra.items()})
            out.append(o)
            pads.append(list(sides))
            windows.append(A.window(layer.type, k[a], s[a], d[a]))
        if not weighted:
            params, macs = 0, 0
        elif cin is not None and cout is not None:
            params, macs = A.params_and_macs(layer.type, cin, cout, layer.groups, math.prod(k), layer.bias,
                                             math.prod(size), math.prod(out))
    else:  # the resize family: the size set by fixed fields, or kept
        settings = resize_settings(layer, ndim, where)
        try:
            A.resize_rule(layer.type, convention, ndim, **settings[0])
        except A.Rejected as r:
            raise ctx.reject(r.rule, r.message, None, A.RULE_FIELD.get(r.rule, kind.blamed(layer))) from None
        for a in range(ndim):
            out.append(axis(a, A.axis_output, layer.type, size[a], ndim=ndim, convention=convention,
                            **settings[a]))
        assert kind.window is not None
        spans = [kind.window(size[a], out[a], settings[a]) for a in range(ndim)]
        windows = None if None in spans else spans  # type: ignore[assignment]
        pads, params, macs = None, 0, 0
        if kind.channels != "keep":  # flatten, linear, norm
            present = type(layer).model_fields
            try:
                cin, cout, params, macs = A.dense(layer.type, channels, size, convention,
                                                  **{f: getattr(layer, f) for f in A.DENSE_FIELDS if f in present})
            except A.Rejected as r:
                raise ctx.reject(r.rule, r.message, None, r.field or "input") from None

    if rf is not None and jump is not None and windows is not None:
        steps = [A.receptive_step(rf[a], jump[a], *windows[a]) for a in range(ndim)]
        rf = tuple([x if type(x) is int else _exact(x) for x, _ in steps])
        jump = tuple([y if type(y) is int else _exact(y) for _, y in steps])
    else:
        rf = jump = None
    # Built from checked values, so not validated again (a quarter of a big forward's time).
    report = LayerReport.model_construct(
        index=index, name=layer.name, type=LayerType(layer.type),
        input_size=list(size), output_size=out, padding=pads,
        in_channels=cin, out_channels=cout, params=params, macs=macs,
        receptive_field=_numbers(rf), jump=_numbers(jump),
    )
    return report, rf, jump


def _numbers(xs: tuple[Exact, ...] | None) -> list[float] | None:
    """Exact values for JSON: ints as they are, fractions as floats; None when a fraction
    is past what a float holds (a jump grown through dozens of strided layers)."""
    if xs is None:
        return None
    try:
        return [x if type(x) is int else int(x) if x.denominator == 1 else x.numerator / x.denominator
                for x in xs]
    except OverflowError:
        return None


def _tensor(names: dict[str, int], name: str, index: int, field: str) -> int:
    if name not in names:
        raise DocumentError(
            f"layers.{index}.{field}: no tensor named '{name}' before this layer "
            f"(known: {', '.join(names)})", loc=("layers", index, field))
    return names[name]


def _crop(index: int, layer: Any, size: tuple[int, ...], to: tuple[int, ...],
          channels: int | None) -> LayerReport:
    """A crop (its input at least as large as `to`), or a match (any input: padded,
    cropped or interpolated to the size of `to`)."""
    ctx = LayerContext(index, layer)
    out = []
    if layer.type == "match" and layer.by == "interpolate":
        try:
            A.upsample_mode(layer.mode, len(size))
        except A.Rejected as r:
            raise ctx.reject(r.rule, r.message, None, "mode") from None
    for a in range(len(size)):
        try:
            out.append(A.crop(size[a], to[a]) if layer.type == "crop" else to[a])
        except A.Rejected as r:
            raise ctx.reject(r.rule, f"{r.message} (the size of '{layer.to}')", a, "to") from None
    return LayerReport(index=index, name=layer.name, type=layer.type, input_size=list(size), output_size=out,
                       padding=None, in_channels=channels, out_channels=channels, params=0, macs=0,
                       receptive_field=None, jump=None)


def _join(
    index: int, layer: Concat | Add, sizes: list[tuple[int, ...]], channels: list[int | None],
    rfs: list[tuple[Exact, ...] | None], jumps: list[tuple[Exact, ...] | None],
) -> tuple[LayerReport, tuple[Exact, ...] | None, tuple[Exact, ...] | None]:
    """torch.cat on channels, or a sum: spatial sizes (and, to add, channels) must match."""
    ctx = LayerContext(index, layer)
    add = isinstance(layer, Add)
    out = []
    for a in range(len(sizes[0])):
        try:
            out.append(A.broadcast([s[a] for s in sizes]) if add else A.join([s[a] for s in sizes]))
        except A.Rejected as r:
            raise ctx.reject(r.rule, f"{r.message} (inputs {', '.join(layer.inputs)})", a, "inputs") from None
    known = [c for c in channels if c is not None]
    if add and known:
        try:
            A.broadcast(known, "channels")
        except A.Rejected as r:
            raise ctx.reject(r.rule, f"{r.message} (inputs {', '.join(layer.inputs)})", None, "inputs") from None
    if None in channels:
        out_c = None
    else:
        out_c = A.broadcast(channels, "channels") if add else sum(channels)  # type: ignore[arg-type]
    # The receptive field of a join is the largest of its inputs'; with equal jumps only.
    exact = None not in rfs and None not in jumps and all(j == jumps[0] for j in jumps)
    rf = tuple(max(r[a] for r in rfs) for a in range(len(sizes[0]))) if exact else None  # type: ignore[index]
    jump = jumps[0] if exact else None
    report = LayerReport(
        index=index, name=layer.name, type=layer.type, input_size=list(sizes[0]),
        output_size=out, padding=None, in_channels=out_c if add else None if None in channels else sum(
            c for c in channels if c is not None), out_channels=out_c, params=0, macs=0,
        receptive_field=_numbers(rf), jump=_numbers(jump),
    )
    return report, rf, jump


def forward(document: ForwardRequest | dict[str, Any]) -> ForwardResponse:
    """Sizes, channels, parameter counts, MACs and receptive field of a stack of layers.

    >>> r = forward({"input_size": [224, 224], "in_channels": 3, "layers": [
    ...     {"type": "conv", "kernel_size": 7, "stride": 2, "padding": 3, "out_channels": 64},
    ...     {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1}]})
    >>> r.output_size, r.out_channels, r.params
    ([56, 56], 64, 9472)

    Raises LayerRejected (which layer, axis and rule) for what the document's framework
    (PyTorch, Keras or onnxruntime, by its convention) would refuse.
    """
    doc: ForwardRequest = parse(ForwardRequest, document)
    one = (1,) * len(doc.input_size)
    # Tensor t: 0 is the input, t + 1 the output of layer t; a layer reads the one
    # before it unless its `input` (or a join's `inputs`) names another.
    sizes: list[tuple[int, ...]] = [tuple(doc.input_size)]
    channels: list[int | None] = [doc.in_channels]
    rfs: list[tuple[Exact, ...] | None] = [one]
    jumps: list[tuple[Exact, ...] | None] = [one]
    names = {"input": 0}
    reports = []
    for index, layer in enumerate(doc.layers):
        if isinstance(layer, Concat | Add):
            ins = [_tensor(names, n, index, "inputs") for n in layer.inputs]
            report, rf, jump = _join(index, layer, [sizes[t] for t in ins], [channels[t] for t in ins],
                                     [rfs[t] for t in ins], [jumps[t] for t in ins])
        elif isinstance(layer, Crop) or layer.type == "match":
            t = index if layer.input is None else _tensor(names, layer.input, index, "input")
            report = _crop(index, layer, sizes[t], sizes[_tensor(names, layer.to, index, "to")], channels[t])
            # A crop or a pad keeps what each remaining pixel sees; an interpolation blends.
            rf, jump = (None, None) if getattr(layer, "by", "") == "interpolate" else (rfs[t], jumps[t])
            report.receptive_field, report.jump = _numbers(rf), _numbers(jump)
        else:
            t = index if layer.input is None else _tensor(names, layer.input, index, "input")
            try:
                report, rf, jump = forward_layer(index, layer, sizes[t], channels[t], rfs[t], jumps[t],
                                                 doc.convention)
                if channels[t] is None:  # a layer's in_channels tells the count of a tensor left open
                    channels[t] = report.in_channels
            except LayerRejected as exc:
                exc.refused = (layer.model_dump(exclude_none=True), list(sizes[t]), doc.convention)
                raise
        reports.append(report)
        sizes.append(tuple(report.output_size))
        channels.append(report.out_channels)
        rfs.append(rf)
        jumps.append(jump)
        if layer.name is not None:
            if layer.name in names:
                raise DocumentError(f"layers.{index}.name: '{layer.name}' is used twice",
                                    loc=("layers", index, "name"))
            names[layer.name] = index + 1
    size, rf = sizes[-1], rfs[-1]
    channels_out = channels[-1]
    total = [r.params for r in reports]
    total_macs = [r.macs for r in reports]
    return ForwardResponse(
        input_size=list(doc.input_size), output_size=list(size),
        in_channels=doc.in_channels, out_channels=channels_out,
        params=None if None in total else sum(t for t in total if t is not None),
        macs=None if None in total_macs else sum(t for t in total_macs if t is not None),
        receptive_field=_numbers(rf), layers=reports,
    )
