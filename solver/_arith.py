"""The shape arithmetic of PyTorch, TensorFlow/Keras and ONNX, per axis, written once.

Every size formula and every rejection rule lives here and nowhere else: the forward
engine calls these functions, the solver compiles them into tables, and the tests
compare them with real torch, Keras and onnxruntime.  Notation per axis: i input,
k kernel, s stride, p padding (begin/end), d dilation, op output_padding,
e = d*(k-1)+1 the dilated kernel.  `axis_layer` dispatches on layer type and convention.

Each function returns the output size or raises `Rejected` with the rule broken.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from enum import StrEnum, unique
from typing import Any


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
    ADD_SIZES_BROADCAST = "add_sizes_broadcast"
    SIZE_LIMIT = "size_within_limit"
    CROP_FITS = "crop_fits_input"
    ADAPTIVE_KEEP_NEEDS_2D = "adaptive_keep_size_needs_2d_or_3d"
    # Rules of the tensorflow and onnx conventions.
    PADDING_MODE = "padding_mode_of_convention"
    NOT_IN_CONVENTION = "not_in_convention"
    STRIDE_WITH_DILATION = "stride_and_dilation_not_both"
    OUTPUT_SHAPE_MISMATCH = "output_shape_consistent"


#: Which document field a rule is about, for an error's `loc` (a rule on sizes alone
#: blames the field that sets the layer's size).
RULE_FIELD = {
    Rule.KERNEL_POSITIVE: "kernel_size",
    Rule.STRIDE_POSITIVE: "stride",
    Rule.DILATION_POSITIVE: "dilation",
    Rule.PADDING_NON_NEGATIVE: "padding",
    Rule.KERNEL_FITS_INPUT: "kernel_size",
    Rule.SAME_NEEDS_STRIDE_1: "stride",
    Rule.OUTPUT_PADDING_NON_NEGATIVE: "output_padding",
    Rule.OUTPUT_PADDING_SMALLER: "output_padding",
    Rule.POOL_PADDING_HALF_KERNEL: "padding",
    Rule.AVG_POOL3D_INPUT_FITS_KERNEL: "kernel_size",
    Rule.SCALE_POSITIVE: "scale_factor",
    Rule.UPSAMPLE_MODE_NDIM: "mode",
    Rule.ADAPTIVE_KEEP_NEEDS_2D: "output_size",
    Rule.SAME_NOT_FOR_TRANSPOSED: "padding",
    Rule.PADDING_MODE: "padding",
    Rule.STRIDE_WITH_DILATION: "dilation",
    Rule.OUTPUT_SHAPE_MISMATCH: "output_padding",
}

#: Rules on a layer's settings alone, broken whatever its input size.
SETTINGS_RULES = frozenset({
    Rule.KERNEL_POSITIVE, Rule.STRIDE_POSITIVE, Rule.DILATION_POSITIVE, Rule.PADDING_NON_NEGATIVE,
    Rule.SAME_NEEDS_STRIDE_1, Rule.OUTPUT_PADDING_NON_NEGATIVE, Rule.OUTPUT_PADDING_SMALLER,
    Rule.POOL_PADDING_HALF_KERNEL,
})


class Rejected(Exception):  # noqa: N818 - a verdict, not an error of the program
    """One axis of one layer breaks a rule.  The caller adds layer and axis; `field`
    names the document field at fault when the rule alone does not tell."""

    def __init__(self, rule: Rule, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field


#: The largest size of any axis of any tensor: int32's, which ONNX Runtime's and cuDNN's
#: index arithmetic and CP-SAT's tables use; past it a layer is refused (rule size_limit).
MAX_AXIS_SIZE = 2**31 - 1


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
    out = (i - 1) * s - 2 * p + effective_kernel(k, d) + op
    # An output of 0 is refused, as ATen's shape check refuses it ("Output size is too
    # small"); only the multi-threaded batched oneDNN kernel returns the empty tensor.
    return _positive(out, i)


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
    """torch.cat of tensors: one axis' sizes must all be equal."""
    if any(x != sizes[0] for x in sizes):
        raise Rejected(
            Rule.JOIN_SIZES_MATCH,
            f"sizes {', '.join(map(str, sizes))} differ (PyTorch: sizes of tensors must match)",
        )
    return sizes[0]


def broadcast(sizes: list[int], what: str = "sizes") -> int:
    """a + b + ...: torch's (and Keras', ONNX's) broadcasting of one axis or the channels:
    every size equal to the others or 1; the sum takes the size that is not 1."""
    out = max(sizes)
    if any(x not in (out, 1) for x in sizes):
        raise Rejected(
            Rule.ADD_SIZES_BROADCAST if what == "sizes" else Rule.CHANNELS_MATCH,
            f"{what} {', '.join(map(str, sizes))} cannot be added: each must equal the others or be 1 "
            "(PyTorch: the size of tensor a must match the size of tensor b at non-singleton dimension)",
        )
    return out


def conv_channels(kind: str, convention: str, incoming: int | None, in_channels: int | None,
                  out_channels: int | None, groups: int) -> tuple[int | None, int | None]:
    """(in, out) channels of a conv or transposed conv: in_channels, when given, equals the
    incoming tensor's; both are positive and divisible by groups.  Keras has no grouped
    transposed conv."""
    cin = in_channels if in_channels is not None else incoming
    if in_channels is not None and incoming is not None and in_channels != incoming:
        raise Rejected(Rule.CHANNELS_MATCH,
                       f"in_channels is {in_channels} but the incoming tensor has {incoming} channels",
                       "in_channels")
    for field, c in (("in_channels", cin), ("out_channels", out_channels)):
        if c is not None and c < 1:
            raise Rejected(Rule.CHANNELS_POSITIVE, f"{field} must be at least 1, got {c}", field)
    if groups < 1:
        raise Rejected(Rule.GROUPS_POSITIVE, f"groups must be at least 1, got {groups}", "groups")
    if convention == "tensorflow" and kind == "conv_transpose" and groups != 1:
        raise Rejected(Rule.NOT_IN_CONVENTION, f"groups {groups} on a transposed conv: Keras' "
                       "Conv1D/2D/3DTranspose has no groups", "groups")
    for field, c in (("in_channels", cin), ("out_channels", out_channels)):
        if c is not None and c % groups:
            raise Rejected(Rule.GROUPS_DIVIDE_CHANNELS, f"{field} {c} must be divisible by groups {groups}", field)
    return cin, out_channels


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


def layer_rule(kind: str, convention: str, strides: tuple[int, ...], dilations: tuple[int, ...]) -> None:
    """The one rule that spans axes: Keras refuses a conv strided on any axis and
    dilated on any axis."""
    if convention == "tensorflow" and kind in ("conv", "conv_transpose") \
            and max(strides) > 1 and max(dilations) > 1:
        raise Rejected(Rule.STRIDE_WITH_DILATION,
                       f"stride {list(strides)} with dilation {list(dilations)}: Keras takes a stride "
                       "above 1 or a dilation above 1, not both (`strides > 1` not supported in "
                       "conjunction with `dilation_rate > 1`)")


def axis_output(kind: str, i: int, **settings: Any) -> int:
    """One axis of one layer, by layer type: its output size (see `axis_layer`)."""
    return axis_layer(kind, i, **settings)[0]


def axis_layer(
    kind: str, i: int, *, k: int = 1, s: int = 1, padding: int | str = 0, d: int = 1,
    op: int | None = None, ceil_mode: bool = False, ndim: int = 1,
    scale: float | None = None, size: int | None = None, mode: str = "nearest",
    padding_end: int | None = None, output_shape: int | None = None,
    convention: str = "pytorch",
) -> tuple[int, tuple[int, int] | None]:
    """One axis of one layer: (output size, (begin, end) padding the layer applied).

    padding is an int or a mode of the convention ("same", "valid", "same_upper", ...).
    For a transposed conv the pair is its padding in PyTorch's sense: what is cut from
    (i-1)*s + e before output_padding adds its rows at the end (PyTorch: (p, p); ONNX:
    its pads; negative when the output is longer).  Layers without padding give None.
    """
    onnx_fields(convention, padding_end, output_shape)
    if convention == "pytorch":
        out = _pytorch(kind, i, k, s, padding, d, op, ceil_mode, ndim, scale, size, mode)
    else:
        try:
            if convention == "tensorflow":
                out = _tensorflow(kind, i, k, s, padding, d, op, ceil_mode, ndim, scale, size, mode)
            elif convention == "onnx":
                out = _onnx(kind, i, k, s, padding, padding_end, d, op, output_shape, ceil_mode, ndim,
                            scale, size, mode)
            else:
                raise ValueError(f"no convention {convention!r}")
        except Rejected as r:  # the shared rules quote PyTorch's words; not this framework's
            raise Rejected(r.rule, r.message.split(" (PyTorch: ")[0], r.field) from None
    if out[0] > MAX_AXIS_SIZE:
        raise Rejected(Rule.SIZE_LIMIT, f"the output would be {out[0]}, past the largest size convsolve "
                       f"works with, {MAX_AXIS_SIZE:,} (2**31 - 1) per axis",
                       None if kind in ("upsample", "adaptive_avg_pool", "adaptive_max_pool") else "stride")
    return out


def _pytorch(kind: str, i: int, k: int, s: int, padding: int | str, d: int, op: int | None,
             ceil_mode: bool, ndim: int, scale: float | None, size: int | None,
             mode: str) -> tuple[int, tuple[int, int] | None]:
    if kind == "conv":
        padding_mode(padding, kind, "pytorch")
        if padding == "same":
            same_needs_stride_1(s)
        pb, pe = padding_sides(padding, k, d)
        return conv(i, k, s, pb, pe, d), (pb, pe)
    if kind == "upsample":
        upsample_mode(mode, ndim)
        return upsample(i, scale, size), None
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return adaptive_pool(i, size, ndim), None
    padding_mode(padding, kind, "pytorch")
    p, op = int(padding), 0 if op is None else op
    if kind == "conv_transpose":
        return conv_transpose(i, k, s, p, d, op), (p, p)
    if kind == "max_pool":
        return pool(i, k, s, p, d, ceil_mode), (p, p)
    if kind == "avg_pool":
        return avg_pool(i, k, s, p, ceil_mode, ndim), (p, p)
    raise ValueError(f"no size rule for layer type {kind!r}")


#: The padding modes of each convention (PyTorch's are a conv's only).
PADDING_MODES = {"pytorch": ("same", "valid"), "tensorflow": ("same", "valid"),
                 "onnx": ("same_upper", "same_lower", "valid")}


def onnx_fields(convention: str, padding_end: int | None, output_shape: int | None) -> None:
    """padding_end and output_shape are ONNX's (its pads' ends, ConvTranspose's output_shape)."""
    if convention != "onnx" and (padding_end is not None or output_shape is not None):
        field = "padding_end" if padding_end is not None else "output_shape"
        raise Rejected(Rule.NOT_IN_CONVENTION, f"{field} exists in the onnx convention only", field)


def padding_mode(padding: int | str, kind: str, convention: str) -> None:
    """Refuse a padding the convention does not have for this layer type."""
    if convention == "pytorch" and kind == "conv_transpose" and padding == "same":
        raise Rejected(Rule.SAME_NOT_FOR_TRANSPOSED,
                       "padding='same' is not supported for transposed convolutions "
                       "(PyTorch: argument 'padding' must be tuple of ints)")
    modes = () if convention == "pytorch" and kind != "conv" else PADDING_MODES[convention]
    if isinstance(padding, str) and padding not in modes:
        options = [*(["an int"] if convention != "tensorflow" else []), *(f"'{m}'" for m in modes)]
        allowed = " or ".join([", ".join(options[:-1]), options[-1]] if len(options) > 1 else options)
        raise Rejected(Rule.PADDING_MODE,
                       f"padding '{padding}' is not a {convention} {kind} padding; use {allowed}")
    if not isinstance(padding, str) and convention == "tensorflow":
        raise Rejected(Rule.PADDING_MODE,
                       f"padding {padding}: the tensorflow convention pads 'same' or 'valid', "
                       "not by a number of pixels")


def auto_pad(i: int, s: int, e: int, mode: str) -> tuple[int, int]:
    """TensorFlow's "SAME" and ONNX's SAME_UPPER / SAME_LOWER: the output is ceil(i/s),
    the padding total max(0, (ceil(i/s)-1)*s + e - i), its odd pixel at the end (lower:
    at the beginning).  It depends on the input size, unlike PyTorch's 'same'."""
    total = max(0, (-(-i // s) - 1) * s + e - i)
    half = total // 2
    return (total - half, half) if mode == "same_lower" else (half, total - half)


def _unsupported(what: str, convention: str, field: str) -> Rejected:
    return Rejected(Rule.NOT_IN_CONVENTION, f"{what} does not exist in the {convention} convention", field)


def _global_pool(i: int, size: int | None, convention: str) -> tuple[int, None]:
    """Adaptive pools exist as global pools (output 1, keepdims) outside PyTorch."""
    if size != 1:
        raise _unsupported(f"an adaptive pool to {size} (only to 1: a global pool)", convention, "output_size")
    return 1, None


def _tensorflow(kind: str, i: int, k: int, s: int, padding: int | str, d: int, op: int | None,
                ceil_mode: bool, ndim: int, scale: float | None, size: int | None,
                mode: str) -> tuple[int, tuple[int, int] | None]:
    """Keras 3 on TensorFlow: Conv*D, Conv*DTranspose, MaxPooling*D, AveragePooling*D,
    UpSampling*D, Resizing, Global*Pooling*D(keepdims=True)."""
    if kind == "upsample":  # the mode first: Resizing refuses 'linear' as UpSampling2D does
        if mode != "nearest" and ndim != 2:
            raise _unsupported(f"mode '{mode}' in {ndim}d (UpSampling1D/3D repeat: nearest)", "tensorflow", "mode")
        upsample_mode(mode, ndim)
        if size is not None:
            if ndim != 2:
                raise _unsupported(f"an upsample to a size in {ndim}d (Resizing is 2d)", "tensorflow", "size")
            return upsample(i, None, size), None
        assert scale is not None
        if scale != int(scale):
            raise _unsupported(f"scale_factor {scale} (UpSampling repeats an integer number of times)",
                               "tensorflow", "scale_factor")
        return upsample(i, scale, None), None
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return _global_pool(i, size, "tensorflow")
    padding_mode(padding, kind, "tensorflow")
    _check_common(k, s, d, (0,))
    e = effective_kernel(k, d)
    if kind == "conv":
        pb, pe = auto_pad(i, s, e, "same") if padding == "same" else (0, 0)
        return _windows(i, pb, pe, e, s), (pb, pe)
    if kind == "conv_transpose":
        return tf_conv_transpose(i, k, s, padding, d, op)  # type: ignore[arg-type]
    if kind in ("max_pool", "avg_pool"):
        if ceil_mode:
            raise _unsupported("ceil_mode", "tensorflow", "ceil_mode")
        if d != 1:
            raise _unsupported("a dilated pool", "tensorflow", "dilation")
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
        if op < 0:
            raise Rejected(Rule.OUTPUT_PADDING_NON_NEGATIVE, f"output_padding must be non-negative, got {op}")
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
    return _positive(out, i), (begin, full - out - begin + (op or 0))


def _onnx(kind: str, i: int, k: int, s: int, padding: int | str, padding_end: int | None, d: int,
          op: int | None, output_shape: int | None, ceil_mode: bool, ndim: int,
          scale: float | None, size: int | None, mode: str) -> tuple[int, tuple[int, int] | None]:
    """onnxruntime's Conv, ConvTranspose, MaxPool, AveragePool, Resize, Global*Pool."""
    if kind == "upsample":
        if mode != "linear":  # Resize has one "linear" for every rank
            upsample_mode(mode, ndim)  # bicubic is onnxruntime's 2d-only "cubic"
        return onnx_resize(i, scale, size), None
    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):
        return _global_pool(i, size, "onnx")
    padding_mode(padding, kind, "onnx")
    if isinstance(padding, str) and padding_end is not None:
        raise Rejected(Rule.PADDING_MODE, f"padding_end goes with an int padding, not '{padding}'",
                       "padding_end")
    pb = 0 if isinstance(padding, str) else padding
    pe = pb if padding_end is None or isinstance(padding, str) else padding_end
    _check_common(k, s, d, (pb, pe))
    e = effective_kernel(k, d)
    if kind == "conv_transpose":
        return onnx_conv_transpose(i, k, s, padding, pe, d, 0 if op is None else op, output_shape)
    if isinstance(padding, str) and padding != "valid":
        onnx_same_rules(kind, i, k, s, d, padding)
        pb, pe = auto_pad(i, s, e, padding)
    if kind == "conv":
        return conv(i, k, s, pb, pe, d), (pb, pe)
    if kind in ("max_pool", "avg_pool"):
        if max(pb, pe) >= k:
            raise Rejected(Rule.POOL_PADDING_HALF_KERNEL,
                           f"padding {max(pb, pe)} must be smaller than the kernel size {k}")
        out = onnx_pool(i, pb, pe, e, s, ceil_mode)
        return _positive(out, i), (pb, pe)
    raise ValueError(f"no size rule for layer type {kind!r}")


def onnx_same_rules(kind: str, i: int, k: int, s: int, d: int, padding: str) -> None:
    """What onnxruntime refuses with SAME_UPPER / SAME_LOWER on a conv or pool.

    Conv refuses any dilation.  MaxPool sizes the padding for the undilated kernel, so
    a dilated window gives less than ceil(i/s), or nothing: refused too (a 1-wide
    window is the same dilated or not).  MaxPool also refuses the negative padding
    (ceil(i/s)-1)*s + e - i < 0 of a stride longer than the window, where Conv and
    AveragePool crop instead.
    """
    mode = padding.upper()
    if d != 1 and kind == "conv":
        raise Rejected(Rule.NOT_IN_CONVENTION,
                       f"dilation {d} with auto_pad {mode}: onnxruntime's Conv does not support it "
                       "(Dilation not supported for AutoPadType::SAME_UPPER or AutoPadType::SAME_LOWER)",
                       "dilation")
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
        return _positive(size, i)
    assert scale is not None
    if not scale > 0:
        raise Rejected(Rule.SCALE_POSITIVE, f"scale_factor must be positive, got {scale}")
    return _positive(math.floor(_float32(_float32(scale) * i)), i)


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


def onnx_conv_transpose(i: int, k: int, s: int, padding: int | str, pe: int, d: int, op: int,
                        output_shape: int | None) -> tuple[int, tuple[int, int]]:
    """ConvTranspose: the full output (i-1)*s + e + op, cut by the pads.  With output_shape
    (the pads are then ignored) or SAME_* (output min(i*s, full)), the cut is what the size
    leaves, its odd pixel at the end for SAME_UPPER, at the beginning otherwise; an
    output_shape past the full output extends it at the end.  onnxruntime checks that a
    conv of the output gives back the input: so op < s, and output_shape < full - op + s."""
    if op < 0:
        raise Rejected(Rule.OUTPUT_PADDING_NON_NEGATIVE, f"output_padding must be non-negative, got {op}")
    if op >= s:  # onnxruntime: op < max(s, d), then the conv-back check, which wants op < s
        raise Rejected(Rule.OUTPUT_PADDING_SMALLER,
                       f"output_padding {op} must be smaller than the stride {s} (onnxruntime: "
                       "the output would not convolve back to the input)")
    e = effective_kernel(k, d)
    full = (i - 1) * s + e + op
    if output_shape is not None or padding in ("same_upper", "same_lower"):
        out = min(i * s, full) if output_shape is None else output_shape
        if out >= full - op + s:
            raise Rejected(Rule.OUTPUT_SHAPE_MISMATCH,
                           f"output_shape {out} is longer than input {i} can give: at most "
                           f"(i-1)*s + e + s-1 = {full - op + s - 1} (onnxruntime: Explicit output_shape "
                           "is inconsistent with input spatial dimensions)", "output_shape")
        total = max(0, full - out)
        begin = total // 2 if padding == "same_upper" else total - total // 2
        end = full - out - begin
    elif padding == "valid":
        begin = end = 0
    else:
        begin, end = int(padding), pe
    out = full - begin - end
    return _positive(out, i), (begin, end)
