"""What the three conventions share: the dilated kernel, the common checks, the padding
modes of each convention, auto padding, interpolation modes."""

from __future__ import annotations

from collections.abc import Callable

from .catalogue import MODE_NDIM, PADDING_MODES
from .verdicts import Rejected, Rule

#: A size rule with its settings bound (and checked): input size -> output size, or
#: Rejected when that input does not fit.  Binding once and mapping many sizes is what
#: makes the search fast: the settings' checks are not repeated per size.
SizeFn = Callable[[int], int]
#: The same with the (begin, end) padding applied to that input (None: no padding).
AxisFn = Callable[[int], tuple[int, tuple[int, int] | None]]


def with_pads(size: SizeFn, pads: tuple[int, int]) -> AxisFn:
    """A SizeFn whose padding does not depend on the input."""
    return lambda i: (size(i), pads)


def effective_kernel(k: int, d: int) -> int:
    """The span of a dilated kernel: d*(k-1)+1."""
    return d * (k - 1) + 1


#: The least value of each setting, and the rule that says so: below it no layer runs,
#: whatever its input (a solve reports such values in its domains: engines.problem).
MINIMUM = {"kernel_size": (1, Rule.KERNEL_POSITIVE), "stride": (1, Rule.STRIDE_POSITIVE),
           "dilation": (1, Rule.DILATION_POSITIVE), "padding": (0, Rule.PADDING_NON_NEGATIVE),
           "padding_end": (0, Rule.PADDING_NON_NEGATIVE), "output_padding": (0, Rule.OUTPUT_PADDING_NON_NEGATIVE)}


def least(field: str) -> str:
    """The bound of a setting in words: "at least 1", "non-negative"."""
    return "at least 1" if MINIMUM[field][0] == 1 else "non-negative"


def at_least(field: str, value: int) -> None:
    """Refuse a setting below its minimum (see MINIMUM)."""
    bound, rule = MINIMUM[field]
    if value < bound:
        raise Rejected(rule, f"{field} must be {least(field)}, got {value}")


def check_common(k: int, s: int, d: int, pads: tuple[int, ...]) -> None:
    at_least("kernel_size", k)
    at_least("stride", s)
    at_least("dilation", d)
    at_least("padding", min(pads))


def positive(out: int, i: int) -> int:
    if out < 1:
        raise Rejected(
            Rule.OUTPUT_POSITIVE,
            f"output size would be {out} for input {i} (PyTorch: output size is too small)",
        )
    return out





def upsample_mode(mode: str, ndim: int) -> None:
    """Upsample's mode must fit the input: linear 1d, bilinear and bicubic 2d, trilinear 3d."""
    need = MODE_NDIM.get(mode)
    if need is not None and need != ndim:
        raise Rejected(
            Rule.UPSAMPLE_MODE_NDIM,
            f"mode '{mode}' needs {need} spatial axes, got {ndim} "
            f"(PyTorch: Got {ndim + 2}D input, but {mode} mode needs {need + 2}D input)",
        )





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


def unsupported(what: str, convention: str, field: str) -> Rejected:
    return Rejected(Rule.NOT_IN_CONVENTION, f"{what} does not exist in the {convention} convention", field)


def global_pool(i: int, size: int | None, convention: str) -> tuple[int, None]:
    """Adaptive pools exist as global pools (output 1, keepdims) outside PyTorch."""
    if size != 1:
        raise unsupported(f"an adaptive pool to {size} (only to 1: a global pool)", convention, "output_size")
    return 1, None

