"""The catalogue: each convention and padding mode, each layer kind and what the engines
need to know of it, and what a field left out means.  Said once, here; the contract
builds its schemas from these names and every engine reads them from here.

A kind's family tells the engines how to treat it:
  window  kernel, stride, padding, dilation... searched per axis (conv, pools)
  resize  its output size set by fixed fields, or kept (upsample, adaptive pools, identity;
          and the layers of a network's head: flatten puts every axis to 1 and the sizes
          into the channels, linear reads such a flat tensor, norm keeps sizes)
  join    several inputs of one size (concat; add broadcasts)
  crop    its input brought to the size of another tensor: cut (crop), or padded, cropped or
          interpolated to it (match)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .verdicts import Rejected, Rule


@dataclass(frozen=True, slots=True)
class Convention:
    """What the engines and services need to know of one convention; its size rules are
    in its own module (pytorch.py, tensorflow.py, onnx.py)."""

    name: str
    #: Whose behaviour its rules follow, as messages name it.
    framework: str
    #: Its padding modes (PyTorch's are a conv's only).
    padding_modes: tuple[str, ...]
    #: The padding that keeps the size at stride 1, and no padding.
    same: str
    none: int | str
    #: Pads by mode only ('same' / 'valid'), never by a number of pixels (Keras).
    pads_by_mode: bool = False
    #: Its padding modes pad by an amount that depends on the input size.
    modes_read_input: bool = False
    #: The code export writes natively: "torch" (nn.Module) or "keras"; others are translated to torch.
    native_code: str | None = None


#: The conventions, the first the default: whose size rules a document follows.
CONVENTION = {c.name: c for c in (
    Convention("pytorch", "PyTorch", ("same", "valid"), same="same", none=0, native_code="torch"),
    Convention("tensorflow", "Keras", ("same", "valid"), same="same", none="valid", pads_by_mode=True,
               modes_read_input=True, native_code="keras"),
    Convention("onnx", "onnxruntime", ("same_upper", "same_lower", "valid"), same="same_upper", none=0,
               modes_read_input=True),
)}
CONVENTIONS = tuple(CONVENTION)
DEFAULT_CONVENTION = CONVENTIONS[0]
#: The padding modes of each convention, and every mode some convention has.
PADDING_MODES = {c.name: c.padding_modes for c in CONVENTION.values()}
ANY_PADDING_MODE = tuple(dict.fromkeys(m for modes in PADDING_MODES.values() for m in modes))
#: The padding that keeps the size (at stride 1), and no padding, in each convention.
SAME_PADDING = {c.name: c.same for c in CONVENTION.values()}
NO_PADDING: dict[str, int | str] = {c.name: c.none for c in CONVENTION.values()}
#: Upsample's interpolation modes, and the spatial rank each needs ("nearest": any).
UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
MODE_NDIM = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}

Window = tuple[int, Fraction | int]


def _ratio(n: int, m: int) -> Fraction | int:
    return n // m if n % m == 0 else Fraction(n, m)


def _adaptive_window(i: int, o: int, _: dict[str, Any]) -> Window:
    """The largest window an adaptive pool uses from i inputs to o outputs, and its step."""
    span = max(-(-((j + 1) * i) // o) - (j * i) // o for j in range(o)) if o <= 4096 else -(-i // o) + 1
    return span, _ratio(i, o)


def _upsample_window(i: int, o: int, settings: dict[str, Any]) -> Window | None:
    """Nearest: each output reads one input, outputs i/o inputs apart; others blend: inexact."""
    return (1, _ratio(i, o)) if settings.get("mode", "nearest") == "nearest" else None


def _flat(i: int, **_: Any) -> tuple[int, None]:
    """nn.Linear reads the last axis: on convsolve's (channels, *spatial) tensor, a flat one."""
    if i != 1:
        raise Rejected(Rule.LINEAR_NEEDS_FLAT, f"linear reads a flat tensor, but this axis has size {i}: flatten "
                       "it first, or pool it to 1 (PyTorch's nn.Linear acts on the last axis alone)")
    return 1, None


#: An explicit pad's modes (F.pad's; "constant" pads zeros).
PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad(i: int, padding: int = 0, padding_end: int | None = None, mode: str = "constant",
         **_: Any) -> tuple[int, tuple[int, int]]:
    """F.pad of one axis: i + begin + end; a reflection needs each side below the input's
    size (it mirrors the input without its edge), a circular pad at most the input's size."""
    end = padding if padding_end is None else padding_end
    if mode == "reflect" and max(padding, end) >= i or mode == "circular" and max(padding, end) > i:
        bound = "less than" if mode == "reflect" else "at most"
        why = ("Padding size should be less than the corresponding input dimension" if mode == "reflect"
               else "Padding value causes wrapping around more than once")
        raise Rejected(Rule.PAD_FITS_INPUT, f"a {mode} pad of {max(padding, end)} on an input of {i}: it must be "
                       f"{bound} the input's size (PyTorch: {why})", "padding")
    return i + padding + end, (padding, end)


#: The kinds of norm layer, and the sizes each refuses in PyTorch (see rules.norm_values).
NORMS = ("batch", "instance", "group", "layer")


@dataclass(frozen=True, slots=True)
class Kind:
    """What the engines need to know of one layer kind."""

    name: str
    family: str
    #: window family: the fields searched per axis, in the order solutions list them.
    searchable: tuple[str, ...] = ()
    #: Has weights: in/out channels, groups, parameters, MACs.
    weighted: bool = False
    #: MACs are counted per weight per "output" position (conv) or "input" position.
    macs_over: str = "output"
    #: resize family: (document field, rule keyword) of the fields that set each axis' size,
    #: and of the fields shared by every axis.
    size_fields: tuple[tuple[str, str], ...] = ()
    shared_fields: tuple[tuple[str, str], ...] = ()
    #: resize family: the receptive-field window (span, step) of an axis from i to o;
    #: None when the output blends inputs (not exact).
    window: Callable[[int, int, dict[str, Any]], Window | None] | None = None
    #: A kind whose size rule is the same in every convention has it here (the others'
    #: rules live in the conventions' modules): (output size, padding applied).
    rule: Callable[..., tuple[int, tuple[int, int] | None]] | None = None
    #: How a resize-family kind sets the channels: "keep" them, "flatten" (times every
    #: axis' size), "linear" (out_features) or "norm" (kept, with parameters): rules.dense.
    channels: str = "keep"

    def blamed(self, layer: Any) -> str:
        """The field that sets the output size, blamed when a size is refused."""
        for field, _ in self.size_fields:
            if getattr(layer, field, None) is not None:
                return field
        return "kernel_size"


_CONV = ("kernel_size", "stride", "padding", "padding_end", "dilation")
KINDS = {kind.name: kind for kind in (
    Kind("conv", "window", _CONV, weighted=True),
    Kind("conv_transpose", "window", (*_CONV, "output_padding"), weighted=True, macs_over="input"),
    Kind("max_pool", "window", (*_CONV, "ceil_mode")),
    Kind("avg_pool", "window", ("kernel_size", "stride", "padding", "padding_end", "ceil_mode")),
    Kind("upsample", "resize", size_fields=(("size", "size"), ("scale_factor", "scale")),
         shared_fields=(("mode", "mode"),), window=_upsample_window),
    Kind("adaptive_avg_pool", "resize", size_fields=(("output_size", "size"),), window=_adaptive_window),
    Kind("adaptive_max_pool", "resize", size_fields=(("output_size", "size"),), window=_adaptive_window),
    Kind("identity", "resize", window=lambda i, o, _: (1, 1), rule=lambda i, **_: (i, None)),
    Kind("norm", "resize", window=lambda i, o, _: (1, 1), rule=lambda i, **_: (i, None), channels="norm"),
    Kind("flatten", "resize", window=lambda i, o, _: None, rule=lambda i, **_: (1, None), channels="flatten"),
    Kind("linear", "resize", window=lambda i, o, _: None, rule=_flat, channels="linear"),
    Kind("pad", "resize", size_fields=(("padding", "padding"), ("padding_end", "padding_end")),
         shared_fields=(("mode", "mode"),), window=lambda i, o, _: (1, 1), rule=_pad),
    Kind("concat", "join"),
    Kind("add", "join"),
    Kind("crop", "crop"),
    Kind("match", "crop"),
)}
#: Every searchable field, in the order solutions list them.
SEARCHABLE_FIELDS = tuple(dict.fromkeys(f for kind in KINDS.values() for f in kind.searchable))


def unset(field: str, kind: str, convention: str) -> Any:
    """What a field left out of a layer means.  "kernel_size": the layer's kernel size
    (a pool's stride); None for a transposed conv's output_padding in tensorflow, where
    Keras infers the output size instead of adding rows."""
    if field == "padding":
        return "valid" if convention == "tensorflow" else 0
    if field == "stride":
        pool = KINDS[kind].family == "window" and not KINDS[kind].weighted
        return "kernel_size" if pool and convention != "onnx" else 1
    if field == "output_padding":
        return None if convention == "tensorflow" else 0
    return {"dilation": 1, "ceil_mode": False, "groups": 1, "padding_end": "padding"}[field]


def params_and_macs(kind: str, cin: int, cout: int, groups: int, kernel: int, bias: bool,
                    in_positions: int, out_positions: int) -> tuple[int, int]:
    """(parameters, MACs) of a weighted layer: cin/groups * cout weights per kernel tap, a
    bias per output channel, and one MAC per weight per output position (conv) or per
    input position (transposed conv); `kernel` is the product of the kernel's axes."""
    weights = cin // groups * cout * kernel
    positions = in_positions if KINDS[kind].macs_over == "input" else out_positions
    return weights + (cout if bias else 0), weights * positions
