"""Hand-checked cases for the per-axis formulas of solver/rules/pytorch.py.

Every expected value was worked out by hand from PyTorch's formulas and then confirmed
by running the torch module named in the comment (torch 2.13, CPU); none was copied from
convsolve's own output.  The generated comparison with torch is test_conformance_torch.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from solver import Rule
from solver import rules as A


def _at(rule: Any) -> Any:
    """A binding rule called as the formulas read: input first, then the settings."""
    def call(i: int, *settings: Any) -> int:
        return rule(*settings)(i)  # type: ignore[no-any-return]

    call.__name__ = rule.__name__
    return call


conv_at, conv_transpose_at, pool_at, avg_pool_at = map(_at, (A.conv, A.conv_transpose, A.pool, A.avg_pool))

# conv(i, k, s, pb, pe, d): floor((i + pb + pe - e)/s) + 1, e = d(k-1)+1
CONV = [
    ((572, 3, 1, 0, 0, 1), 570),  # U-Net's first conv, Conv1d(1, 1, 3)
    ((224, 7, 2, 3, 3, 1), 112),  # ResNet conv1: floor(223/2)+1
    ((6, 3, 2, 1, 1, 1), 3),  # floor(5/2)+1
    ((7, 3, 3, 0, 0, 1), 2),  # floor(4/3)+1: the last pixel is never read
    ((10, 3, 1, 0, 0, 2), 6),  # dilation 2: e = 5
    ((5, 5, 1, 0, 0, 1), 1),  # the kernel exactly fits
    ((1, 3, 1, 1, 1, 1), 1),  # a 1-pixel input, padded to 3
    ((7, 4, 1, 1, 2, 1), 7),  # padding='same' with an even kernel: 1 before, 2 after
]


@pytest.mark.parametrize(("args", "expected"), CONV)
def test_conv(args: tuple[int, ...], expected: int) -> None:
    assert conv_at(*args) == expected


# same_padding(k, d): total d(k-1), the extra pixel of an odd total at the end.
SAME = [
    ((1, 1), (0, 0)),
    ((3, 1), (1, 1)),
    ((4, 1), (1, 2)),
    ((6, 1), (2, 3)),
    ((2, 3), (1, 2)),  # even kernel, odd dilation: total 3
    ((4, 2), (3, 3)),  # even kernel, even dilation: total 6, symmetric
    ((5, 3), (6, 6)),
]


@pytest.mark.parametrize(("args", "expected"), SAME)
def test_same_padding(args: tuple[int, int], expected: tuple[int, int]) -> None:
    assert A.same_padding(*args) == expected


# conv_transpose(i, k, s, p, d, op): (i-1)s - 2p + d(k-1) + 1 + op
CONV_TRANSPOSE = [
    ((28, 4, 2, 1, 1, 0), 56),  # DCGAN's x2: ConvTranspose2d(.., 4, 2, 1)
    ((7, 3, 2, 1, 1, 0), 13),  # ConvTranspose2d(.., 3, 2, 1)
    ((7, 3, 2, 1, 1, 1), 14),  # ... and output_padding=1 makes it an exact x2
    ((4, 2, 3, 0, 1, 2), 13),  # op = s - 1, the largest allowed by the stride
    ((5, 3, 1, 0, 2, 1), 10),  # op = 1 >= stride 1 but < dilation 2: allowed
    ((3, 1, 1, 1, 1, 0), 1),  # padding eats all but one pixel
    ((1, 1, 1, 0, 1, 0), 1),
]


@pytest.mark.parametrize(("args", "expected"), CONV_TRANSPOSE)
def test_conv_transpose(args: tuple[int, ...], expected: int) -> None:
    assert conv_transpose_at(*args) == expected


# pool(i, k, s, p, d, ceil_mode): floor or ceil of (i + 2p - e)/s, plus 1; in ceil mode one
# less when the last window would start in the right padding, (out-1)s >= i + p.
POOL = [
    ((112, 3, 2, 1, 1, False), 56),  # ResNet's max pool
    ((112, 3, 2, 1, 1, True), 57),  # ceil(111/2)+1; its last window starts at 112 < 113
    ((6, 3, 2, 0, 1, False), 2),
    ((6, 3, 2, 0, 1, True), 3),  # ceil mode adds the window [4, 6], half outside
    # Ceil mode, last window in the right padding: ceil(5/2)+1 = 4 would start at
    # (4-1)*2 = 6 >= 5 + 1, so 3, the same as floor mode.  MaxPool1d(2, 2, 1, ceil_mode=True)
    ((5, 2, 2, 1, 1, True), 3),
    # ... and without padding: ceil(4/3)+1 = 3 would start at 6 >= 5.
    # MaxPool1d(1, 3, ceil_mode=True)
    ((5, 1, 3, 0, 1, True), 2),
    ((10, 3, 1, 0, 2, False), 6),  # dilation 2: e = 5
    ((4, 4, 1, 2, 1, False), 5),  # padding exactly half the kernel is allowed
]


@pytest.mark.parametrize(("args", "expected"), POOL)
def test_pool(args: tuple[Any, ...], expected: int) -> None:
    assert pool_at(*args) == expected


# avg_pool(i, k, s, p, ceil_mode, ndim)
AVG_POOL = [
    ((5, 6, 1, 3, False, 2), 6),  # AvgPool2d: the padded input 11 fits the kernel 6
    ((7, 2, 2, 1, True, 2), 4),  # ceil(7/2)+1 = 5 would start at 8 >= 7 + 1
    ((8, 2, 2, 0, False, 3), 4),
]


@pytest.mark.parametrize(("args", "expected"), AVG_POOL)
def test_avg_pool(args: tuple[Any, ...], expected: int) -> None:
    assert avg_pool_at(*args) == expected


UPSAMPLE = [
    ((7, 2.0, None), 14),
    ((7, 1.5, None), 10),  # floor(10.5)
    ((100, 0.29, None), 28),  # floor of the double 28.999999999999996, as torch computes it
    ((7, None, 5), 5),
]


@pytest.mark.parametrize(("args", "expected"), UPSAMPLE)
def test_upsample(args: tuple[Any, ...], expected: int) -> None:
    assert A.upsample(*args) == expected


def test_adaptive_pool() -> None:
    assert A.adaptive_pool(7, 3, 2) == 3
    assert A.adaptive_pool(7, 9, 1) == 9  # larger than the input: windows overlap
    assert A.adaptive_pool(7, None, 2) == 7  # None keeps the size, in 2d and 3d


def test_receptive_field_of_the_resnet_stem() -> None:
    r, j = A.receptive_step(1, 1, A.effective_kernel(7, 1), 2)  # conv1 7x7/2
    assert (r, j) == (7, 2)
    assert A.receptive_step(r, j, A.effective_kernel(3, 1), 2) == (11, 4)  # max pool 3x3/2
    assert A.effective_kernel(3, 2) == 5


# What PyTorch refuses, one rule at a time: (function, arguments, rule).
REJECTED: list[tuple[Any, tuple[Any, ...], Rule]] = [
    (conv_at, (8, 0, 1, 0, 0, 1), Rule.KERNEL_POSITIVE),
    (conv_at, (8, 3, 0, 0, 0, 1), Rule.STRIDE_POSITIVE),
    (conv_at, (8, 3, 1, 0, 0, 0), Rule.DILATION_POSITIVE),
    (conv_at, (8, 3, 1, -1, -1, 1), Rule.PADDING_NON_NEGATIVE),
    (conv_at, (4, 3, 1, 0, 0, 2), Rule.KERNEL_FITS_INPUT),  # e = 5 > 4
    (conv_at, (5, 3, 1, 0, 0, 3), Rule.KERNEL_FITS_INPUT),  # Conv2d(.., 3, dilation=3) on 5x5
    (conv_transpose_at, (5, 3, 2, 0, 1, 2), Rule.OUTPUT_PADDING_SMALLER),  # op = s, d = 1
    (conv_transpose_at, (5, 3, 2, 0, 2, 2), Rule.OUTPUT_PADDING_SMALLER),  # op = s = d
    (conv_transpose_at, (5, 3, 1, 0, 1, -1), Rule.OUTPUT_PADDING_NON_NEGATIVE),
    (conv_transpose_at, (2, 1, 1, 3, 1, 0), Rule.OUTPUT_POSITIVE),  # 1 - 6 + 1 = -4
    (conv_transpose_at, (1, 1, 1, 1, 1, 0), Rule.OUTPUT_POSITIVE),  # 0 - 2 + 1 = -1
    # 4 - 8 + 4 = 0: ATen refuses it (oneDNN's batched kernel may return an empty tensor)
    (conv_transpose_at, (2, 4, 4, 4, 1, 0), Rule.OUTPUT_POSITIVE),
    (pool_at, (5, 6, 6, 0, 1, False), Rule.OUTPUT_POSITIVE),  # MaxPool1d(6) on 5
    (pool_at, (8, 3, 1, 2, 2, False), Rule.POOL_PADDING_HALF_KERNEL),  # half of k, not of e
    (pool_at, (8, 3, 1, -1, 1, False), Rule.PADDING_NON_NEGATIVE),
    (avg_pool_at, (8, 4, 1, 3, False, 1), Rule.POOL_PADDING_HALF_KERNEL),
    (avg_pool_at, (5, 6, 1, 3, False, 3), Rule.AVG_POOL3D_INPUT_FITS_KERNEL),  # unpadded 5 < 6
    (A.upsample, (3, 0.3, None), Rule.OUTPUT_POSITIVE),
    (A.upsample, (3, 0.0, None), Rule.SCALE_POSITIVE),
    (A.adaptive_pool, (7, None, 1), Rule.ADAPTIVE_KEEP_NEEDS_2D),  # AdaptiveAvgPool1d(None)
    (A.upsample_mode, ("bilinear", 1), Rule.UPSAMPLE_MODE_NDIM),
    (A.upsample_mode, ("linear", 2), Rule.UPSAMPLE_MODE_NDIM),
    (A.upsample_mode, ("trilinear", 2), Rule.UPSAMPLE_MODE_NDIM),
]


@pytest.mark.parametrize(("fn", "args", "rule"), REJECTED,
                         ids=[f"{fn.__name__}{args}" for fn, args, _ in REJECTED])
def test_rejected(fn: Any, args: tuple[Any, ...], rule: Rule) -> None:
    with pytest.raises(A.Rejected) as exc:
        fn(*args)
    assert exc.value.rule == rule


@pytest.mark.parametrize(("mode", "ndim"), [("nearest", 1), ("nearest", 3), ("linear", 1),
                                            ("bilinear", 2), ("bicubic", 2), ("trilinear", 3)])
def test_upsample_modes_that_fit(mode: str, ndim: int) -> None:
    A.upsample_mode(mode, ndim)
