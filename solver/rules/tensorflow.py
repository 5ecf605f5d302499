"""Keras 3 on TensorFlow, per axis: Conv*D, Conv*DTranspose, pooling, UpSampling, Resizing,
global pools."""

from __future__ import annotations

from .pytorch import upsample
from .shared import (
    AxisFn,
    at_least,
    auto_pad,
    check_common,
    effective_kernel,
    global_pool,
    padding_mode,
    positive,
    unsupported,
    upsample_mode,
)
from .verdicts import Rejected, Rule


def tensorflow(kind: str, k: int, s: int, padding: int | str, padding_end: int | None, d: int,
               op: int | None, output_shape: int | None, ceil_mode: bool, ndim: int,
               scale: float | None, size: int | None, mode: str) -> AxisFn:
    """Keras 3 on TensorFlow: Conv*D, Conv*DTranspose, MaxPooling*D, AveragePooling*D,
    UpSampling*D, Resizing, Global*Pooling*D(keepdims=True)."""
    if kind == "upsample":  # the mode first: Resizing refuses 'linear' as UpSampling2D does
        if mode != "nearest" and ndim != 2:
            raise unsupported(f"mode '{mode}' in {ndim}d (UpSampling1D/3D repeat: nearest)", "tensorflow", "mode")
        upsample_mode(mode, ndim)
        if size is not None:
            if ndim != 2:
                raise unsupported(f"an upsample to a size in {ndim}d (Resizing is 2d)", "tensorflow", "size")
            return lambda i: (upsample(i, None, size), None)
        assert scale is not None
        if scale != int(scale):
            raise unsupported(f"scale_factor {scale} (UpSampling repeats an integer number of times)",
                               "tensorflow", "scale_factor")
        return lambda i: (upsample(i, scale, None), None)
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return lambda i: global_pool(i, size, "tensorflow")
    padding_mode(padding, kind, "tensorflow")
    check_common(k, s, d, (0,))
    e = effective_kernel(k, d)
    if kind == "conv_transpose":
        return tf_conv_transpose(k, s, padding, d, op)  # type: ignore[arg-type]
    if kind in ("max_pool", "avg_pool"):
        if ceil_mode:
            raise unsupported("ceil_mode", "tensorflow", "ceil_mode")
        if d != 1:
            raise unsupported("a dilated pool", "tensorflow", "dilation")
        e = k
    elif kind != "conv":
        raise ValueError(f"no size rule for layer type {kind!r}")
    if padding == "valid":
        return lambda i: (_windows(i, 0, 0, e, s), (0, 0))

    def same(i: int) -> tuple[int, tuple[int, int]]:
        pb, pe = auto_pad(i, s, e, "same")
        return _windows(i, pb, pe, e, s), (pb, pe)

    return same


def _windows(i: int, pb: int, pe: int, e: int, s: int) -> int:
    """floor((i + pb + pe - e)/s) + 1 windows of span e; at least one must fit.  Only
    'valid' can fail ('same' pads up to the window): Keras refuses an empty output too."""
    if i + pb + pe < e:
        raise Rejected(Rule.KERNEL_FITS_INPUT,
                       f"input {i} is shorter than the window {e} with padding 'valid' "
                       "(Keras: computed output size would be zero or negative)")
    return (i + pb + pe - e) // s + 1


def tf_conv_transpose(k: int, s: int, padding: str, d: int, op: int | None) -> AxisFn:
    """Keras Conv*DTranspose.  Without output_padding the output is i*s ('same') or
    i*s + max(e - s, 0) ('valid'); with it, (i-1)*s + e - 2*pad + op, pad = e//2 for
    'same', and TensorFlow then checks that a conv of that output gives back i (only
    'same' can fail: Conv1DTranspose(2, 4, 2, 'same', output_padding=0) on 4 gives 6 -> 3)."""
    e = effective_kernel(k, d)
    if op is not None:
        at_least("output_padding", op)
        if op >= s:  # Keras: stride, not dilation (PyTorch takes either)
            raise Rejected(Rule.OUTPUT_PADDING_SMALLER,
                           f"output_padding {op} must be smaller than the stride {s} "
                           "(Keras: `output_padding` must be strictly less than `strides`)")

    def out(i: int) -> tuple[int, tuple[int, int]]:
        if op is None:
            o = i * s if padding == "same" else i * s + max(e - s, 0)
        else:
            o = (i - 1) * s + e - 2 * (e // 2 if padding == "same" else 0) + op
            if o < 1:  # an even kernel, 'same', input 1, output_padding 0: Keras returns it, empty
                raise Rejected(Rule.OUTPUT_POSITIVE,
                               f"output_padding {op} makes the output {o} (Keras returns an empty tensor)",
                               "output_padding")
            back = -(-o // s) if padding == "same" else (o - e) // s + 1 if o >= e else 0
            if back != i:
                raise Rejected(Rule.OUTPUT_SHAPE_MISMATCH,
                               f"output_padding {op} makes the output {o}, and a '{padding}' conv of {o} "
                               f"gives {back}, not the input {i}: TensorFlow runs the transposed conv as "
                               "that conv's gradient and refuses it (size of out_backprop doesn't match "
                               "computed)", "output_padding")
        full = (i - 1) * s + e
        begin = max(0, full - o) // 2 if padding == "same" else 0
        return positive(o, i), (begin, full - o - begin + (op or 0))

    return out
