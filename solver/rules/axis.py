"""One axis of one layer in any convention: the single entry point to the size rules."""

from __future__ import annotations

from typing import Any

from .catalogue import CONVENTION, DEFAULT_CONVENTION, KINDS
from .onnx import onnx
from .pytorch import pytorch
from .shared import AxisFn, onnx_fields
from .tensorflow import tensorflow
from .verdicts import MAX_AXIS_SIZE, Rejected, Rule

#: Each convention's per-axis arithmetic (its module), by name.
ARITHMETIC = {"pytorch": pytorch, "tensorflow": tensorflow, "onnx": onnx}


def axis_output(kind: str, i: int, **settings: Any) -> int:
    """One axis of one layer, by layer type: its output size (see `axis_layer`)."""
    return axis_rule(kind, **settings)(i)[0]


def axis_layer(kind: str, i: int, **settings: Any) -> tuple[int, tuple[int, int] | None]:
    """One axis of one layer: (output size, (begin, end) padding the layer applied).

    padding is an int or a mode of the convention ("same", "valid", "same_upper", ...).
    For a transposed conv the pair is its padding in PyTorch's sense: what is cut from
    (i-1)*s + e before output_padding adds its rows at the end (PyTorch: (p, p); ONNX:
    its pads; negative when the output is longer).  Layers without padding give None.
    """
    return axis_rule(kind, **settings)(i)


def axis_rule(
    kind: str, *, k: int = 1, s: int = 1, padding: int | str = 0, d: int = 1,
    op: int | None = None, ceil_mode: bool = False, ndim: int = 1,
    scale: float | None = None, size: int | None = None, mode: str = "nearest",
    padding_end: int | None = None, output_shape: int | None = None,
    convention: str = DEFAULT_CONVENTION,
) -> AxisFn:
    """One axis of one layer with its settings bound: input size -> `axis_layer`'s answer.

    The settings are checked here, once (Rejected when no input could fit them); the
    function returned raises Rejected for the inputs that do not fit.  The engines bind
    each setting once and map every size through it."""
    own = KINDS[kind].rule
    if own is not None:  # the same in every convention (an explicit pad's padding_end too)
        return _capped(kind, lambda i: own(i, padding=padding, padding_end=padding_end, mode=mode))
    onnx_fields(convention, padding_end, output_shape)
    pytorch_words = CONVENTION[convention].framework == "PyTorch"
    try:
        rule = ARITHMETIC[convention](kind, k, s, padding, padding_end, d, op, output_shape,
                                      ceil_mode, ndim, scale, size, mode)
    except Rejected as r:
        raise r if pytorch_words else _own_words(r) from None
    if pytorch_words:
        return _capped(kind, rule)

    def in_own_words(i: int) -> tuple[int, tuple[int, int] | None]:
        try:
            return rule(i)
        except Rejected as r:
            raise _own_words(r) from None

    return _capped(kind, in_own_words)


def _own_words(r: Rejected) -> Rejected:
    """The shared rules quote PyTorch's words; not another framework's."""
    return Rejected(r.rule, r.message.split(" (PyTorch: ")[0], r.field)


def _capped(kind: str, rule: AxisFn) -> AxisFn:
    """The rule, refusing outputs past the largest size convsolve works with."""
    def capped(i: int) -> tuple[int, tuple[int, int] | None]:
        out = rule(i)
        if out[0] > MAX_AXIS_SIZE:
            raise Rejected(Rule.SIZE_LIMIT, f"the output would be {out[0]}, past the largest size convsolve "
                           f"works with, {MAX_AXIS_SIZE:,} (2**31 - 1) per axis",
                           None if KINDS[kind].family == "resize" else "stride")
        return out

    return capped
