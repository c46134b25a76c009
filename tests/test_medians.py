"""The checks' many medians at once (omr.detect.stats) equal np.median's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from omr.detect.stats import grouped_medians, median_last_axis


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 2, 3, 15, 16])
def test_median_last_axis_is_np_median(dtype, n):
    rng = np.random.default_rng(n)
    # Sampled grey levels over a contrast: many ties, as on a page.
    values = ((242.0 - rng.integers(0, 256, (50, 24, n))) / 203.0).astype(dtype)
    values[0] = values[0, 0]  # rows all alike
    got, want = median_last_axis(values), np.median(values, axis=-1)
    assert got.dtype == want.dtype
    assert got.tobytes() == want.tobytes()


def test_median_last_axis_keeps_nan():
    values = np.ones((3, 4), dtype=np.float32)
    values[1, 2] = np.nan
    assert np.isnan(median_last_axis(values)[1])
    assert median_last_axis(values)[0] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_medians_are_np_median(dtype):
    rng = np.random.default_rng(7)
    for _ in range(200):
        n_groups = int(rng.integers(1, 12))
        k = int(rng.integers(0, 120))
        groups = rng.integers(0, n_groups, k)
        values = rng.normal(0, 1, k).round(int(rng.integers(1, 4))).astype(dtype)  # ties
        values += 0.0  # no negative zero (which np.median may take for +0 or not)
        median, count = grouped_medians(values, groups, n_groups)
        assert median.dtype == dtype
        for g in range(n_groups):
            mine = values[groups == g]
            assert count[g] == len(mine)
            if len(mine):
                assert median[g].tobytes() == np.median(mine).tobytes()
            else:
                assert np.isnan(median[g])


@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
@pytest.mark.parametrize("n", [1, 2, 7, 276])
def test_median_last_axis_of_small_integers_is_np_median(dtype, n):
    # Grey levels and their row-to-row changes (the JPEG damage check's).
    rng = np.random.default_rng(n)
    values = rng.integers(0, 256, (3, 40, n)).astype(dtype)
    got, want = median_last_axis(values), np.median(values, axis=-1)
    assert got.dtype == want.dtype
    assert got.tobytes() == want.tobytes()
