"""Medians and quantiles as numpy gives them, to the same floats, from one sort.

numpy's median and quantile partition their input and cost tens of
microseconds a call in overhead; a sheet takes dozens of them on arrays of a
few hundred values. Each function here gives exactly what the numpy call it
names gives (tests/test_exact_shortcuts.py), and hands anything outside its
quick case (NaN, another dtype, fewer than two values) to numpy itself.
"""

from __future__ import annotations

import numpy as np


def _sorted_or_none(values) -> np.ndarray | None:
    """``values`` sorted, when they are a finite-or-infinite float64 vector of 2 or more."""
    v = np.asarray(values)
    if v.dtype != np.float64 or v.ndim != 1 or v.size < 2:
        return None
    ordered = np.sort(v)
    return None if np.isnan(ordered[-1]) else ordered  # NaN sorts last


def median(values) -> float:
    """``float(np.median(values))``."""
    ordered = _sorted_or_none(values)
    if ordered is None:
        return float(np.median(values))
    half = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[half])
    return (float(ordered[half - 1]) + float(ordered[half])) / 2  # np.median's mean of the two


def quantile(values, q: float) -> float:
    """``float(np.quantile(values, q))`` (linear) for a Python float ``q`` in [0, 1]."""
    ordered = _sorted_or_none(values)
    if ordered is None or type(q) is not float or not 0.0 <= q <= 1.0:
        return float(np.quantile(values, q))
    n = len(ordered)
    at = (n - 1) * q
    below = int(np.floor(at))
    if at >= n - 1:
        below = above = -1
    else:
        above = below + 1
    t = at - below  # as numpy: against the index it takes (-1 past the end)
    a, b = float(ordered[below]), float(ordered[above])
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
