"""PyTorch's size arithmetic, per axis: Conv, ConvTranspose, MaxPool, AvgPool, Upsample,
adaptive pools (ATen's shape checks, word for word where they refuse).

A layer's settings are checked once, when its rule is bound; the function returned
maps an input size to the output size (see shared.SizeFn)."""

from __future__ import annotations

import math

from .shared import (
    AxisFn,
    SizeFn,
    at_least,
    check_common,
    effective_kernel,
    padding_mode,
    positive,
    upsample_mode,
    with_pads,
)
from .verdicts import Rejected, Rule


def conv(k: int, s: int, pb: int, pe: int, d: int) -> SizeFn:
    """Conv{1,2,3}d: floor((i + pb + pe - e)/s) + 1; pb != pe only for padding='same'."""
    check_common(k, s, d, (pb, pe))
    e = effective_kernel(k, d)

    def out(i: int) -> int:
        if i + pb + pe < e:
            raise Rejected(
                Rule.KERNEL_FITS_INPUT,
                f"padded input {i + pb + pe} is smaller than the dilated kernel {e} "
                "(PyTorch: kernel size can't be greater than actual input size)",
            )
        return (i + pb + pe - e) // s + 1

    return out


def same_padding(k: int, d: int) -> tuple[int, int]:
    """PyTorch's padding='same' split of d*(k-1): the extra pixel goes at the end."""
    total = d * (k - 1)
    return total // 2, total - total // 2


def same_needs_stride_1(s: int) -> None:
    """PyTorch refuses padding='same' on a strided conv."""
    if s != 1:
        raise Rejected(
            Rule.SAME_NEEDS_STRIDE_1,
            f"padding='same' needs stride 1, got stride {s} "
            "(PyTorch: padding='same' is not supported for strided convolutions)",
        )


def padding_sides(padding: int | str, k: int, d: int) -> tuple[int, int]:
    """(begin, end) padding of one axis: an int on both sides, "valid" none, "same" PyTorch's split."""
    if padding == "same":
        return same_padding(k, d)
    p = 0 if padding == "valid" else int(padding)
    return p, p


def conv_transpose(k: int, s: int, p: int, d: int, op: int) -> SizeFn:
    """ConvTranspose{1,2,3}d: (i-1)*s - 2p + e + op; op must be below stride or dilation."""
    check_common(k, s, d, (p,))
    at_least("output_padding", op)
    if op >= s and op >= d:
        raise Rejected(
            Rule.OUTPUT_PADDING_SMALLER,
            f"output_padding {op} must be smaller than either stride {s} or dilation {d}",
        )
    e = effective_kernel(k, d)
    # An output of 0 is refused, as ATen's shape check refuses it ("Output size is too
    # small"); only the multi-threaded batched oneDNN kernel returns the empty tensor.
    return lambda i: positive((i - 1) * s - 2 * p + e + op, i)


def pool(k: int, s: int, p: int, d: int, ceil_mode: bool) -> SizeFn:
    """MaxPool/AvgPool size: floor or ceil of (i + 2p - e)/s, plus 1.

    In ceil mode the last window must start inside the input or the left padding,
    so one is taken off when (out - 1)*s >= i + p.  PyTorch compares p with half the
    kernel size, not the dilated kernel, in 1d, 2d and 3d.
    """
    check_common(k, s, d, (p,))
    if p > k // 2:
        raise Rejected(
            Rule.POOL_PADDING_HALF_KERNEL,
            f"padding {p} must be at most half the kernel size {k} (at most {k // 2})",
        )
    e = effective_kernel(k, d)

    def out(i: int) -> int:
        if ceil_mode:
            o = (i + 2 * p - e + s - 1) // s + 1
            if (o - 1) * s >= i + p:
                o -= 1
        else:
            o = (i + 2 * p - e) // s + 1
        return positive(o, i)

    return out


def avg_pool(k: int, s: int, p: int, ceil_mode: bool, ndim: int) -> SizeFn:
    """AvgPool{1,2,3}d: pool() with d = 1; avg_pool3d also wants the unpadded input >= k."""
    windows = pool(k, s, p, 1, ceil_mode)
    if ndim != 3:
        return windows

    def out(i: int) -> int:
        o = windows(i)
        if i < k:
            raise Rejected(
                Rule.AVG_POOL3D_INPUT_FITS_KERNEL,
                f"input {i} is smaller than the kernel size {k} (avg_pool3d checks the unpadded input)",
            )
        return o

    return out


def upsample(i: int, scale: float | None, size: int | None) -> int:
    """Upsample / F.interpolate: the given size, or floor(i * scale_factor)."""
    if size is not None:
        out = size
    else:
        assert scale is not None
        if not scale > 0:
            raise Rejected(Rule.SCALE_POSITIVE, f"scale_factor must be positive, got {scale}")
        out = math.floor(i * scale)
    return positive(out, i)


def adaptive_pool(i: int, size: int | None, ndim: int) -> int:
    """AdaptiveAvgPool / AdaptiveMaxPool: the given size (None keeps the input size, 2d/3d)."""
    if size is None:
        if ndim == 1:
            raise Rejected(
                Rule.ADAPTIVE_KEEP_NEEDS_2D,
                "output_size None (keep the input size) needs 2 or 3 spatial axes; "
                "AdaptiveAvgPool1d and AdaptiveMaxPool1d take an int "
                "(PyTorch: output_size must be tuple of ints, but found element of type NoneType)",
            )
        return i
    return positive(size, i)



def pytorch(kind: str, k: int, s: int, padding: int | str, padding_end: int | None, d: int,
            op: int | None, output_shape: int | None, ceil_mode: bool, ndim: int,
            scale: float | None, size: int | None, mode: str) -> AxisFn:
    """torch.nn's Conv, ConvTranspose, MaxPool, AvgPool, Upsample and adaptive pools
    (padding_end and output_shape are ONNX's: refused before this is called)."""
    if kind == "conv":
        padding_mode(padding, kind, "pytorch")
        if padding == "same":
            same_needs_stride_1(s)
        pb, pe = padding_sides(padding, k, d)
        return with_pads(conv(k, s, pb, pe, d), (pb, pe))
    if kind == "upsample":
        upsample_mode(mode, ndim)
        return lambda i: (upsample(i, scale, size), None)
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return lambda i: (adaptive_pool(i, size, ndim), None)
    padding_mode(padding, kind, "pytorch")
    p, op = int(padding), 0 if op is None else op
    if kind == "conv_transpose":
        return with_pads(conv_transpose(k, s, p, d, op), (p, p))
    if kind == "max_pool":
        return with_pads(pool(k, s, p, d, ceil_mode), (p, p))
    if kind == "avg_pool":
        return with_pads(avg_pool(k, s, p, ceil_mode, ndim), (p, p))
    raise ValueError(f"no size rule for layer type {kind!r}")
