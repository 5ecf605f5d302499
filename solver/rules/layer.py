"""Rules on whole layers and on several tensors: channels and groups, the rule that spans
axes, joins and crops, and the receptive-field arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

from .pytorch import same_needs_stride_1
from .shared import effective_kernel, upsample_mode
from .verdicts import Rejected, Rule


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


def spans_axes(kind: str, convention: str) -> bool:
    """Whether `layer_rule` constrains this kind in this convention."""
    return convention == "tensorflow" and kind in ("conv", "conv_transpose")


def layer_rule(kind: str, convention: str, strides: tuple[int, ...], dilations: tuple[int, ...]) -> None:
    """The one rule that spans axes: Keras refuses a conv strided on any axis and
    dilated on any axis."""
    if spans_axes(kind, convention) and max(strides) > 1 and max(dilations) > 1:
        raise Rejected(Rule.STRIDE_WITH_DILATION,
                       f"stride {list(strides)} with dilation {list(dilations)}: Keras takes a stride "
                       "above 1 or a dilation above 1, not both (`strides > 1` not supported in "
                       "conjunction with `dilation_rate > 1`)")



def same_rule(kind: str, convention: str, padding: int | str, strides: tuple[int, ...]) -> None:
    """PyTorch checks padding='same' against the stride before anything else, on every
    axis; the refusal says which (Rejected.axis)."""
    if convention == "pytorch" and kind == "conv" and padding == "same":
        for a, s in enumerate(strides):
            try:
                same_needs_stride_1(s)
            except Rejected as r:
                r.axis = a
                raise


def sizes_recur(kind: str, convention: str, paddings: tuple[int | str, ...]) -> bool:
    """onnxruntime's MaxPool refuses the negative padding SAME_* asks for when the stride
    is longer than the window: then the sizes that work recur with the stride (one in
    every `stride` consecutive sizes works) instead of holding from some size on."""
    return convention == "onnx" and kind == "max_pool" and any(isinstance(p, str) for p in paddings)


def resize_rule(kind: str, convention: str, ndim: int, mode: str = "nearest", **_: object) -> None:
    """The rule on a whole resize layer: PyTorch checks an upsample's mode against the
    input's rank before any size (the other conventions check it per axis)."""
    if convention == "pytorch" and kind == "upsample":
        upsample_mode(mode, ndim)


#: The fields of the flatten, linear and norm layers that `dense` reads.
DENSE_FIELDS = ("in_features", "out_features", "bias", "num_features", "norm", "num_groups", "affine",
                "track_running_stats")


def dense(kind: str, incoming: int | None, sizes: tuple[int, ...] | None, convention: str = "pytorch", *,
          in_features: int | None = None, out_features: int | None = None, bias: bool = True,
          num_features: int | None = None, norm: str = "batch", num_groups: int | None = None,
          affine: bool = True, track_running_stats: bool | None = None,
          ) -> tuple[int | None, int | None, int | None, int | None]:
    """(in, out channels, parameters, MACs) of a flatten, linear or norm layer (the other
    resize kinds keep the channels; None: not known).  A flatten's channels are the
    incoming ones times every axis' size (None while the sizes are not known); a linear's
    in_features must be those; a norm's num_features the incoming channels, divisible by
    its num_groups, and its input must hold enough values (norm_values, when the sizes
    are known)."""
    if kind == "flatten":
        out = None if incoming is None or sizes is None else incoming * math.prod(sizes)
        return incoming, out, 0, 0
    if kind == "linear":
        if in_features is not None and incoming is not None and in_features != incoming:
            raise Rejected(Rule.CHANNELS_MATCH, f"in_features is {in_features} but the flat tensor has {incoming} "
                           f"features (PyTorch: mat1 and mat2 shapes cannot be multiplied (1x{incoming} and "
                           f"{in_features}x{out_features}))", "in_features")
        cin = in_features if in_features is not None else incoming
        if cin is None or out_features is None:
            return cin, out_features, None, None
        return cin, out_features, cin * out_features + (out_features if bias else 0), cin * out_features
    if kind == "norm":
        if num_features is not None and incoming is not None and num_features != incoming:
            raise Rejected(Rule.CHANNELS_MATCH, f"num_features is {num_features} but the incoming tensor has "
                           f"{incoming} channels", "num_features")
        c = num_features if num_features is not None else incoming
        if norm == "group" and c is not None and num_groups is not None and c % num_groups:
            raise Rejected(Rule.GROUPS_DIVIDE_CHANNELS, f"{c} channels cannot be split into num_groups "
                           f"{num_groups} (PyTorch: num_channels must be divisible by num_groups)", "num_groups")
        if sizes is not None:
            norm_values(norm, sizes, c, num_groups, track_running_stats, convention)
        return c, c, (None if c is None else 2 * c) if affine else 0, 0
    return incoming, incoming, 0, 0


def norm_needs_pixels(norm: str, track_running_stats: bool | None, channels: int | None,
                      num_groups: int | None, convention: str) -> bool:
    """Whether a norm refuses an input of one pixel (PyTorch's alone; in eval mode, at a
    batch of one): a batch or instance norm that uses its input's statistics (a batch
    norm without running stats, an instance norm with none, as by default), and a group
    norm of one channel per group (it needs more than one value per group)."""
    if convention != "pytorch":
        return False
    if norm in ("batch", "instance"):
        return not ((norm == "batch") if track_running_stats is None else track_running_stats)
    return norm == "group" and channels is not None and num_groups is not None and channels // num_groups == 1


def norm_values(norm: str, sizes: tuple[int, ...], channels: int | None, num_groups: int | None,
                track_running_stats: bool | None, convention: str) -> None:
    """A norm's rule on its whole input (see norm_needs_pixels): more than one pixel."""
    if math.prod(sizes) > 1 or not norm_needs_pixels(norm, track_running_stats, channels, num_groups, convention):
        return
    where = "x".join(map(str, sizes))
    if norm == "group":
        raise Rejected(Rule.NORM_NEEDS_VALUES, f"a group norm of one channel per group on a {where} input: it "
                       "needs more than 1 value per group (PyTorch: Expected more than 1 value per channel when "
                       "training)")
    raise Rejected(Rule.NORM_NEEDS_VALUES, f"{'an' if norm == 'instance' else 'a'} {norm} norm without running "
                   f"stats on a {where} input: it needs more than 1 value per channel (PyTorch: Expected more than "
                   f"1 {'spatial element' if norm == 'instance' else 'value per channel'} when training)")
