"""Sets of sizes as sorted, disjoint, inclusive intervals, and the preimage of one
through a non-decreasing size rule (found by bisection: no inverse formula)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

Intervals = list[tuple[int, int]]  # sorted, disjoint, inclusive


def merge(ivs: Intervals) -> Intervals:
    out: Intervals = []
    for lo, hi in sorted(ivs):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def intersect(x: Intervals, y: Intervals) -> Intervals:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def contains(ivs: Intervals, v: int) -> bool:
    k = bisect_right(ivs, (v, float("inf"))) - 1
    return k >= 0 and ivs[k][0] <= v <= ivs[k][1]


def first_true(lo: int, hi: int, pred: Callable[[int], bool]) -> int | None:
    """Smallest i in [lo, hi] with pred(i), pred being false...true; None if none."""
    if lo > hi or not pred(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def preimage_of(f: Callable[[int], int], ivs: Intervals, target: Intervals) -> Intervals:
    """The inputs in ivs that f (non-decreasing, -1 below its valid inputs) maps into target."""
    out = []
    for lo, hi in ivs:
        for olo, ohi in target:
            first = first_true(lo, hi, lambda i: f(i) >= olo)
            if first is None or f(first) > ohi:
                continue
            after = first_true(first, hi, lambda i: f(i) > ohi)
            out.append((first, hi if after is None else after - 1))
    return out

