"""The exact engine's bounds rest on one property of PyTorch's rules: on every axis,
a layer's output never shrinks when its input grows, and an input that works keeps
working when it grows.  Checked over every setting of small domains, every kind."""

from __future__ import annotations

import itertools

import pytest

from solver.rules import Rejected, axis_output

SIZES = range(1, 70)
SETTINGS = {
    "conv": dict(k=range(1, 6), s=range(1, 4), padding=[0, 1, 2, "same", "valid"], d=range(1, 4)),
    "conv_transpose": dict(k=range(1, 6), s=range(1, 4), padding=range(0, 3), d=range(1, 3), op=range(0, 3)),
    "max_pool": dict(k=range(1, 6), s=range(1, 4), padding=range(0, 3), d=range(1, 3), ceil_mode=[False, True]),
    "avg_pool": dict(k=range(1, 6), s=range(1, 4), padding=range(0, 3), ceil_mode=[False, True], ndim=[1, 3]),
    "upsample": dict(scale=[0.3, 0.5, 1.0, 1.5, 2.0, 3.7]),
    "adaptive_avg_pool": dict(size=[1, 3, 7, None], ndim=[2]),
}


def _out(kind: str, i: int, setting: dict[str, object]) -> int | None:
    try:
        return axis_output(kind, i, **setting)  # type: ignore[arg-type]
    except Rejected:
        return None


@pytest.mark.parametrize("kind", sorted(SETTINGS))
def test_output_grows_with_input_and_validity_is_kept(kind: str) -> None:
    names = list(SETTINGS[kind])
    checked = 0
    for values in itertools.product(*SETTINGS[kind].values()):
        setting = dict(zip(names, values, strict=True))
        outs = [_out(kind, i, setting) for i in SIZES]
        valid = [o for o in outs if o is not None]
        if not valid:
            continue
        first = next(n for n, o in enumerate(outs) if o is not None)
        assert all(o is not None for o in outs[first:]), (kind, setting)  # stays valid
        assert valid == sorted(valid), (kind, setting)  # never shrinks
        checked += 1
    assert checked  # settings that run at some size were seen


MODES = {"tensorflow": ["same", "valid"], "onnx": [0, 1, 2, "same_upper", "same_lower", "valid"]}
CONVENTION_SETTINGS = {
    "conv": dict(k=range(1, 6), s=range(1, 4), d=range(1, 3)),
    "conv_transpose": dict(k=range(1, 6), s=range(1, 4), d=range(1, 3), op=[None, 0, 1, 2]),
    "max_pool": dict(k=range(1, 5), s=range(1, 5), d=range(1, 3), ceil_mode=[False, True]),
    "avg_pool": dict(k=range(1, 5), s=range(1, 5), ceil_mode=[False, True]),
}


@pytest.mark.parametrize("convention", sorted(MODES))
@pytest.mark.parametrize("kind", sorted(CONVENTION_SETTINGS))
def test_the_same_in_the_other_conventions(kind: str, convention: str) -> None:
    """Also in TensorFlow's and ONNX's rules, with one exception that the exact engine
    knows of (CompiledRule.envelope): onnxruntime's MaxPool with SAME_* and a stride longer
    than the window refuses sizes that recur; one works in every `stride` consecutive sizes."""
    names = ["padding", *CONVENTION_SETTINGS[kind]]
    checked = 0
    for values in itertools.product(MODES[convention], *CONVENTION_SETTINGS[kind].values()):
        setting = dict(zip(names, values, strict=True), convention=convention)
        outs = [_out(kind, i, setting) for i in SIZES]
        valid = [o for o in outs if o is not None]
        if not valid:
            continue
        first = next(n for n, o in enumerate(outs) if o is not None)
        assert valid == sorted(valid), setting  # never shrinks
        if convention == "onnx" and kind == "max_pool" and isinstance(setting["padding"], str):
            s = int(setting["s"])  # type: ignore[call-overload]
            assert all(any(o is not None for o in outs[n:n + s]) for n in range(first, len(outs) - s)), setting
        else:
            assert all(o is not None for o in outs[first:]), setting  # stays valid
        checked += 1
    assert checked
