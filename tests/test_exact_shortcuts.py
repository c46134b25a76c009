"""Quicker ways to the same numbers: each equal, to the bit, to the call it replaces."""

from __future__ import annotations

import numpy as np

from omr.detect.rounding import rounded
from omr.detect.stats import sample_quantiles


def test_rounded_is_pythons_round_to_the_bit():
    rng = np.random.default_rng(7)
    for digits in (1, 3, 4):
        step = 10.0**-digits
        values = np.concatenate(
            [
                rng.normal(0, 1, 20_000),
                rng.normal(0, 1, 20_000).astype(np.float32),
                (np.arange(-20_000, 20_000) + 0.5) * step,  # halves, as near as floats get
                np.round(rng.uniform(-3, 3, 20_000), digits) + step / 2,
                [0.0, -0.0, -1e-9, 2.675, 1.0005, np.nan, np.inf, -np.inf, 1e300, -3e12],
            ]
        )
        got = rounded(values, digits).tolist()
        want = [round(v, digits) for v in values.tolist()]
        assert [repr(g) for g in got] == [repr(w) for w in want]


def test_sample_quantiles_are_numpys_to_the_bit():
    rng = np.random.default_rng(2)
    for samples in (81, 61, 11, 2, 1, 100):
        for dtype in (np.float32, np.float64):
            dark = rng.normal(size=(300, samples)).astype(dtype)
            dark[0, :3], dark[1] = -0.0, 0.0
            want = np.quantile(dark, (0.5, 0.9), axis=1)
            got = sample_quantiles(dark, (0.5, 0.9))
            for w, g in zip(want, got, strict=True):
                assert g.dtype == w.dtype
                assert np.array_equal(g, w) and np.array_equal(np.signbit(g), np.signbit(w))


def test_median_and_quantile_are_numpys_to_the_bit():
    from omr.detect.stats import median, percentile, quantile

    rng = np.random.default_rng(4)
    for n in [*range(1, 40), 99, 100, 101, 600, 677, 1000]:
        for kind in ("normal", "ties", "float32", "nan"):
            v = rng.normal(0.05, 0.02, n)
            if kind == "ties":
                v = np.round(v, 2)
            elif kind == "float32":
                v = v.astype(np.float32)
            elif kind == "nan" and n > 2:
                v[n // 2] = np.nan
            got, want = median(v), float(np.median(v))
            assert repr(got) == repr(want), (n, kind)
            for q in (0.0, 0.1, 0.25, 0.3333, 0.5, 0.9, 0.95, 0.99, 1.0):
                got, want = quantile(v, q), float(np.quantile(v, q))
                assert repr(got) == repr(want), (n, kind, q)
    for shape in [(676, 81), (37, 5), (1000,)]:
        grey = rng.uniform(0, 255, shape).astype(np.float32)
        assert repr(percentile(grey, 90.0)) == repr(float(np.percentile(grey, 90)))
        grey.ravel()[::7] = np.nan  # numpy's NaN, through its own call
        assert repr(percentile(grey, 90.0)) == repr(float(np.percentile(grey, 90)))
