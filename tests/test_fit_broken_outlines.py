"""Grids of pale, broken outlines and digits touching them (Sandeep-1507): bubbles recovered.

Sandeep-1507's print (pale red, digits inside its bubbles) left outlines
open or their holes split by the digit: about 250 of its 870 bubbles were
rings to the finder, and its grids came out in 24 pieces.
"""

from __future__ import annotations

import cv2
import numpy as np

from omr.detect.layout import find_bubbles, find_grids
from omr.detect.layout.recover import in_pieces, recover_on_lattices
from omr.formfit import propose_form

PX = 150 / 25.4
ROWS, COLS = 30, 4


def _p(x_mm: float, y_mm: float) -> tuple[int, int]:
    return round(x_mm * PX), round(y_mm * PX)


def broken_sheet(seed: int = 5) -> np.ndarray:
    """Two blocks of 30 x 4 bubbles, 3.6 mm at a 5 mm pitch, most of them spoilt for the finder.

    A spoilt bubble has a gap in its outline (a pale print's break) or a
    digit's stroke joining its outline to its middle (a split hole); a few
    are filled in pencil.
    """
    rng = np.random.default_rng(seed)
    page = np.full((round(175 * PX), round(90 * PX)), 246, np.uint8)
    r, w = round(1.8 * PX), max(1, round(0.2 * PX))
    for x0 in (15, 55):
        for i in range(ROWS):
            mark = rng.integers(COLS)
            for j in range(COLS):
                c = _p(x0 + 5 * j, 15 + 5 * i)
                kind = rng.choice(["whole", "gap", "stroke"], p=[0.05, 0.5, 0.45])
                if kind == "gap":
                    start = int(rng.integers(0, 360))
                    cv2.ellipse(page, c, (r, r), 0, start + 40, start + 360, 120, w, cv2.LINE_AA)
                else:
                    cv2.circle(page, c, r, 120, w, cv2.LINE_AA)
                if kind == "stroke":
                    cv2.line(page, (c[0] - r // 2, c[1] - r), (c[0] + r // 3, c[1] + r), 120, w + 1)
                if j == mark and i % 3 == 0:
                    cv2.circle(page, c, r - 1, 50, -1, cv2.LINE_AA)
    return page


def test_the_finder_alone_leaves_the_grids_in_pieces():
    page = broken_sheet()
    bubbles = find_bubbles(page, PX)
    grids = [g for g in find_grids(bubbles, PX) if g.rows > 1 and g.cols > 1]
    assert len(bubbles) < 0.6 * 2 * ROWS * COLS and in_pieces(grids), len(bubbles)


def test_recovered_on_their_lattices_the_blocks_come_out_whole():
    page = broken_sheet()
    bubbles = find_bubbles(page, PX)
    more, n = recover_on_lattices(page, bubbles, find_grids(bubbles, PX), PX)
    assert len(more) == 2 * ROWS * COLS and n == len(more) - len(bubbles), (len(more), n)
    truth = np.array(
        [(x0 + 5 * j, 15 + 5 * i) for x0 in (15, 55) for i in range(ROWS) for j in range(COLS)]
    )
    d = np.hypot(*(more.xy[:, None] / PX - truth[None]).transpose(2, 0, 1))
    assert d.min(axis=1).max() < 0.3, d.min(axis=1).max()  # every one on a printed bubble
    prop = propose_form(page, PX, name="broken")
    blocks = list(prop.data["answer_blocks"].values())
    assert [(b["questions"], len(b["options"])) for b in blocks] == [(2 * ROWS, COLS)], blocks
    assert any("the finder missed" in note for note in prop.notes), prop.notes


def test_a_sheet_found_whole_is_left_as_it_is():
    page = np.full((round(175 * PX), round(90 * PX)), 246, np.uint8)
    for x0 in (15, 55):
        for i in range(ROWS):
            for j in range(COLS):
                cv2.circle(page, _p(x0 + 5 * j, 15 + 5 * i), round(1.8 * PX), 120, 1, cv2.LINE_AA)
    bubbles = find_bubbles(page, PX)
    more, n = recover_on_lattices(page, bubbles, find_grids(bubbles, PX), PX)
    assert n == 0 and more is bubbles
