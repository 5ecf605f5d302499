"""The forward engine: sizes, channels, parameters, MACs and receptive field of a stack."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ValidationError

from . import _arith as A
from ._document import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    Choices,
    Conv,
    ConvTranspose,
    ForwardRequest,
    ForwardResponse,
    Layer,
    LayerReport,
    LayerType,
    MaxPool,
    Range,
    Upsample,
)
from ._errors import DocumentError, LayerRejected


def parse(model: type[BaseModel], document: Any) -> Any:
    """Validate a document (dict or model) as `model`, turning pydantic errors into ours."""
    if isinstance(document, model):
        return document
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "document"
        raise DocumentError(f"{where}: {first['msg']}", loc=tuple(first["loc"])) from exc


def per_axis(value: Any, ndim: int, where: tuple[str | int, ...]) -> tuple[Any, ...]:
    """An int (or bool, float, None) for every axis, or one per axis, as a tuple of ndim."""
    if type(value) is int:  # the common case, and the cheap one
        return (value,) * ndim
    if isinstance(value, Range | Choices) or (
        isinstance(value, list) and any(isinstance(v, Range | Choices) for v in value)
    ):
        raise DocumentError(
            f"{'.'.join(map(str, where))}: a domain is only allowed in a solve document; "
            "forward needs concrete values",
            loc=where,
        )
    if isinstance(value, list):
        if len(value) != ndim:
            raise DocumentError(
                f"{'.'.join(map(str, where))}: has {len(value)} values but the input has "
                f"{ndim} spatial axes",
                loc=where,
            )
        return tuple(value)
    return (value,) * ndim


class _Context:
    """Raise LayerRejected with the layer's index, name and axis filled in."""

    def __init__(self, index: int, layer: Any) -> None:
        self.index = index
        self.layer = layer

    def label(self) -> str:
        name = f" '{self.layer.name}'" if self.layer.name else ""
        return f"layer {self.index}{name} ({self.layer.type})"

    def reject(self, rule: A.Rule, message: str, axis: int | None, field: str) -> LayerRejected:
        where = f", axis {axis}" if axis is not None else ""
        return LayerRejected(
            f"{self.label()}{where}: {message}",
            rule=rule.value,
            layer=self.index,
            name=self.layer.name,
            axis=axis,
            loc=("layers", self.index, field),
        )


# Which document field a rule is about, for the error's `loc`.
_RULE_FIELD = {
    A.Rule.KERNEL_POSITIVE: "kernel_size",
    A.Rule.STRIDE_POSITIVE: "stride",
    A.Rule.DILATION_POSITIVE: "dilation",
    A.Rule.PADDING_NON_NEGATIVE: "padding",
    A.Rule.KERNEL_FITS_INPUT: "kernel_size",
    A.Rule.SAME_NEEDS_STRIDE_1: "stride",
    A.Rule.OUTPUT_PADDING_NON_NEGATIVE: "output_padding",
    A.Rule.OUTPUT_PADDING_SMALLER: "output_padding",
    A.Rule.POOL_PADDING_HALF_KERNEL: "padding",
    A.Rule.AVG_POOL3D_INPUT_FITS_KERNEL: "kernel_size",
    A.Rule.SCALE_POSITIVE: "scale_factor",
    A.Rule.UPSAMPLE_MODE_NDIM: "mode",
    A.Rule.ADAPTIVE_KEEP_NEEDS_2D: "output_size",
}


def _size_field(layer: Any) -> str:
    """The field that sets a layer's output size, blamed when the size is refused."""
    if isinstance(layer, Upsample):
        return "size" if layer.size is not None else "scale_factor"
    if isinstance(layer, AdaptiveAvgPool | AdaptiveMaxPool):
        return "output_size"
    return "kernel_size"


def _channels(ctx: _Context, layer: Conv | ConvTranspose, incoming: int | None) -> tuple[int | None, int | None]:
    cin = layer.in_channels if layer.in_channels is not None else incoming
    if layer.in_channels is not None and incoming is not None and layer.in_channels != incoming:
        raise ctx.reject(
            A.Rule.CHANNELS_MATCH,
            f"in_channels is {layer.in_channels} but the incoming tensor has {incoming} channels",
            None, "in_channels",
        )
    cout = layer.out_channels
    for field, c in (("in_channels", cin), ("out_channels", cout)):
        if c is not None and c < 1:
            raise ctx.reject(A.Rule.CHANNELS_POSITIVE, f"{field} must be at least 1, got {c}", None, field)
    if layer.groups < 1:
        raise ctx.reject(A.Rule.GROUPS_POSITIVE, f"groups must be at least 1, got {layer.groups}", None, "groups")
    for field, c in (("in_channels", cin), ("out_channels", cout)):
        if c is not None and c % layer.groups:
            raise ctx.reject(
                A.Rule.GROUPS_DIVIDE_CHANNELS,
                f"{field} {c} must be divisible by groups {layer.groups}",
                None, field,
            )
    return cin, cout


# Receptive field and jump are exact rationals, kept as ints while they are integers
# (nearly always): Fraction arithmetic costs microseconds per operation.
Exact = int | Fraction


def _ratio(n: int, m: int) -> Exact:
    """n/m exactly: an int when m divides n."""
    return n // m if n % m == 0 else Fraction(n, m)


def _exact(x: Exact) -> Exact:
    """x as an int when it is an integer."""
    return x if type(x) is int or x.denominator != 1 else x.numerator


def _adaptive_window(i: int, o: int) -> int:
    """The largest window an adaptive pool uses from i inputs to o outputs."""
    return max(-(-((j + 1) * i) // o) - (j * i) // o for j in range(o)) if o <= 4096 else -(-i // o) + 1


def forward_layer(
    index: int, layer: Layer, size: tuple[int, ...], channels: int | None,
    rf: tuple[Exact, ...] | None, jump: tuple[Exact, ...] | None,
) -> tuple[LayerReport, tuple[Exact, ...] | None, tuple[Exact, ...] | None]:
    """Apply one layer; returns its report and the receptive field and jump after it."""
    ctx = _Context(index, layer)
    ndim = len(size)
    where = ("layers", index)
    out: list[int] = []
    pads: list[list[int]] | None = []
    windows: list[tuple[Exact, Exact]] | None = []  # (span, stride) per axis, for the RF
    params = macs = None
    cin, cout = channels, channels

    def axis(a: int, fn: Any, *args: Any) -> int:
        try:
            return int(fn(*args))
        except A.Rejected as r:
            raise ctx.reject(r.rule, r.message, a, _RULE_FIELD.get(r.rule, _size_field(layer))) from None

    if isinstance(layer, Conv | ConvTranspose):
        k = per_axis(layer.kernel_size, ndim, (*where, "kernel_size"))
        s = per_axis(layer.stride, ndim, (*where, "stride"))
        d = per_axis(layer.dilation, ndim, (*where, "dilation"))
        cin, cout = _channels(ctx, layer, channels)
        if isinstance(layer, Conv):
            if layer.padding in ("same", "valid"):
                for a in range(ndim):
                    if layer.padding == "same" and s[a] != 1:
                        raise ctx.reject(
                            A.Rule.SAME_NEEDS_STRIDE_1,
                            f"padding='same' needs stride 1, got stride {s[a]} "
                            "(PyTorch: padding='same' is not supported for strided convolutions)",
                            a, "stride",
                        )
                sides = [A.same_padding(k[a], d[a]) if layer.padding == "same" else (0, 0) for a in range(ndim)]
            else:
                p = per_axis(layer.padding, ndim, (*where, "padding"))
                sides = [(p[a], p[a]) for a in range(ndim)]
            for a in range(ndim):
                out.append(axis(a, A.conv, size[a], k[a], s[a], sides[a][0], sides[a][1], d[a]))
                windows.append((A.effective_kernel(k[a], d[a]), s[a]))
            pads = [list(x) for x in sides]
            if cin is not None and cout is not None:
                per_out = cin // layer.groups * math.prod(k)
                params = cout * per_out + (cout if layer.bias else 0)
                macs = math.prod(out) * cout * per_out
        else:
            p = per_axis(layer.padding, ndim, (*where, "padding"))
            op = per_axis(layer.output_padding, ndim, (*where, "output_padding"))
            for a in range(ndim):
                out.append(axis(a, A.conv_transpose, size[a], k[a], s[a], p[a], d[a], op[a]))
                e = A.effective_kernel(k[a], d[a])
                # An output sees at most floor((e-1)/s)+1 inputs; outputs are 1/s apart.
                windows.append(((e - 1) // s[a] + 1, _ratio(1, s[a])))
            pads = [[x, x] for x in p]
            if cin is not None and cout is not None:
                per_in = cout // layer.groups * math.prod(k)
                params = cin * per_in + (cout if layer.bias else 0)
                macs = math.prod(size) * cin * per_in
    elif isinstance(layer, MaxPool | AvgPool):
        k = per_axis(layer.kernel_size, ndim, (*where, "kernel_size"))
        s = k if layer.stride is None else per_axis(layer.stride, ndim, (*where, "stride"))
        p = per_axis(layer.padding, ndim, (*where, "padding"))
        ceil = layer.ceil_mode
        if not isinstance(ceil, bool):
            raise DocumentError(f"layers.{index}.ceil_mode: forward needs true or false", loc=(*where, "ceil_mode"))
        d = per_axis(layer.dilation, ndim, (*where, "dilation")) if isinstance(layer, MaxPool) else (1,) * ndim
        for a in range(ndim):
            if isinstance(layer, MaxPool):
                out.append(axis(a, A.pool, size[a], k[a], s[a], p[a], d[a], ceil))
            else:
                out.append(axis(a, A.avg_pool, size[a], k[a], s[a], p[a], ceil, ndim))
            windows.append((A.effective_kernel(k[a], d[a]), s[a]))
        pads = [[x, x] for x in p]
        params, macs = 0, 0
    elif isinstance(layer, Upsample):
        try:
            A.upsample_mode(layer.mode, ndim)
        except A.Rejected as r:
            raise ctx.reject(r.rule, r.message, None, "mode") from None
        if layer.size is not None:
            sz = per_axis(layer.size, ndim, (*where, "size"))
            for a in range(ndim):
                out.append(axis(a, A.upsample, size[a], None, sz[a]))
        else:
            sc = per_axis(layer.scale_factor, ndim, (*where, "scale_factor"))
            for a in range(ndim):
                out.append(axis(a, A.upsample, size[a], sc[a], None))
        # Each output reads one input (nearest) and outputs are i/o input pixels apart.
        windows = None if layer.mode != "nearest" else [
            (1, _ratio(size[a], out[a])) for a in range(ndim)
        ]
        pads, params, macs = None, 0, 0
    else:
        assert isinstance(layer, AdaptiveAvgPool | AdaptiveMaxPool)
        osz = per_axis(layer.output_size, ndim, (*where, "output_size"))
        for a in range(ndim):
            out.append(axis(a, A.adaptive_pool, size[a], osz[a], ndim))
            windows.append((_adaptive_window(size[a], out[a]), _ratio(size[a], out[a])))
        pads, params, macs = None, 0, 0

    if rf is not None and jump is not None and windows is not None:
        steps = [A.receptive_step(rf[a], jump[a], *windows[a]) for a in range(ndim)]
        rf, jump = tuple([_exact(x) for x, _ in steps]), tuple([_exact(y) for _, y in steps])
    else:
        rf = jump = None
    report = LayerReport(
        index=index, name=layer.name, type=LayerType(layer.type),
        input_size=list(size), output_size=out, padding=pads,
        in_channels=cin, out_channels=cout, params=params, macs=macs,
        receptive_field=_numbers(rf), jump=_numbers(jump),
    )
    return report, rf, jump


def _numbers(xs: tuple[Exact, ...] | None) -> list[float] | None:
    return None if xs is None else [int(x) if x.denominator == 1 else float(x) for x in xs]


def forward(document: ForwardRequest | dict[str, Any]) -> ForwardResponse:
    """Sizes, channels, parameter counts, MACs and receptive field of a stack of layers.

    >>> r = forward({"input_size": [224, 224], "in_channels": 3, "layers": [
    ...     {"type": "conv", "kernel_size": 7, "stride": 2, "padding": 3, "out_channels": 64},
    ...     {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1}]})
    >>> r.output_size, r.out_channels, r.params
    ([56, 56], 64, 9472)

    Raises LayerRejected (which layer, axis and rule) for what PyTorch would refuse.
    """
    doc: ForwardRequest = parse(ForwardRequest, document)
    size = tuple(doc.input_size)
    channels = doc.in_channels
    if channels is not None and channels < 1:
        raise DocumentError(f"in_channels must be at least 1, got {channels}", loc=("in_channels",))
    one = (1,) * len(size)
    rf: tuple[Exact, ...] | None = one
    jump: tuple[Exact, ...] | None = one
    reports = []
    for index, layer in enumerate(doc.layers):
        report, rf, jump = forward_layer(index, layer, size, channels, rf, jump)
        reports.append(report)
        size, channels = tuple(report.output_size), report.out_channels
    total = [r.params for r in reports]
    total_macs = [r.macs for r in reports]
    return ForwardResponse(
        input_size=list(doc.input_size), output_size=list(size),
        in_channels=doc.in_channels, out_channels=channels,
        params=None if None in total else sum(t for t in total if t is not None),
        macs=None if None in total_macs else sum(t for t in total_macs if t is not None),
        receptive_field=_numbers(rf), layers=reports,
    )
