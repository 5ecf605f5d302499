"""Keras 3 on TensorFlow, per axis: Conv*D, Conv*DTranspose, pooling, UpSampling, Resizing,
global pools."""

from __future__ import annotations

from .pytorch import upsample
from .shared import (
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


def tensorflow(kind: str, i: int, k: int, s: int, padding: int | str, padding_end: int | None, d: int,
               op: int | None, output_shape: int | None, ceil_mode: bool, ndim: int,
               scale: float | None, size: int | None, mode: str) -> tuple[int, tuple[int, int] | None]:
    """Keras 3 on TensorFlow: Conv*D, Conv*DTranspose, MaxPooling*D, AveragePooling*D,
    UpSampling*D, Resizing, Global*Pooling*D(keepdims=True)."""
    if kind == "upsample":  # the mode first: Resizing refuses 'linear' as UpSampling2D does
        if mode != "nearest" and ndim != 2:
            raise unsupported(f"mode '{mode}' in {ndim}d (UpSampling1D/3D repeat: nearest)", "tensorflow", "mode")
        upsample_mode(mode, ndim)
        if size is not None:
            if ndim != 2:
                raise unsupported(f"an upsample to a size in {ndim}d (Resizing is 2d)", "tensorflow", "size")
            return upsample(i, None, size), None
        assert scale is not None
        if scale != int(scale):
            raise unsupported(f"scale_factor {scale} (UpSampling repeats an integer number of times)",
                               "tensorflow", "scale_factor")
        return upsample(i, scale, None), None
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return global_pool(i, size, "tensorflow")
    padding_mode(padding, kind, "tensorflow")
    check_common(k, s, d, (0,))
    e = effective_kernel(k, d)
    if kind == "conv":
        pb, pe = auto_pad(i, s, e, "same") if padding == "same" else (0, 0)
        return _windows(i, pb, pe, e, s), (pb, pe)
    if kind == "conv_transpose":
        return tf_conv_transpose(i, k, s, padding, d, op)  # type: ignore[arg-type]
    if kind in ("max_pool", "avg_pool"):
        if ceil_mode:
            raise unsupported("ceil_mode", "tensorflow", "ceil_mode")
        if d != 1:
            raise unsupported("a dilated pool", "tensorflow", "dilation")
        pb, pe = auto_pad(i, s, k, "same") if padding == "same" else (0, 0)
        return _windows(i, pb, pe, k, s), (pb, pe)
    raise ValueError(f"no size rule for layer type {kind!r}")


def _windows(i: int, pb: int, pe: int, e: int, s: int) -> int:
    """floor((i + pb + pe - e)/s) + 1 windows of span e; at least one must fit.  Only
    'valid' can fail ('same' pads up to the window): Keras refuses an empty output too."""
    if i + pb + pe < e:
        raise Rejected(Rule.KERNEL_FITS_INPUT,
                       f"input {i} is shorter than the window {e} with padding 'valid' "
                       "(Keras: computed output size would be zero or negative)")
    return (i + pb + pe - e) // s + 1


def tf_conv_transpose(i: int, k: int, s: int, padding: str, d: int,
                      op: int | None) -> tuple[int, tuple[int, int]]:
    """Keras Conv*DTranspose.  Without output_padding the output is i*s ('same') or
    i*s + max(e - s, 0) ('valid'); with it, (i-1)*s + e - 2*pad + op, pad = e//2 for
    'same', and TensorFlow then checks that a conv of that output gives back i (only
    'same' can fail: Conv1DTranspose(2, 4, 2, 'same', output_padding=0) on 4 gives 6 -> 3)."""
    e = effective_kernel(k, d)
    if op is None:
        out = i * s if padding == "same" else i * s + max(e - s, 0)
    else:
        at_least("output_padding", op)
        if op >= s:  # Keras: stride, not dilation (PyTorch takes either)
            raise Rejected(Rule.OUTPUT_PADDING_SMALLER,
                           f"output_padding {op} must be smaller than the stride {s} "
                           "(Keras: `output_padding` must be strictly less than `strides`)")
        out = (i - 1) * s + e - 2 * (e // 2 if padding == "same" else 0) + op
        if out < 1:  # an even kernel, 'same', input 1, output_padding 0: Keras returns it, empty
            raise Rejected(Rule.OUTPUT_POSITIVE,
                           f"output_padding {op} makes the output {out} (Keras returns an empty tensor)",
                           "output_padding")
        back = -(-out // s) if padding == "same" else (out - e) // s + 1 if out >= e else 0
        if back != i:
            raise Rejected(Rule.OUTPUT_SHAPE_MISMATCH,
                           f"output_padding {op} makes the output {out}, and a '{padding}' conv of {out} "
                           f"gives {back}, not the input {i}: TensorFlow runs the transposed conv as "
                           "that conv's gradient and refuses it (size of out_backprop doesn't match "
                           "computed)", "output_padding")
    full = (i - 1) * s + e
    begin = max(0, full - out) // 2 if padding == "same" else 0
    return positive(out, i), (begin, full - out - begin + (op or 0))
