"""Every field of a bubble layout as one padded grid, for one numpy pass over all fields.

Fields differ in shape (a 1 × 4 booklet group, 11 × 10 identity digits, 20 × 5
answers); stacked into one (F, I, K) grid, padded where a field is smaller,
a median per field, option or item is one sort of the whole sheet instead of
a call per field.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from omr.forms import BubbleLayout


@dataclass(frozen=True, eq=False)
class FieldGrid:
    """``index`` (F, I, K): the bubble of field ``f``, item ``i``, option ``k`` (0 where
    padded); ``valid`` (F, I, K): the cells that are bubbles; ``cells`` (V,): their
    bubble indices in grid order, and ``at`` their (field, item, option) positions;
    ``answers`` (F,): the answer blocks; ``columns`` (F, K): the options each field has."""

    fields: tuple
    index: np.ndarray
    valid: np.ndarray
    cells: np.ndarray
    at: tuple[np.ndarray, np.ndarray, np.ndarray]
    answers: np.ndarray
    columns: np.ndarray
    _same: dict = field(default_factory=dict, repr=False)

    def same_option(self, f: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Field ``f``'s option ``k`` column, and the bubbles of every other field's
        column printed with the same label (in field order)."""
        if (f, k) not in self._same:
            own = self.fields[f].index[:, k]
            label = self.fields[f].option_labels[k]
            same = np.concatenate(
                [
                    g.index[:, g.option_labels.index(label)]
                    for g in self.fields
                    if label in g.option_labels
                ]
            )
            self._same[f, k] = own, same[~np.isin(same, own)]
        return self._same[f, k]


_GRIDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def field_grid(layout: BubbleLayout) -> FieldGrid:
    """The layout's fields on one padded grid (worked out once per layout)."""
    grid = _GRIDS.get(layout)
    if grid is None:
        fields = list(layout.fields.values())
        items = max((f.index.shape[0] for f in fields), default=0)
        options = max((f.index.shape[1] for f in fields), default=0)
        index = np.zeros((len(fields), items, options), dtype=np.intp)
        valid = np.zeros(index.shape, dtype=bool)
        columns = np.zeros((len(fields), options), dtype=bool)
        for k, f in enumerate(fields):
            columns[k, : f.index.shape[1]] = True
            i, j = f.index.shape
            index[k, :i, :j] = f.index
            valid[k, :i, :j] = True
        cells = index[valid]
        if len(np.unique(cells)) != len(cells):
            raise ValueError("fields of a layout share a bubble")
        answers = np.array([f.kind == "answers" for f in fields], dtype=bool)
        grid = _GRIDS[layout] = FieldGrid(
            tuple(fields), index, valid, cells, np.nonzero(valid), answers, columns
        )
    return grid


def masked_median(values: np.ndarray, mask: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Medians of ``values`` along ``axis`` over the entries ``mask`` keeps; counts.

    ``values`` is ``mask.shape`` or ``mask.shape + (...)``, ``axis`` one of
    the mask's axes; where a slice keeps nothing the median is NaN. Equal to
    ``np.median`` of each slice's kept entries (for finite values), in one
    sort instead of a call per slice.
    """
    extra = (1,) * (values.ndim - mask.ndim)
    keep = mask.reshape(mask.shape + extra)
    # Sorted along the last axis (contiguous: numpy's quick sort there), NaN last.
    ordered = np.sort(np.moveaxis(np.where(keep, values, np.nan), axis, -1), axis=-1)
    n = mask.sum(axis=axis)
    nn = n.reshape(n.shape + extra)
    at = ordered.shape[:-1] + (1,)
    lo = np.broadcast_to((np.maximum(nn - 1, 0) // 2)[..., None], at)
    hi = np.broadcast_to((nn // 2)[..., None], at)
    lower = np.take_along_axis(ordered, lo, -1)[..., 0]
    upper = np.take_along_axis(ordered, hi, -1)[..., 0]
    return np.where(nn > 0, (lower + upper) / 2, np.nan), n
