"""Every field of a bubble layout in padded groups, for one numpy pass over all fields.

Fields differ in shape (a 1 × 4 booklet group, 11 × 10 identity digits, 20 × 5
answers). Their bubbles are grouped three ways: by field, by option column
of a field, by item (a row: a question, a digit position). Each grouping is
one padded (G, L) array of bubble indices, so a median per field, per
option or per item is one sort of the whole sheet, not a call per field.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from omr.forms import BubbleLayout


@dataclass(frozen=True, eq=False)
class Groups:
    """``index`` (G, L): each group's bubbles (0 where padded); ``valid`` (G, L): which
    are bubbles; ``of`` (V,): the group of each of :attr:`FieldGrid.cells`."""

    index: np.ndarray
    valid: np.ndarray
    of: np.ndarray

    @classmethod
    def of_members(cls, members: list[np.ndarray], of: list[int]) -> Groups:
        width = max((len(m) for m in members), default=0)
        index = np.zeros((len(members), width), dtype=np.intp)
        valid = np.zeros(index.shape, dtype=bool)
        for g, m in enumerate(members):
            index[g, : len(m)], valid[g, : len(m)] = m, True
        return cls(index, valid, np.asarray(of, dtype=np.intp))


@dataclass(frozen=True, eq=False)
class FieldGrid:
    """``cells`` (V,): every field's bubbles, field by field, item by item; grouped by
    ``wholes`` (one group a field), ``options`` (a field's option column: its
    field and option in ``option_at``) and ``items`` (a field's row; ``answers``
    (G,): in an answer block)."""

    fields: tuple
    cells: np.ndarray
    wholes: Groups
    options: Groups
    option_at: tuple[tuple[int, int], ...]
    items: Groups
    answers: np.ndarray
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
    """The layout's fields in their three groupings (worked out once per layout)."""
    grid = _GRIDS.get(layout)
    if grid is None:
        fields = tuple(layout.fields.values())
        cells = np.concatenate([f.index.ravel() for f in fields] + [np.zeros(0, np.intp)])
        if len(np.unique(cells)) != len(cells):
            raise ValueError("fields of a layout share a bubble")
        wholes, whole_of, options, option_of, option_at, items, item_of, answers = [
            [] for _ in range(8)
        ]
        for fi, f in enumerate(fields):
            n_items, n_options = f.index.shape
            wholes.append(f.index.ravel())
            whole_of += [fi] * f.index.size
            option_of += (len(options) + np.tile(np.arange(n_options), n_items)).tolist()
            options += [f.index[:, k] for k in range(n_options)]
            option_at += [(fi, k) for k in range(n_options)]
            item_of += (len(items) + np.repeat(np.arange(n_items), n_options)).tolist()
            items += list(f.index)
            answers += [f.kind == "answers"] * n_items
        grid = _GRIDS[layout] = FieldGrid(
            fields,
            cells,
            Groups.of_members(wholes, whole_of),
            Groups.of_members(options, option_of),
            tuple(option_at),
            Groups.of_members(items, item_of),
            np.array(answers, dtype=bool),
        )
    return grid
