"""Medians and quantiles as numpy gives them, to the same floats, from one sort or partition.

numpy's median and quantile partition their input and cost tens of
microseconds a call in overhead; a sheet takes dozens of them on arrays of a
few hundred values. Each function here gives exactly what the numpy call it
names gives (tests/test_exact_shortcuts.py), and hands anything outside its
quick case (NaN, another dtype, fewer than two values) to numpy itself.
The registration checks take hundreds of medians a page, of rows of 16
samples or of a few dozen differences: :func:`median_last_axis` and
:func:`grouped_medians` take them all from one sort (tests/test_medians.py).
"""

from __future__ import annotations

import numpy as np


def median(values) -> float:
    """``float(np.median(values))`` (of all values), from one partition."""
    v = np.asarray(values)
    n = v.size
    if v.dtype not in (np.float32, np.float64) or n < 2:
        return float(np.median(values))
    half = n // 2
    part = np.partition(v.ravel(), (half - 1, half))
    if np.isnan(part[half:].max()):  # NaN sorts last, and max keeps it: numpy's NaN
        return float(np.median(values))
    if n % 2:
        return float(part[half])
    return float((part[half - 1] + part[half]) / 2)  # np.median's mean, in the values' dtype


def quantile(values, q: float) -> float:
    """``float(np.quantile(values, q))`` (linear, all values) for a Python float ``q``.

    The two samples it falls between from one partition, and numpy's own
    interpolation between them, in the values' own precision.
    """
    v = np.asarray(values)
    n = v.size
    if v.dtype not in (np.float32, np.float64) or n < 2 or type(q) is not float:
        return float(np.quantile(values, q))
    at = (n - 1) * q
    if not 0.0 <= at < n - 1:  # at the maximum (or q out of range): numpy itself
        return float(np.quantile(values, q))
    below = int(np.floor(at))
    t = at - below
    part = np.partition(v.ravel(), below)
    a, b = part[below], part[below + 1 :].min()  # NaN sorts last, and min keeps it
    if np.isnan(b):
        return float(np.quantile(values, q))
    step = b - a  # numpy's _lerp, on numpy scalars of the values' dtype
    return float(b - step * (1 - t) if t >= 0.5 else a + step * t)


def percentile(values, q: float) -> float:
    """``float(np.percentile(values, q))``: numpy's quantile at ``q / 100``."""
    return quantile(values, q / 100)


def byte_percentile(values: np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` of integers in 0..255 (uint8, or a difference
    of them), from their counts instead of a partition of every value."""
    flat = np.asarray(values).ravel()
    if flat.dtype.kind not in "iu" or flat.size < 2 or type(q) is not float:
        return float(np.percentile(values, q))
    counts = np.bincount(flat, minlength=256)  # a negative value refuses: numpy below
    n = flat.size
    at = (n - 1) * (q / 100)
    below = int(np.floor(at))
    if at >= n - 1:
        below = above = n - 1
        t = at + 1.0  # as numpy: against the index -1 it takes past the end
    else:
        above, t = below + 1, at - below
    a, b = np.searchsorted(np.cumsum(counts), [below, above], side="right").tolist()
    step = b - a
    return b - step * (1 - t) if t >= 0.5 else a + step * t  # numpy's _lerp


def sample_quantiles(dark: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """``np.quantile(dark, qs, axis=1)`` (linear), each (B,), to the same floats.

    Where every quantile falls on a sample (the 50th and 90th of a bubble's 81
    samples: the 41st and 73rd), it is that sample: one sort of the rows
    gives them all, far quicker than np.quantile's partition. Otherwise
    np.quantile itself.
    """
    at = [(dark.shape[1] - 1) * q for q in qs]
    if dark.shape[1] < 2 or not all(float(a).is_integer() for a in at):
        return list(np.quantile(dark, qs, axis=1))
    ordered = np.sort(dark, axis=1)
    # + 0.0: np.quantile adds its (zero) step to the sample, which makes a -0.0 +0.0
    return [ordered[:, int(a)].astype(np.float64) + 0.0 for a in at]


def group_medians(values: np.ndarray, keep: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
    """Medians of ``values`` (C, N) over each group's bubbles that ``keep`` (N,) keeps:
    (C, G), NaN where a group keeps none; and the counts (G,).

    ``groups`` has ``index`` and ``valid`` (G, L) (:class:`omr.detect.fieldgrid.Groups`).
    Equal to ``np.median`` of each group's kept values (for finite values).
    """
    kept = keep[groups.index] & groups.valid
    ordered = np.where(kept, values[:, groups.index], np.nan)  # (C, G, L)
    ordered.sort(axis=-1)  # NaN sorts last
    n = kept.sum(axis=1)
    g = np.arange(len(n))
    lower = ordered[:, g, np.maximum(n - 1, 0) // 2]
    upper = ordered[:, g, n // 2]
    return np.where(n > 0, (lower + upper) / 2, np.nan), n


def _middle(lo: np.ndarray, hi: np.ndarray, odd: np.ndarray) -> np.ndarray:
    """``np.median``'s arithmetic: the middle value, or the two middle ones summed in
    their type and halved."""
    halves = ((lo + hi).astype(np.float64) / 2).astype(lo.dtype)
    return np.where(odd, lo, halves)


def median_last_axis(values: np.ndarray) -> np.ndarray:
    """``np.median(values, axis=-1)``, by a sort (eight times as fast on rows of 16); no -0.0.

    Integers (levels or their differences) take numpy's radix sort, and their
    median is numpy's: the mean of the two middle ones, as a float.
    """
    n = values.shape[-1]
    if n and values.dtype.kind in "iu" and values.dtype.itemsize <= 2:
        ordered = np.sort(values, axis=-1, kind="stable")  # a radix sort for 8 and 16 bits
        return (ordered[..., (n - 1) // 2].astype(np.float64) + ordered[..., n // 2]) / 2
    if n == 0 or not np.issubdtype(values.dtype, np.floating) or np.isnan(values).any():
        return np.median(values, axis=-1)
    ordered = np.sort(values, axis=-1)
    return _middle(ordered[..., (n - 1) // 2], ordered[..., n // 2], np.array(n % 2 == 1))


def grouped_medians(
    values: np.ndarray, groups: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group ``0 .. n_groups - 1``: the median of the ``values`` (K,) in it, as
    ``np.median`` of them gives it, and their count; a group without any gets NaN.

    ``values`` are floating point, without NaN or -0.0 (a tie of -0.0 and 0.0 in
    the middle is taken in whichever order ``np.partition`` leaves it; the
    checks' differences and darknesses, of levels sampled at or above 0, are
    never -0.0).
    """
    count = np.bincount(groups, minlength=n_groups)
    median = np.full(n_groups, np.nan, dtype=values.dtype)
    if not len(values):
        return median, count
    ordered = values[np.lexsort((values, groups))]
    start = np.cumsum(count) - count
    some = count > 0
    lo = ordered[start[some] + (count[some] - 1) // 2]
    hi = ordered[start[some] + count[some] // 2]
    median[some] = _middle(lo, hi, count[some] % 2 == 1)
    return median, count
