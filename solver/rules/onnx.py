"""onnxruntime's size arithmetic, per axis: Conv, ConvTranspose, MaxPool, AveragePool,
Resize, Global*Pool (and where ONNX's shape inference disagrees, refused)."""

from __future__ import annotations

import math
import struct

from .pytorch import conv
from .shared import (
    AxisFn,
    at_least,
    auto_pad,
    check_common,
    effective_kernel,
    global_pool,
    padding_mode,
    positive,
    upsample_mode,
    with_pads,
)
from .verdicts import Rejected, Rule


def onnx(kind: str, k: int, s: int, padding: int | str, padding_end: int | None, d: int,
         op: int | None, output_shape: int | None, ceil_mode: bool, ndim: int,
         scale: float | None, size: int | None, mode: str) -> AxisFn:
    """onnxruntime's Conv, ConvTranspose, MaxPool, AveragePool, Resize, Global*Pool."""
    if kind == "upsample":
        if mode != "linear":  # Resize has one "linear" for every rank
            upsample_mode(mode, ndim)  # bicubic is onnxruntime's 2d-only "cubic"
        return lambda i: (onnx_resize(i, scale, size), None)
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return lambda i: global_pool(i, size, "onnx")
    padding_mode(padding, kind, "onnx")
    if isinstance(padding, str) and padding_end is not None:
        raise Rejected(Rule.PADDING_MODE, f"padding_end goes with an int padding, not '{padding}'",
                       "padding_end")
    pb = 0 if isinstance(padding, str) else padding
    pe = pb if padding_end is None or isinstance(padding, str) else padding_end
    check_common(k, s, d, (pb, pe))
    e = effective_kernel(k, d)
    if kind == "conv_transpose":
        return onnx_conv_transpose(k, s, padding, pe, d, 0 if op is None else op, output_shape)
    if kind not in ("conv", "max_pool", "avg_pool"):
        raise ValueError(f"no size rule for layer type {kind!r}")
    auto = isinstance(padding, str) and padding != "valid"
    if auto:
        onnx_same_settings(kind, k, d, padding)  # type: ignore[arg-type]

    def out(i: int) -> tuple[int, tuple[int, int]]:
        lo, hi = pb, pe
        if auto:
            onnx_same_rules(kind, i, k, s, d, padding)  # type: ignore[arg-type]
            lo, hi = auto_pad(i, s, e, padding)  # type: ignore[arg-type]
        if kind == "conv":
            return conv(k, s, lo, hi, d)(i), (lo, hi)
        if max(lo, hi) >= k:
            raise Rejected(Rule.POOL_PADDING_HALF_KERNEL,
                           f"padding {max(lo, hi)} must be smaller than the kernel size {k}")
        return positive(onnx_pool(i, lo, hi, e, s, ceil_mode), i), (lo, hi)

    if kind == "conv" and not auto:  # fixed pads: PyTorch's conv, bound once
        return with_pads(conv(k, s, pb, pe, d), (pb, pe))
    return out


def onnx_same_settings(kind: str, k: int, d: int, padding: str) -> None:
    """What onnxruntime refuses with SAME_UPPER / SAME_LOWER on a conv or pool, whatever
    the input: Conv refuses any dilation.  MaxPool sizes the padding for the undilated
    kernel, so a dilated window gives less than ceil(i/s), or nothing: refused too (a
    1-wide window is the same dilated or not)."""
    mode = padding.upper()
    if d != 1 and kind == "conv":
        raise Rejected(Rule.NOT_IN_CONVENTION,
                       f"dilation {d} with auto_pad {mode}: onnxruntime's Conv does not support it "
                       "(Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER)",
                       "dilation")


def onnx_same_rules(kind: str, i: int, k: int, s: int, d: int, padding: str) -> None:
    """What onnxruntime refuses with SAME_UPPER / SAME_LOWER on a conv or pool, for input i.

    MaxPool sizes the padding for the undilated kernel, so a dilated window gives less
    than ceil(i/s), or nothing: refused.  MaxPool also refuses the negative padding
    (ceil(i/s)-1)*s + e - i < 0 of a stride longer than the window, where Conv and
    AveragePool crop instead.
    """
    mode = padding.upper()
    if d != 1 and kind == "max_pool" and k > 1:
        raise Rejected(Rule.NOT_IN_CONVENTION,
                       f"dilation {d} with auto_pad {mode}: onnxruntime's MaxPool pads for the undilated "
                       f"kernel {k}, so the output is not ceil(i/s) = {-(-i // s)}; pad explicitly",
                       "dilation")
    need = (-(-i // s) - 1) * s + effective_kernel(k, d) - i
    if kind == "max_pool" and need < 0:  # (a MaxPool dilated on any axis runs, other code)
        raise Rejected(Rule.PADDING_NON_NEGATIVE,
                       f"auto_pad {mode} would pad by {need} (stride {s} is longer than the window "
                       f"{effective_kernel(k, d)} on input {i}); onnxruntime's MaxPool refuses "
                       "negative padding", "padding")


def onnx_resize(i: int, scale: float | None, size: int | None) -> int:
    """Resize: the given size, or floor(scale * i) in float32, as onnxruntime computes it
    (the scales input is a float tensor): scale 0.29 on 100 gives 29, not 28."""
    if size is not None:
        return positive(size, i)
    assert scale is not None
    if not scale > 0:
        raise Rejected(Rule.SCALE_POSITIVE, f"scale_factor must be positive, got {scale}")
    return positive(math.floor(_float32(_float32(scale) * i)), i)


def _float32(x: float) -> float:
    """x rounded to the nearest float32 (a product of two float32 is exact in a double)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def onnx_pool(i: int, pb: int, pe: int, e: int, s: int, ceil_mode: bool) -> int:
    """MaxPool / AveragePool: (i + pb + pe - e)/s rounded, plus 1; in ceil mode, minus 1
    when the last window would start at or past i + pb.

    A window longer than the padded input (a negative span) still gives an output where
    onnxruntime and ONNX's shape inference agree on one: onnxruntime rounds the span's
    quotient toward zero (floor mode) or up (ceil mode), the shape inference toward zero
    in both; convsolve takes their common answer, and refuses where they differ."""
    span = i + pb + pe - e
    out = _pool_windows(-(-span // s) if ceil_mode else _toward_zero(span, s), s, i + pb, ceil_mode)
    if span < 0:
        spec = _pool_windows(_toward_zero(span + (s - 1 if ceil_mode else 0), s), s, i + pb, ceil_mode)
        if out < 1 and spec < 1:
            raise Rejected(Rule.KERNEL_FITS_INPUT,
                           f"padded input {i + pb + pe} is smaller than the window {e}, and the stride {s} "
                           "leaves no output")
        if out != spec:
            raise Rejected(Rule.KERNEL_FITS_INPUT,
                           f"padded input {i + pb + pe} is smaller than the window {e}: onnxruntime gives "
                           f"{max(out, 0)} outputs and ONNX's shape inference {spec}; convsolve refuses "
                           "where they disagree")
    return out


def _toward_zero(n: int, d: int) -> int:
    """n / d rounded toward zero (C's integer division), d > 0."""
    return -(-n // d) if n < 0 else n // d


def _pool_windows(q: int, s: int, reach: int, ceil_mode: bool) -> int:
    """q + 1 windows, less the last in ceil mode when it starts at or past `reach`."""
    out = q + 1
    if ceil_mode and (out - 1) * s >= reach:
        out -= 1
    return out


def onnx_conv_transpose(k: int, s: int, padding: int | str, pe: int, d: int, op: int,
                        output_shape: int | None) -> AxisFn:
    """ConvTranspose: the full output (i-1)*s + e + op, cut by the pads.  With output_shape
    (the pads are then ignored) or SAME_* (output min(i*s, full)), the cut is what the size
    leaves, its odd pixel at the end for SAME_UPPER, at the beginning otherwise; an
    output_shape past the full output extends it at the end.  onnxruntime checks that a
    conv of the output gives back the input: so op < s, and output_shape < full - op + s."""
    at_least("output_padding", op)
    if op >= s:  # onnxruntime: op < max(s, d), then the conv-back check, which wants op < s
        raise Rejected(Rule.OUTPUT_PADDING_SMALLER,
                       f"output_padding {op} must be smaller than the stride {s} (onnxruntime: "
                       "the output would not convolve back to the input)")
    e = effective_kernel(k, d)

    def out(i: int) -> tuple[int, tuple[int, int]]:
        full = (i - 1) * s + e + op
        if output_shape is not None or padding in ("same_upper", "same_lower"):
            o = min(i * s, full) if output_shape is None else output_shape
            if o >= full - op + s:
                raise Rejected(Rule.OUTPUT_SHAPE_MISMATCH,
                               f"output_shape {o} is longer than input {i} can give: at most "
                               f"(i-1)*s + e + s-1 = {full - op + s - 1} (onnxruntime: Explicit output_shape "
                               "is inconsistent with input spatial dimensions)", "output_shape")
            total = max(0, full - o)
            begin = total // 2 if padding == "same_upper" else total - total // 2
            end = full - o - begin
        elif padding == "valid":
            begin = end = 0
        else:
            begin, end = int(padding), pe
        return positive(full - begin - end, i), (begin, end)

    return out
