"""PyTorch's shape arithmetic, per axis, written once.

Every size formula and every rejection rule lives here and nowhere else: the forward
engine calls these functions, the solver compiles them into tables, and the tests
compare them with real torch.  Notation per axis: i input, k kernel, s stride,
p padding (begin/end), d dilation, op output_padding, e = d*(k-1)+1 the dilated kernel.

Each function returns the output size or raises `Rejected` with the rule broken.
"""

from __future__ import annotations

import math
from fractions import Fraction
from enum import StrEnum, unique


@unique
class Rule(StrEnum):
    """Why PyTorch refuses a configuration.  Values are stable ids used in the API."""

    KERNEL_POSITIVE = "kernel_positive"
    STRIDE_POSITIVE = "stride_positive"
    DILATION_POSITIVE = "dilation_positive"
    PADDING_NON_NEGATIVE = "padding_non_negative"
    KERNEL_FITS_INPUT = "kernel_fits_input"
    SAME_NEEDS_STRIDE_1 = "same_needs_stride_1"
    SAME_NOT_FOR_TRANSPOSED = "same_not_for_transposed"
    OUTPUT_PADDING_NON_NEGATIVE = "output_padding_non_negative"
    OUTPUT_PADDING_SMALLER = "output_padding_smaller_than_stride_or_dilation"
    OUTPUT_POSITIVE = "output_positive"
    POOL_PADDING_HALF_KERNEL = "pool_padding_at_most_half_kernel"
    AVG_POOL3D_INPUT_FITS_KERNEL = "avg_pool3d_input_at_least_kernel"
    SCALE_POSITIVE = "scale_positive"
    GROUPS_POSITIVE = "groups_positive"
    GROUPS_DIVIDE_CHANNELS = "groups_divide_channels"
    CHANNELS_MATCH = "channels_match"
    CHANNELS_POSITIVE = "channels_positive"
    UPSAMPLE_MODE_NDIM = "upsample_mode_matches_ndim"
    JOIN_SIZES_MATCH = "join_sizes_match"
    CROP_FITS = "crop_fits_input"
    ADAPTIVE_KEEP_NEEDS_2D = "adaptive_keep_size_needs_2d_or_3d"


class Rejected(Exception):  # noqa: N818 - a verdict, not an error of the program
    """One axis of one layer breaks a PyTorch rule.  The caller adds layer and axis."""

    def __init__(self, rule: Rule, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def effective_kernel(k: int, d: int) -> int:
    """The span of a dilated kernel: d*(k-1)+1."""
    return d * (k - 1) + 1


def _check_common(k: int, s: int, d: int, pads: tuple[int, ...]) -> None:
    if k < 1:
        raise Rejected(Rule.KERNEL_POSITIVE, f"kernel_size must be at least 1, got {k}")
    if s < 1:
        raise Rejected(Rule.STRIDE_POSITIVE, f"stride must be at least 1, got {s}")
    if d < 1:
        raise Rejected(Rule.DILATION_POSITIVE, f"dilation must be at least 1, got {d}")
    if min(pads) < 0:
        raise Rejected(Rule.PADDING_NON_NEGATIVE, f"padding must be non-negative, got {min(pads)}")


def _positive(out: int, i: int) -> int:
    if out < 1:
        raise Rejected(
            Rule.OUTPUT_POSITIVE,
            f"output size would be {out} for input {i} (PyTorch: output size is too small)",
        )
    return out


def conv(i: int, k: int, s: int, pb: int, pe: int, d: int) -> int:
    """Conv{1,2,3}d: floor((i + pb + pe - e)/s) + 1; pb != pe only for padding='same'."""
    _check_common(k, s, d, (pb, pe))
    e = effective_kernel(k, d)
    if i + pb + pe < e:
        raise Rejected(
            Rule.KERNEL_FITS_INPUT,
            f"padded input {i + pb + pe} is smaller than the dilated kernel {e} "
            "(PyTorch: kernel size can't be greater than actual input size)",
        )
    return (i + pb + pe - e) // s + 1


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


def conv_transpose(i: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """ConvTranspose{1,2,3}d: (i-1)*s - 2p + e + op; op must be below stride or dilation."""
    _check_common(k, s, d, (p,))
    if op < 0:
        raise Rejected(
            Rule.OUTPUT_PADDING_NON_NEGATIVE, f"output_padding must be non-negative, got {op}"
        )
    if op >= s and op >= d:
        raise Rejected(
            Rule.OUTPUT_PADDING_SMALLER,
            f"output_padding {op} must be smaller than either stride {s} or dilation {d}",
        )
    return _positive((i - 1) * s - 2 * p + effective_kernel(k, d) + op, i)


def pool(i: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """MaxPool/AvgPool size: floor or ceil of (i + 2p - e)/s, plus 1.

    In ceil mode the last window must start inside the input or the left padding,
    so one is taken off when (out - 1)*s >= i + p.  PyTorch compares p with half the
    kernel size, not the dilated kernel, in 1d, 2d and 3d.
    """
    _check_common(k, s, d, (p,))
    if p > k // 2:
        raise Rejected(
            Rule.POOL_PADDING_HALF_KERNEL,
            f"padding {p} must be at most half the kernel size {k} (at most {k // 2})",
        )
    e = effective_kernel(k, d)
    if ceil_mode:
        out = (i + 2 * p - e + s - 1) // s + 1
        if (out - 1) * s >= i + p:
            out -= 1
    else:
        out = (i + 2 * p - e) // s + 1
    return _positive(out, i)


def avg_pool(i: int, k: int, s: int, p: int, ceil_mode: bool, ndim: int) -> int:
    """AvgPool{1,2,3}d: pool() with d = 1; avg_pool3d also wants the unpadded input >= k."""
    out = pool(i, k, s, p, 1, ceil_mode)
    if ndim == 3 and i < k:
        raise Rejected(
            Rule.AVG_POOL3D_INPUT_FITS_KERNEL,
            f"input {i} is smaller than the kernel size {k} (avg_pool3d checks the unpadded input)",
        )
    return out


#: The spatial rank each interpolation mode works in; "nearest" works in all three.
_MODE_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def upsample_mode(mode: str, ndim: int) -> None:
    """Upsample's mode must fit the input: linear 1d, bilinear and bicubic 2d, trilinear 3d."""
    need = _MODE_NDIM.get(mode)
    if need is not None and need != ndim:
        raise Rejected(
            Rule.UPSAMPLE_MODE_NDIM,
            f"mode '{mode}' needs {need} spatial axes, got {ndim} "
            f"(PyTorch: Got {ndim + 2}D input, but {mode} mode needs {need + 2}D input)",
        )


def upsample(i: int, scale: float | None, size: int | None) -> int:
    """Upsample / F.interpolate: the given size, or floor(i * scale_factor)."""
    if size is not None:
        out = size
    else:
        assert scale is not None
        if not scale > 0:
            raise Rejected(Rule.SCALE_POSITIVE, f"scale_factor must be positive, got {scale}")
        out = math.floor(i * scale)
    return _positive(out, i)


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
    return _positive(size, i)


def join(sizes: list[int]) -> int:
    """torch.cat / add of tensors: one axis' sizes must all be equal."""
    if any(x != sizes[0] for x in sizes):
        raise Rejected(
            Rule.JOIN_SIZES_MATCH,
            f"sizes {', '.join(map(str, sizes))} differ (PyTorch: sizes of tensors must match)",
        )
    return sizes[0]


def crop(i: int, size: int) -> int:
    """Centre crop of one axis to `size`: the input must be at least that large."""
    if size > i:
        raise Rejected(Rule.CROP_FITS, f"cannot crop {i} to the larger {size}")
    return size


def window(kind: str, k: int, s: int, d: int) -> tuple[int, Fraction | int]:
    """(span, step) of one axis: how many inputs one output sees, and how far apart
    neighbouring outputs are, in inputs.  A transposed conv's output sees at most
    floor((e-1)/s)+1 inputs, and its outputs are 1/s input apart."""
    e = effective_kernel(k, d)
    if kind == "conv_transpose":
        return (e - 1) // s + 1, Fraction(1, s)
    return e, s


def receptive_step(r: float, j: float, e: float, s: float) -> tuple[float, float]:
    """Grow the receptive field r and jump j through a window of span e and stride s."""
    return r + (e - 1) * j, j * s


def axis_output(
    kind: str, i: int, *, k: int = 1, s: int = 1, padding: int | str = 0, d: int = 1,
    op: int = 0, ceil_mode: bool = False, ndim: int = 1,
    scale: float | None = None, size: int | None = None, mode: str = "nearest",
) -> int:
    """One axis of one layer, by layer type; padding may be an int, "same" or "valid"."""
    if kind == "conv":
        if padding == "same":
            same_needs_stride_1(s)
        return conv(i, k, s, *padding_sides(padding, k, d), d)
    if kind == "conv_transpose":
        return conv_transpose(i, k, s, int(padding), d, op)
    if kind == "max_pool":
        return pool(i, k, s, int(padding), d, ceil_mode)
    if kind == "avg_pool":
        return avg_pool(i, k, s, int(padding), ceil_mode, ndim)
    if kind == "upsample":
        upsample_mode(mode, ndim)
        return upsample(i, scale, size)
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return adaptive_pool(i, size, ndim)
    raise ValueError(f"no size rule for layer type {kind!r}")
