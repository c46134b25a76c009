"""One pass over every field: the same baselines as a call per field."""

from __future__ import annotations

import numpy as np
import pytest

from omr.detect.decide import column_lift, field_baselines


def _baseline_per_field(values, empty, layout):
    """The baseline as it was worked out before: a loop over fields, np.median of each part."""
    base = np.full(values.shape, float(np.median(values[empty])))
    for f in layout.fields.values():
        idx = f.index.ravel()
        if empty[idx].sum() >= 3:
            base[idx] = np.median(values[idx][empty[idx]])
        for k in range(f.index.shape[1]):
            col = f.index[:, k][empty[f.index[:, k]]]
            if col.size >= 3:
                base[f.index[:, k]] = np.median(values[col])
        for i in range(f.index.shape[0]):
            row = f.index[i][empty[f.index[i]]]
            if row.size >= 3:
                base[f.index[i]] = np.maximum(base[f.index[i]], np.median(values[row]))
    return base


def _lift_per_field(darkness, quiet, layout, blank):
    lift = np.zeros(darkness.shape)
    for f in layout.fields.values():
        for k, label in enumerate(f.option_labels):
            col = f.index[:, k]
            if quiet[col].sum() >= 3:
                lift[col] = np.median(darkness[col][quiet[col]]) - blank
                continue
            same = np.concatenate(
                [
                    g.index[:, g.option_labels.index(label)]
                    for g in layout.fields.values()
                    if label in g.option_labels and g is not f
                ]
                + [np.zeros(0, dtype=int)]
            )
            same = same[quiet[same]]
            if same.size >= 3:
                lift[col] = float(np.median(darkness[same])) - blank
    return lift


@pytest.mark.parametrize("name", ["central", "quiz"])
def test_baselines_and_lift_equal_a_loop_over_fields(name, request):
    layout = request.getfixturevalue(name).layout
    rng = np.random.default_rng(5)
    for share in (0.9, 0.5, 0.1, 0.02):
        values = rng.normal(0.05, 0.02, len(layout)).astype(np.float32)
        empty = rng.random(len(layout)) < share
        (base,) = field_baselines([values], empty, layout)
        assert np.array_equal(base, _baseline_per_field(values, empty, layout))
        lift = column_lift(values, empty, layout, 0.05)
        assert np.array_equal(lift, _lift_per_field(values, empty, layout, 0.05))
